-- Fuzz regressions: every input under fuzz/regressions/<target>/ (each
-- once crashed, hung or broke an invariant in a fuzz target) and the seed
-- corpora under fuzz/corpus/<target>/ go through the target's driver
-- (fuzz/drivers/<target>.lua) again, in the aerun executable: no clang
-- needed, and under make test-asan with the sanitizers.  fuzz/replay.lua
-- exits non-zero when a driver finds a defect; a crash or a hang (killed
-- after 120 s) fails as well.
local root = os.getenv("PWD")
local aerun = os.getenv("AERUN_BIN") or "build/aerun"
if aerun:sub(1, 1) ~= "/" then aerun = root .. "/" .. aerun end

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function exists(path)
  local ok = os.execute("test -e " .. quote(path))
  return ok == true
end

local targets = {}
for line in io.popen("ls " .. quote(root .. "/fuzz/drivers")):lines() do
  local name = line:match("^(.-)%.lua$")
  if name and name ~= "common" then targets[#targets + 1] = name end
end

describe("fuzz regressions and seeds", function()
  it("exist for every target", function()
    assert.is_true(#targets >= 4)
    for _, t in ipairs(targets) do
      assert.is_true(exists(root .. "/fuzz/corpus/" .. t), "no seeds for " .. t)
    end
  end)

  for _, t in ipairs(targets) do
    it("replay cleanly through the " .. t .. " driver", function()
      local dirs = {}
      for _, d in ipairs { "regressions", "corpus" } do
        local p = root .. "/fuzz/" .. d .. "/" .. t
        if exists(p) then dirs[#dirs + 1] = quote(p) end
      end
      local cmd = string.format("cd %s && OPENBLAS_NUM_THREADS=1 timeout -s KILL 120 %s fuzz/replay.lua %s %s 2>&1",
        quote(root), quote(aerun), t, table.concat(dirs, " "))
      local p = io.popen(cmd)
      local out = p:read("a")
      local ok = p:close()
      assert.is_true(ok, out)
      assert.matches(t .. ": %d+ inputs, 0 failed", out)
    end)
  end
end)
