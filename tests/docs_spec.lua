-- docs_spec.lua: every ```lua and ```python block of README.md and
-- docs/*.md runs as a whole script and exits 0, so the examples a reader
-- copies work as printed.  A Lua block runs under the aerun executable, a
-- Python block under /usr/bin/python3 (skipped, saying why, when h5py or
-- torch is missing there).  Each runs in an empty directory that has `data`,
-- `experiments`, `examples` and `tools` beside it, as in the source tree.  An HTML comment on
-- the line before a block says how CI runs it:
--
--   <!-- doc-test: --epochs=1 --limit=300 -->     arguments for a Lua block
--   <!-- doc-test: setup experiments/ae_mnist.lua --epochs=1 -->
--                                                 an aerun run first (what
--                                                 the example reads)
--
-- Fragments that cannot run alone are written as ```text, not ```lua.
local process = require "tests.helpers.process"
local quote, sh = process.quote, process.sh

local PYTHON = "/usr/bin/python3"

local function doc_files()
  local files = { "README.md" }
  local out = sh("ls " .. quote(process.root) .. "/docs/*.md 2>/dev/null")
  for path in out:gmatch("[^\n]+") do files[#files + 1] = path:sub(#process.root + 2) end
  return files
end

-- the runnable blocks of a Markdown file: {line, lang, code, args, setup}
local function blocks(file)
  local found, lines = {}, {}
  for line in (process.read(process.root .. "/" .. file) .. "\n"):gmatch("([^\n]*)\n") do
    lines[#lines + 1] = line
  end
  local i = 1
  while i <= #lines do
    local lang = lines[i]:match("^```(%a+)%s*$")
    if lang == "lua" or lang == "python" then
      local directive = (lines[i - 1] or ""):match("^<!%-%- doc%-test: (.-) %-%->$") or ""
      local setup = directive:match("^setup (.*)$")
      local start, code = i, {}
      i = i + 1
      while i <= #lines and not lines[i]:match("^```") do
        code[#code + 1] = lines[i]
        i = i + 1
      end
      found[#found + 1] = { line = start, lang = lang, code = table.concat(code, "\n") .. "\n",
        args = setup and "" or directive, setup = setup }
    end
    i = i + 1
  end
  return found
end

local python_missing
do
  local _, ok = sh(PYTHON .. " -c 'import h5py, torch'")
  if not ok then python_missing = PYTHON .. " cannot import h5py and torch (apt-get install python3-h5py python3-torch)" end
end

describe("the documentation's examples", function()
  local total = 0
  for _, file in ipairs(doc_files()) do
    for _, b in ipairs(blocks(file)) do
      total = total + 1
      it(string.format("%s:%d (%s) runs as printed", file, b.line, b.lang), function()
        if b.lang == "python" and python_missing then
          pending("skipped: " .. python_missing)
          return
        end
        local dir = process.tmpdir()
        for _, link in ipairs { "data", "experiments", "examples", "tools" } do
          assert(os.execute("ln -s " .. quote(process.root .. "/" .. link) .. " " .. quote(dir .. "/" .. link)))
        end
        local cd = "cd " .. quote(dir) .. " && "
        if b.setup then
          local out, ok = sh(cd .. quote(process.aerun) .. " " .. b.setup .. " </dev/null")
          assert(ok, string.format("%s:%d: the setup `aerun %s` failed:\n%s", file, b.line, b.setup, out))
        end
        local script = dir .. (b.lang == "lua" and "/example.lua" or "/example.py")
        local f = assert(io.open(script, "w"))
        f:write(b.code)
        f:close()
        local run = b.lang == "lua" and quote(process.aerun) .. " example.lua " .. b.args or PYTHON .. " example.py"
        local out, ok, code = sh(cd .. run .. " </dev/null")
        os.execute("rm -rf " .. quote(dir))
        assert(ok, string.format("%s:%d exited with %s:\n%s", file, b.line, tostring(code), out))
      end)
    end
  end

  it("finds the README's examples", function()
    -- the README's quick start, a module, a sweep and the PyTorch snippet
    assert.is_true(total >= 4, "found " .. total .. " runnable blocks")
  end)
end)
