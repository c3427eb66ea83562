-- `make install` gives a self-contained executable and module: both work
-- from another directory with no Lua files of the project on any path.
-- It installs the files the rockspec installs (tests/rock_spec.lua).
local installed = require "tests.helpers.installed"

describe("make install", function()
  it("installs an aerun that runs scripts anywhere, and a module lua5.4 can require", function()
    local prefix = os.tmpname()
    os.remove(prefix)
    local build = os.getenv("BUILD") or "build"
    local log = os.tmpname()
    assert.is_true(os.execute(string.format("make -s install BUILD=%q PREFIX=%q >%q 2>&1", build, prefix, log)))
    assert.are.same(installed.expected(os.getenv("PWD")), installed.files(prefix))
    local script = prefix .. "/t.lua"
    local f = assert(io.open(script, "w"))
    f:write('local ae = require "aerun"\nprint((ae.ones(2, 3) * 2):sum():item(), ...)\n')
    f:close()
    local p = io.popen(string.format("cd / && env -u LUA_PATH -u LUA_CPATH %q/bin/aerun %q x 2>&1", prefix, script))
    local out = p:read("a")
    p:close()
    assert.are.equal("12.0\tx\n", out)
    p = io.popen(string.format("cd / && LUA_CPATH=%q lua5.4 %q y 2>&1", prefix .. "/lib/lua/5.4/?.so", script))
    out = p:read("a")
    p:close()
    assert.are.equal("12.0\ty\n", out)
    os.execute(string.format("rm -rf %q %q", prefix, log))
  end)
end)
