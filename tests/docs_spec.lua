-- docs_spec.lua: every ```lua block of README.md and docs/*.md runs as a
-- whole script under the aerun executable and exits 0, so the examples a
-- reader copies work as printed.  A block runs in an empty directory that
-- has `data` and `experiments` beside it (as in the source tree).  An HTML
-- comment on the line before a block can give the command-line arguments
-- CI runs it with, to keep a long example short:
--
--   <!-- doc-test: --epochs=1 --limit=300 -->
--
-- Fragments that cannot run alone are written as ```text, not ```lua.
local process = require "tests.helpers.process"
local quote, sh = process.quote, process.sh

local function doc_files()
  local files = { "README.md" }
  local out = sh("ls " .. quote(process.root) .. "/docs/*.md 2>/dev/null")
  for path in out:gmatch("[^\n]+") do files[#files + 1] = path:sub(#process.root + 2) end
  return files
end

-- the ```lua blocks of a Markdown file: {line, code, args}
local function blocks(file)
  local found, lines = {}, {}
  for line in (process.read(process.root .. "/" .. file) .. "\n"):gmatch("([^\n]*)\n") do
    lines[#lines + 1] = line
  end
  local i = 1
  while i <= #lines do
    if lines[i]:match("^```lua%s*$") then
      local args = (lines[i - 1] or ""):match("^<!%-%- doc%-test: (.-) %-%->$") or ""
      local start, code = i, {}
      i = i + 1
      while i <= #lines and not lines[i]:match("^```") do
        code[#code + 1] = lines[i]
        i = i + 1
      end
      found[#found + 1] = { line = start, code = table.concat(code, "\n") .. "\n", args = args }
    end
    i = i + 1
  end
  return found
end

describe("the documentation's Lua examples", function()
  local total = 0
  for _, file in ipairs(doc_files()) do
    for _, b in ipairs(blocks(file)) do
      total = total + 1
      it(string.format("%s:%d runs as printed", file, b.line), function()
        local dir = process.tmpdir()
        for _, link in ipairs { "data", "experiments" } do
          assert(os.execute("ln -s " .. quote(process.root .. "/" .. link) .. " " .. quote(dir .. "/" .. link)))
        end
        local script = dir .. "/example.lua"
        local f = assert(io.open(script, "w"))
        f:write(b.code)
        f:close()
        local out, ok, code = sh("cd " .. quote(dir) .. " && " .. quote(process.aerun) .. " example.lua "
          .. b.args .. " </dev/null")
        os.execute("rm -rf " .. quote(dir))
        assert(ok, string.format("%s:%d exited with %s:\n%s", file, b.line, tostring(code), out))
      end)
    end
  end

  it("finds the README's examples", function()
    -- the README's quick start, a module and a sweep at least
    assert.is_true(total >= 3, "found " .. total .. " ```lua blocks")
  end)
end)
