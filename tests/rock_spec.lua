-- rock_spec.lua: the rockspec installs a working aerun with LuaRocks.
-- `luarocks make --tree=<tmp>` runs in a copy of the sources (the checkout
-- is left as it was), then a stock lua5.4 that has only that tree's paths
-- requires aerun and trains experiments/ae_mnist.lua for one epoch, with
-- the numbers of the build under test.  Pending when luarocks is not
-- installed (make test installs it: it is in the Makefile's DEBS).
local json = require "aerun.json"

local process = require "tests.helpers.process"
local installed = require "tests.helpers.installed"
local quote, sh, read, root = process.quote, process.sh, process.read, process.root

local has_luarocks = os.execute("command -v luarocks >/dev/null 2>&1") == true

-- The rock is built and run in the environment of a fresh shell: nothing
-- of the suite's build (BUILD, LUA_CPATH, the make that may have started
-- the suite and its MAKEFLAGS, test-asan's LD_PRELOAD) and no user
-- configuration of LuaRocks (HOME).  OPT=-O1 halves the build's time; the
-- results do not depend on it (-O1 and -O3 -march=x86-64-v3 train ae_mnist
-- to the same bits, which the last test checks against the suite's build).
local function clean_env(home)
  local unset = {}
  for _, v in ipairs { "BUILD", "CFLAGS", "LDFLAGS", "OPT", "CC", "MAKEFLAGS", "MFLAGS", "MAKELEVEL",
                       "LD_PRELOAD", "LUA_PATH", "LUA_CPATH", "LUA_PATH_5_4", "LUA_CPATH_5_4",
                       "LUA_INIT", "LUA_INIT_5_4", "LUAROCKS_CONFIG" } do
    unset[#unset + 1] = "-u " .. v
  end
  return string.format("env %s HOME=%s OPT=-O1 MAKEFLAGS=-j2", table.concat(unset, " "), quote(home))
end

-- the versions the sources state: the rockspecs' file names and version
-- fields, ae.version and AERUN_VERSION
local function stated_versions()
  local v = {}
  local p = assert(io.popen("cd " .. quote(root) .. " && ls *.rockspec"))
  for name in p:lines() do
    v[#v + 1] = { name, name:match("^aerun%-(.-)%-%d+%.rockspec$") or name }
    v[#v + 1] = { name .. "'s version", (read(root .. "/" .. name):match('\nversion%s*=%s*"(.-)%-%d+"')) }
  end
  p:close()
  v[#v + 1] = { "lua/aerun/init.lua", (read(root .. "/lua/aerun/init.lua"):match('ae%.version%s*=%s*"(.-)"')) }
  v[#v + 1] = { "runtime/core/version.h", (read(root .. "/runtime/core/version.h"):match('AERUN_VERSION%s+"(.-)"')) }
  return v
end

describe("the rockspec", function()
  if not has_luarocks then
    it("luarocks make", function() pending("luarocks is not installed (Debian package luarocks)") end)
    return
  end

  local dir, src, tree, env, built, build_log, sources_before
  -- a shell command run with the tree's paths, as `luarocks path` sets them
  local function in_tree(cmd)
    return string.format("cd %s && %s sh -c %s", quote(dir), env,
      quote('eval "$(luarocks --lua-version=5.4 --tree=' .. quote(tree) .. ' path)" && ' .. cmd))
  end

  setup(function()
    dir = process.tmpdir()
    src, tree = dir .. "/src", dir .. "/tree"
    env = clean_env(dir .. "/home")
    assert(os.execute(string.format(
      "mkdir -p %s %s && tar -C %s --exclude=./.git --exclude='./build*' --exclude=./data --exclude=./checkpoints -cf - . | tar -C %s -xf -",
      quote(src), quote(dir .. "/home"), quote(root), quote(src))))
    sources_before = installed.files(src)
    -- --lua-version: Debian's luarocks runs on Lua 5.1 and defaults to it
    build_log, built = sh(string.format("cd %s && %s luarocks --lua-version=5.4 make --tree=%s",
      quote(src), env, quote(tree)))
  end)
  teardown(function() os.execute("rm -rf " .. quote(dir)) end)

  it("states one version: the rockspec's, ae.version and AERUN_VERSION", function()
    local v = stated_versions()
    assert.is_true(#v >= 4, "no rockspec in the repository's root")
    for i = 2, #v do
      assert.are.equal(v[1][2], v[i][2], v[1][1] .. " says " .. tostring(v[1][2]) .. ", " .. v[i][1] .. " says " .. tostring(v[i][2]))
    end
  end)

  it("luarocks make installs into the tree the files make install installs, and leaves the sources alone", function()
    assert.is_true(built, build_log)
    local expected = installed.expected(root)
    assert.are.same(expected, installed.files(tree, { "lib/luarocks/" }))
    local prefix = dir .. "/prefix"
    local out, ok = sh(string.format("cd %s && %s make -s install PREFIX=%s", quote(src), env, quote(prefix)))
    assert.is_true(ok, out)
    assert.are.same(expected, installed.files(prefix))
    for _, f in ipairs(expected) do
      assert.is_true(os.execute(string.format("cmp -s %s %s", quote(tree .. "/" .. f), quote(prefix .. "/" .. f))),
        f .. " differs between the rock and make install")
    end
    -- the build went to the copy's build/, as make's does; nothing else
    -- appeared in the sources
    assert.are.same(sources_before, installed.files(src, { "build/" }))
  end)

  it("gives a stock lua5.4 the module, the Lua library compiled into it, and the executable", function()
    assert.is_true(built, build_log)
    local script = 'local ae, where = require "aerun"; local _, nn_where = require "aerun.nn"; ' ..
      'print(ae.version, where, nn_where, package.searchpath("aerun", package.cpath))'
    local out, ok = sh(in_tree("lua5.4 -e " .. quote(script)))
    assert.is_true(ok, out)
    local v = stated_versions()[1][2]
    -- lua5.4 searches package.path before package.cpath, so "aerun" is the
    -- installed init.lua; its first line requires aerun.core from aerun.so,
    -- which puts every other module of the library, compiled in, into
    -- package.preload, searched first of all
    assert.are.equal(table.concat({ v, tree .. "/share/lua/5.4/aerun/init.lua", ":preload:",
      tree .. "/lib/lua/5.4/aerun.so" }, "\t") .. "\n", out)
    out, ok = sh(in_tree("aerun -v"))
    assert.is_true(ok, out)
    assert.are.equal("aerun " .. v .. " ", out:sub(1, #v + 7))
  end)

  it("trains ae_mnist for one epoch in a stock lua5.4, with the build's numbers", function()
    assert.is_true(built, build_log)
    local args = " " .. quote(root .. "/experiments/ae_mnist.lua") .. " --epochs=1 --limit=2000 --quiet --out="
    local data = "AERUN_DATA=" .. quote(root .. "/data") .. " OPENBLAS_NUM_THREADS=1 "
    local out, ok = sh(in_tree(data .. "lua5.4" .. args .. quote(dir .. "/rock")))
    assert.is_true(ok, out)
    local line = out:match("result (%b{})%s*$")
    assert.is_truthy(line, out)
    local rock = json.decode(line)
    out, ok = sh(string.format("cd %s && %s%s%s%s", quote(dir), data, quote(process.aerun), args, quote(dir .. "/build")))
    assert.is_true(ok, out)
    local build = json.decode(assert(out:match("result (%b{})%s*$"), out))
    assert.are.equal(1, rock.epochs)
    assert.are.equal(build.parameters, rock.parameters)
    -- same sources, seed and data: the same float32 results to the last bit
    assert.are.equal(build.train_mse, rock.train_mse)
    assert.are.equal(build.test_mse, rock.test_mse)
    assert.is_truthy(read(dir .. "/rock/checkpoint.h5"), "no checkpoint written")
  end)
end)
