-- tests/helpers/installed.lua: what an installation of aerun holds, shared
-- by the specs of `make install` and of the rockspec, which install the
-- same files (the rockspec runs the Makefile's install target).
local process = require "tests.helpers.process"
local quote = process.quote

local M = {}

local function lines(cmd)
  local out = {}
  local p = assert(io.popen(cmd))
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  table.sort(out)
  return out
end

-- the files an installation puts under its prefix, relative to it and
-- sorted: the executable, the module, and the Lua library's sources
function M.expected(root)
  local list = { "bin/aerun", "lib/lua/5.4/aerun.so" }
  for _, path in ipairs(lines("cd " .. quote(root) .. " && ls lua/aerun/*.lua")) do
    list[#list + 1] = "share/lua/5.4/aerun/" .. path:match("[^/]+$")
  end
  table.sort(list)
  return list
end

-- the files under dir, relative to it and sorted, without those whose path
-- starts with one of the prefixes in skip
function M.files(dir, skip)
  local out = {}
  for _, path in ipairs(lines("cd " .. quote(dir) .. " && find . -type f -o -type l")) do
    path = path:sub(3)
    local keep = true
    for _, prefix in ipairs(skip or {}) do
      if path:sub(1, #prefix) == prefix then keep = false end
    end
    if keep then out[#out + 1] = path end
  end
  return out
end

return M
