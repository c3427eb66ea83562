-- layers_spec.lua: the runtime's layers are enforced by the build
-- (docs/architecture.md): only runtime/lua is compiled with Lua's include
-- path, and tools/layers.sh refuses an include across the layers' rules.
local process = require "tests.helpers.process"
local quote, sh = process.quote, process.sh

-- the command make uses to compile one object of the tree, with the
-- source and the object replaced
local function compile_command(object, source, out)
  local cmd = sh("cd " .. quote(process.root) .. " && make -s -n -B BUILD=build " .. object)
  local line = cmd:match("[^\n]*%-c runtime/[^\n]*")
  assert(line, "no compile command for " .. object .. " in:\n" .. cmd)
  line = line:gsub("%-c runtime/%S+", "-c " .. quote(source)):gsub("%-o %S+", "-o " .. quote(out))
  return "cd " .. quote(process.root) .. " && " .. line
end

describe("the layers", function()
  local dir

  before_each(function() dir = process.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. quote(dir)) end)

  local function write(path, text)
    os.execute("mkdir -p " .. quote(path:match("^(.*)/")))
    local f = assert(io.open(path, "w"))
    f:write(text)
    f:close()
  end

  it("compile a core or ops file without Lua's headers, a binding file with them", function()
    local probe = dir .. "/probe.c"
    write(probe, "#include <lua.h>\nint probe(void) { return LUA_OK; }\n")
    for _, object in ipairs { "build/obj/core/tensor.o", "build/obj/ops/unary.o", "build/obj/io/idx.o" } do
      local out, ok = sh(compile_command(object, probe, dir .. "/probe.o"))
      assert.is_falsy(ok, object .. "'s flags compiled a file that includes lua.h")
      assert.is_truthy(out:find("lua.h: No such file or directory", 1, true), out)
    end
    local out, ok = sh(compile_command("build/obj/lua/tensor.o", probe, dir .. "/probe.o"))
    assert(ok, out)
  end)

  it("are clean in this tree", function()
    local out, ok = sh("sh " .. quote(process.root .. "/tools/layers.sh"))
    assert(ok, out)
    assert.are.equal("", out)
  end)

  it("refuse an include across the rules, naming the file, the line and the rule", function()
    -- a copy of the checker over a small tree of its own
    os.execute("mkdir -p " .. quote(dir .. "/tools"))
    assert(os.execute("cp " .. quote(process.root .. "/tools/layers.sh") .. " " .. quote(dir .. "/tools/")))
    write(dir .. "/runtime/core/a.c", '#include "core/a.h"\n#include <stdio.h>\n')
    write(dir .. "/runtime/ops/b.c", '#include "core/a.h"\n#include "ops/b.h"\n')
    write(dir .. "/runtime/lua/c.c", '#include <lua.h>\n#include "ops/b.h"\n#include "io/d.h"\n')
    local out, ok = sh("sh " .. quote(dir .. "/tools/layers.sh"))
    assert(ok, out)

    write(dir .. "/runtime/core/a.c", '#include "core/a.h"\n#include "ops/b.h"\n#include <lauxlib.h>\n')
    write(dir .. "/runtime/ops/b.c", '#include "io/d.h"\n')
    write(dir .. "/runtime/io/d.c", '#include "lua/binding.h"\n#include <hdf5.h>\n')
    out, ok = sh("sh " .. quote(dir .. "/tools/layers.sh"))
    assert.is_falsy(ok)
    for _, want in ipairs {
      'runtime/core/a.c:2: the core layer includes "ops/b.h"; it may use only: core',
      "runtime/core/a.c:3: the core layer includes <lauxlib.h>; only runtime/lua may use Lua",
      'runtime/ops/b.c:1: the ops layer includes "io/d.h"; it may use only: core ops',
      'runtime/io/d.c:1: the io layer includes "lua/binding.h"; it may use only: core io',
      "layers: 4 include(s) break the layers' rules",
    } do
      assert.is_truthy(out:find(want, 1, true), "missing: " .. want .. "\nin:\n" .. out)
    end
    assert.is_falsy(out:find("hdf5", 1, true), out)
  end)
end)
