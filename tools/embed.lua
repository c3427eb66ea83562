-- embed.lua: writes C source that holds the Lua library's files as strings,
-- so that build/aerun and build/aerun.so need no Lua files beside them.
-- usage: lua5.4 tools/embed.lua lua/aerun/a.lua lua/aerun/b.lua > embedded_lua.c
local out = {}
local function emit(s) out[#out + 1] = s end

local function cstring(src)
  local parts = {}
  for i = 1, #src, 4000 do  -- C compilers cap a single literal's length
    local chunk = src:sub(i, i + 3999):gsub("[^%w ]", function(c)
      if c == "\\" or c == '"' or c == "?" then return "\\" .. c end
      if c:match("%p") then return c end
      return string.format("\\%03o", c:byte())
    end)
    parts[#parts + 1] = '"' .. chunk .. '"'
  end
  return table.concat(parts, "\n")
end

emit('#include "embedded_lua.h"\n')
emit("const lae_embedded lae_embedded_files[] = {")
for _, path in ipairs(arg) do
  local f = assert(io.open(path, "rb"))
  local src = f:read("a")
  f:close()
  local name = path:match("lua/(.-)%.lua$"):gsub("/", ".")
  name = name:gsub("%.init$", "")
  emit(string.format("{%q, %q,\n%s,\n%d},", name, "@" .. path, cstring(src), #src))
end
emit("{0, 0, 0, 0}};")
-- luaopen_aerun_<name> for each module, so that a stock lua5.4 with aerun.so
-- on its C path can require "aerun.json" before (or without) "aerun"
emit('\n#include "binding.h"')
for _, path in ipairs(arg) do
  local name = path:match("lua/(.-)%.lua$"):gsub("/", "."):gsub("%.init$", "")
  if name ~= "aerun" then
    emit(string.format("int luaopen_%s(lua_State *L) { return lae_require_embedded(L, %q); }",
      name:gsub("%.", "_"), name))
  end
end
io.write(table.concat(out, "\n"), "\n")
