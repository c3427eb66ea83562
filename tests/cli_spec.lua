-- cli_spec.lua: the aerun executable as a user meets it: options, `arg` and
-- `...`, error reports and exit codes, stdin, the REPL, ^C, and
-- require "aerun" with no Lua files around.  Runs $AERUN_BIN (default
-- build/aerun) on small scripts written to a temporary directory.

local process = require "tests.helpers.process"
local quote, read_all = process.quote, process.read

local function capture(cmd)
  local p = assert(io.popen(cmd))
  local s = p:read("l")
  p:close()
  return s
end

local ROOT = capture("pwd")
local BIN = os.getenv("AERUN_BIN") or "build/aerun"
if BIN:sub(1, 1) ~= "/" then BIN = ROOT .. "/" .. BIN end

describe("aerun executable", function()
  local dir

  setup(function()
    dir = capture("mktemp -d /tmp/aerun-cli-XXXXXX")
  end)

  teardown(function()
    os.execute("rm -rf " .. quote(dir))
  end)

  local function write(name, text)
    local path = dir .. "/" .. name
    local f = assert(io.open(path, "wb"))
    f:write(text)
    f:close()
    return path
  end

  -- runs aerun with the given words; opts.stdin (text), opts.cwd, opts.env
  -- (a string of NAME=value words for env).  Returns stdout, stderr, code.
  local function run(args, opts)
    opts = opts or {}
    local words = {}
    for i, a in ipairs(args) do words[i] = quote(a) end
    local input = opts.stdin and quote(write("stdin.txt", opts.stdin)) or "/dev/null"
    local out, err = dir .. "/stdout.txt", dir .. "/stderr.txt"
    local cmd = string.format("env -u LUA_INIT -u LUA_INIT_5_4 %s %s %s < %s > %s 2> %s",
                              opts.env or "", quote(BIN), table.concat(words, " "),
                              input, quote(out), quote(err))
    if opts.cwd then cmd = "cd " .. quote(opts.cwd) .. " && " .. cmd end
    local _, _, code = os.execute(cmd)
    return read_all(out), read_all(err), code
  end

  it("runs -e statements in order", function()
    local out, err, code = run{"-e", "x = 6", "-e", "print(x * 7)"}
    assert.are.equal("42\n", out)
    assert.are.equal("", err)
    assert.are.equal(0, code)
  end)

  it("prints aerun's version from runtime/core/version.h and Lua's with -v", function()
    local header = read_all(ROOT .. "/runtime/core/version.h")
    local version = header:match('#define%s+AERUN_VERSION%s+"([^"]+)"')
    assert.is_truthy(version)
    local out, _, code = run{"-v"}
    assert.are.equal(0, code)
    assert.are.equal(2, select(2, out:gsub("\n", "")))
    assert.is_truthy(out:find("aerun " .. version, 1, true))
    assert.is_truthy(out:find(_VERSION, 1, true))  -- "Lua 5.4"
  end)

  -- make deps installs Debian's libdnnl2, so a fresh install runs on
  -- oneDNN unless AERUN_GEMM says otherwise (make test-asan's leak check does)
  it("names the GEMM backend with its ISA, bf16 and the denormal mode with -v", function()
    local out, _, code = run{"-v"}
    assert.are.equal(0, code)
    local line = out:match("\nproducts: ([^\n]+)")
    assert.is_truthy(line, out)
    local forced = os.getenv("AERUN_GEMM")
    if not forced or forced == "" or forced == "dnnl" then
      assert.is_truthy(line:find("^oneDNN %d+%.%d+%.%d+ [%w_]+ %(%d+ threads?%)"), line)
    else
      assert.is_truthy(line:find("^OpenBLAS"), line)
    end
    assert.is_truthy(line:find("; bf16: ", 1, true), line)
    local expected = os.getenv("AERUN_DENORMALS") == "keep" and "denormals: kept" or "denormals: flushed to zero"
    assert.is_truthy(line:find(expected, 1, true), line)
  end)

  it("explains its options and script arguments with --help", function()
    local out, err, code = run{"--help"}
    assert.are.equal(0, code)
    assert.are.equal("", err)
    for _, opt in ipairs{"-e stat", "-l mod", "-l g=mod", "-i", "-v", "-E", "--help", "--key=value",
                         "ae.config"} do
      assert.is_truthy(out:find(opt, 1, true), "usage does not mention " .. opt)
    end
  end)

  it("rejects an unknown option, and says where script options go", function()
    local script = write("noop.lua", "print('ran')\n")
    local out, err, code = run{"--epochs=3", script}
    assert.are.equal(1, code)
    assert.are.equal("", out)
    assert.is_truthy(err:find("^aerun: .*'%-%-epochs=3'"))
    assert.is_truthy(err:find("after its name", 1, true))
    local _, err2, code2 = run{"-z"}
    assert.are.equal(1, code2)
    assert.is_truthy(err2:find("'-z'", 1, true))
    local _, err3, code3 = run{"-e"}
    assert.are.equal(1, code3)
    assert.is_truthy(err3:find("'-e' needs an argument", 1, true))
  end)

  it("loads libraries with -l mod and -l g=mod", function()
    write("mymod.lua", "return {value = 6 * 7}\n")
    local env = "LUA_PATH=" .. quote(dir .. "/?.lua")
    local out, err, code = run({"-l", "mymod", "-e", "print(mymod.value)"}, {env = env})
    assert.are.equal("42\n", out, err)
    assert.are.equal(0, code)
    out, err, code = run({"-l", "m=mymod", "-e", "print(m.value, mymod)"}, {env = env})
    assert.are.equal("42\tnil\n", out, err)
    assert.are.equal(0, code)
    out, err, code = run({"-lnosuchmod"}, {env = env})
    assert.are.equal(1, code)
    assert.is_truthy(err:find("^aerun: .*nosuchmod"))
  end)

  it("gives a script its arguments in arg and ...", function()
    local script = write("args.lua", [[
local n = select("#", ...)
io.write("n=", n, "\n")
for i = 1, n do io.write("dots[", i, "]=", (select(i, ...)), "\n") end
for i = -3, #arg do io.write("arg[", i, "]=", tostring(arg[i]), "\n") end
]])
    local out, err, code = run{"-e", "x=1", script, "a b", "--epochs=3", "-z"}
    assert.are.equal(0, code, err)
    local expected = table.concat({
      "n=3", "dots[1]=a b", "dots[2]=--epochs=3", "dots[3]=-z",
      "arg[-3]=" .. BIN, "arg[-2]=-e", "arg[-1]=x=1", "arg[0]=" .. script,
      "arg[1]=a b", "arg[2]=--epochs=3", "arg[3]=-z"}, "\n") .. "\n"
    assert.are.equal(expected, out)
  end)

  it("treats every word after the script as the script's, even aerun's options", function()
    local script = write("echo.lua", "print(table.concat({...}, ' '))\n")
    local out, _, code = run{script, "--help", "-v", "-e", "--", "-"}
    assert.are.equal(0, code)
    assert.are.equal("--help -v -e -- -\n", out)
  end)

  it("runs stdin with '-', and when there is no script and stdin is not a terminal", function()
    local out, err, code = run({"-", "x", "y"}, {stdin = "print(select('#', ...), arg[0], ...)\n"})
    assert.are.equal("2\t-\tx\ty\n", out, err)
    assert.are.equal(0, code)
    out, err, code = run({}, {stdin = "print(6 * 7, #arg)\n"})
    assert.are.equal("42\t0\n", out, err)
    assert.are.equal(0, code)
  end)

  it("runs a script named after '--'", function()
    local script = write("dd.lua", "print('dd', ...)\n")
    local out, _, code = run{"--", script, "-v"}
    assert.are.equal(0, code)
    assert.are.equal("dd\t-v\n", out)
  end)

  it("reports a runtime error with file:line and the script's traceback, and exits 1", function()
    local script = write("boom.lua", "local x = 1\n\nerror('boom ' .. x)\n")
    local out, err, code = run{script}
    assert.are.equal(1, code)
    assert.are.equal("", out)
    -- one frame of the script: its position is the message's, no traceback
    assert.are.equal("aerun: " .. script .. ":3: boom 1\n", err)
    script = write("deep.lua", "local function f(x)\n  error('deep ' .. x)\nend\nf(1)\n")
    _, err, code = run{script}
    assert.are.equal(1, code)
    assert.is_truthy(err:find("aerun: " .. script .. ":2: deep 1\nstack traceback:\n\t" .. script
      .. ":2: in local 'f'\n\t" .. script .. ":4: in main chunk\n", 1, true), err)
    script = write("arith.lua", "local t = nil\nreturn t.x\n")
    _, err, code = run{script}
    assert.are.equal(1, code)
    assert.is_truthy(err:find("aerun: " .. script .. ":2: attempt to index", 1, true), err)
  end)

  it("reports a syntax error with file:line and exits 1", function()
    local script = write("syntax.lua", "print('ok')\nlocal = 3\n")
    local out, err, code = run{script}
    assert.are.equal(1, code)
    assert.are.equal("", out)  -- nothing of the script ran
    assert.is_truthy(err:find("^aerun: " .. script:gsub("%p", "%%%0") .. ":2: .*near"), err)
  end)

  it("reports error objects that are not strings", function()
    local script = write("tableerr.lua", "error({code = 3})\n")
    local _, err, code = run{script}
    assert.are.equal(1, code)
    assert.is_truthy(err:find("aerun: (error object is a table value)", 1, true), err)
    script = write("niler.lua", "error()\n")
    _, err, code = run{script}
    assert.are.equal(1, code)
    assert.is_truthy(err:find("aerun: (error object is a nil value)", 1, true), err)
    script = write("tostr.lua",
      "error(setmetatable({}, {__tostring = function() return 'custom ' .. 42 end}))\n")
    _, err, code = run{script}
    assert.are.equal(1, code)
    assert.is_truthy(err:find("aerun: custom 42", 1, true), err)
  end)

  it("reports a missing script", function()
    local _, err, code = run{dir .. "/nope.lua"}
    assert.are.equal(1, code)
    assert.is_truthy(err:find("^aerun: cannot open " .. dir:gsub("%p", "%%%0") .. "/nope%.lua"), err)
  end)

  it("passes os.exit's status through", function()
    local _, _, code = run{"-e", "os.exit(5)"}
    assert.are.equal(5, code)
  end)

  it("finds require 'aerun' in itself, from any directory, with no Lua paths", function()
    local script = write("req.lua", [[
local ae = require "aerun"
print(type(ae), package.loaded.aerun == ae, package.preload.aerun ~= nil)
]])
    local out, err, code = run({script}, {cwd = "/tmp", env = "-u LUA_PATH -u LUA_CPATH"})
    assert.are.equal("table\ttrue\ttrue\n", out, err)
    assert.are.equal(0, code)
    out, err, code = run({"-E", script}, {cwd = "/"})
    assert.are.equal("table\ttrue\ttrue\n", out, err)
    assert.are.equal(0, code)
  end)

  it("finds the library's modules even before require 'aerun'", function()
    local out, err, code = run({"-e", "local c = require 'aerun.config'; print(type(c), " ..
                                      "require('aerun').config == c)"},
                               {cwd = "/tmp", env = "-u LUA_PATH -u LUA_CPATH"})
    assert.are.equal("table\ttrue\n", out, err)
    assert.are.equal(0, code)
    out, err, code = run({"-e", "require 'aerun.nosuch'"}, {cwd = "/tmp"})
    assert.are.equal(1, code)
    assert.is_truthy(err:find("module 'aerun.nosuch' not found", 1, true), err)
  end)

  it("ignores LUA_PATH with -E", function()
    write("shadow.lua", "return 'from LUA_PATH'\n")
    local env = "LUA_PATH=" .. quote(dir .. "/?.lua")
    local code_text = "print(pcall(require, 'shadow'))"
    local out = run({"-e", code_text}, {env = env})
    assert.is_truthy(out:find("from LUA_PATH", 1, true))
    out = run({"-E", "-e", code_text}, {env = env})
    assert.is_truthy(out:find("^false"))
  end)

  it("runs LUA_INIT before the script", function()
    local script = write("init.lua", "print(init_value)\n")
    local out, err, code = run({script}, {env = "LUA_INIT='init_value = 11'"})
    assert.are.equal("11\n", out, err)
    assert.are.equal(0, code)
  end)

  it("reads piped input in -i mode: expressions print, statements span lines", function()
    local input = table.concat({
      "1 + 1",
      "x = 5",
      "x * 2",
      "function f()",
      "  return 'multi', nil, 3",
      "end",
      "f()",
      "error('oops')",
      "print('after error')",
      ""}, "\n")
    local out, err, code = run({"-i"}, {stdin = input})
    assert.are.equal(0, code)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    -- the banner first (-i shows the version, as lua does), then the results
    assert.is_truthy(lines[1]:find("^aerun "))
    assert.are.same({"2", "10", "multi\tnil\t3", "after error"}, {table.unpack(lines, 2)})
    assert.is_truthy(err:find("aerun: stdin:1: oops", 1, true), err)
  end)

  it("enters -i after the script, with the script's globals", function()
    local script = write("globals.lua", "answer = 6 * 7\n")
    local out, _, code = run({"-i", script}, {stdin = "answer + 1\n"})
    assert.are.equal(0, code)
    assert.is_truthy(out:find("\n43\n", 1, true), out)
  end)

  it("stops a script on SIGINT with a Lua error, not a crash", function()
    local ready = dir .. "/ready"
    local script = write("spin.lua", string.format([[
local f = assert(io.open(%q, "w")); f:close()
local t0 = os.time()
while os.time() - t0 < 20 do end
print("not interrupted")
]], ready))
    local out, err = dir .. "/spin.out", dir .. "/spin.err"
    local cmd = string.format(
      "%s %s > %s 2> %s & pid=$!; " ..
      "i=0; while [ ! -e %s ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; " ..
      "kill -INT $pid; wait $pid; exit $?",
      quote(BIN), quote(script), quote(out), quote(err), quote(ready))
    local _, _, code = os.execute(cmd)
    assert.are.equal(1, code)
    assert.are.equal("", read_all(out))
    local text = read_all(err)
    assert.is_truthy(text:find("^aerun: [^\n]*interrupted!\n"), text)
    assert.is_truthy(text:find("spin.lua:3", 1, true), text)
  end)
end)
