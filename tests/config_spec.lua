-- config_spec.lua: ae.config, the --key=value reader.  The module is loaded
-- from its source file (lua/aerun/config.lua) for the unit tests, and run
-- through the executable ($AERUN_BIN, default build/aerun) as a script
-- meets it, as require("aerun").config.

local function quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function capture(cmd)
  local p = assert(io.popen(cmd))
  local s = p:read("l")
  p:close()
  return s
end

local ROOT = capture("pwd")
local SOURCE = debug.getinfo(1, "S").source:match("^@(.*)tests/config_spec%.lua$")
local config = assert(loadfile((SOURCE or "") .. "lua/aerun/config.lua"))()

-- the error message of config.parse(defaults, argv), without the
-- "file:line: ae.config.parse: " that every library error starts with
local function parse_error(defaults, argv)
  local ok, err = pcall(config.parse, defaults, argv)
  assert.is_false(ok, "expected an error")
  local rest = err:match("^[^:]+:%d+: ae%.config%.parse: (.*)$")
  assert.is_not_nil(rest, err)
  return rest
end

describe("ae.config", function()
  local defaults = {epochs = 10, lambda = 1e-3, name = "vae", verbose = false,
                    kl_warmup = 5, shuffle = true}

  it("returns the defaults, copied, when nothing is given", function()
    local cfg, explicit = config.parse(defaults, {})
    assert.are_not.equal(defaults, cfg)
    assert.are.same(defaults, cfg)
    assert.are.same({}, explicit)
  end)

  it("reads integers, floats, strings and booleans by the defaults' types", function()
    local cfg = config.parse(defaults, {"--epochs=3", "--lambda=2.5e-4", "--name=ae=x",
                                        "--verbose", "--kl_warmup=0x10"})
    assert.are.equal(3, cfg.epochs)
    assert.are.equal("integer", math.type(cfg.epochs))
    assert.are.equal(2.5e-4, cfg.lambda)
    assert.are.equal("ae=x", cfg.name)       -- split at the first "="
    assert.is_true(cfg.verbose)
    assert.are.equal(16, cfg.kl_warmup)
    assert.is_true(cfg.shuffle)              -- untouched default
  end)

  it("stores numbers given for a float default as floats", function()
    local cfg = config.parse({lr = 0.1}, {"--lr=2"})
    assert.are.equal(2.0, cfg.lr)
    assert.are.equal("float", math.type(cfg.lr))
    assert.are.equal(16.0, config.parse({lr = 0.1}, {"--lr=0x10"}).lr)
    assert.are.equal(1e-3, config.parse({lr = 0.1}, {"--lr=1e-3"}).lr)
  end)

  it("accepts integers written as exact floats and rejects fractions", function()
    assert.are.equal(1000, config.parse(defaults, {"--epochs=1e3"}).epochs)
    assert.are.equal("integer", math.type(config.parse(defaults, {"--epochs=4.0"}).epochs))
    local err = parse_error(defaults, {"--epochs=2.5"})
    assert.are.equal('--epochs expects an integer, got "2.5"', err)
    err = parse_error(defaults, {"--epochs=abc"})
    assert.are.equal('--epochs expects an integer, got "abc"', err)
    err = parse_error(defaults, {"--epochs=1e30"})
    assert.is_truthy(err:find("expects an integer", 1, true))
  end)

  it("names the expected type of a bad number or boolean", function()
    assert.are.equal('--lambda expects a number, got "fast"',
                     parse_error(defaults, {"--lambda=fast"}))
    local err = parse_error(defaults, {"--verbose=maybe"})
    assert.is_truthy(err:find('^%-%-verbose expects a boolean .*got "maybe"$'), err)
    err = parse_error(defaults, {"--epochs"})
    assert.is_truthy(err:find("--epochs expects an integer", 1, true), err)
    assert.is_truthy(err:find("--epochs=", 1, true), err)
  end)

  it("reads booleans as --flag, --flag=value and --no-flag", function()
    for _, case in ipairs{{"--verbose", true}, {"--verbose=true", true}, {"--verbose=YES", true},
                          {"--verbose=1", true}, {"--verbose=on", true},
                          {"--verbose=false", false}, {"--verbose=no", false},
                          {"--verbose=0", false}, {"--verbose=off", false}} do
      assert.are.equal(case[2], config.parse(defaults, {case[1]}).verbose, case[1])
    end
    local cfg, explicit = config.parse(defaults, {"--no-shuffle"})
    assert.is_false(cfg.shuffle)
    assert.is_true(explicit.shuffle)
    assert.is_truthy(parse_error(defaults, {"--no-shuffle=1"}):find("takes no value", 1, true))
    assert.is_truthy(parse_error(defaults, {"--no-epochs"}):find("not a boolean", 1, true))
  end)

  it("treats - and _ in names as the same", function()
    local cfg, explicit = config.parse(defaults, {"--kl-warmup=7"})
    assert.are.equal(7, cfg.kl_warmup)
    assert.is_true(explicit.kl_warmup)
    assert.are.equal(8, config.parse(defaults, {"--kl_warmup=8"}).kl_warmup)
    local dashed = config.parse({["batch-size"] = 64}, {"--batch_size=32"})
    assert.are.equal(32, dashed["batch-size"])
    assert.is_false(config.parse({dry_run = true}, {"--no-dry-run"}).dry_run)
  end)

  it("keeps the last of a repeated key", function()
    local cfg = config.parse(defaults, {"--epochs=1", "--lambda=0.5", "--epochs=2"})
    assert.are.equal(2, cfg.epochs)
    assert.are.equal(0.5, cfg.lambda)
  end)

  it("rejects an unknown key, lists the known ones and suggests a close one", function()
    local err = parse_error(defaults, {"--lamda=3"})
    assert.are.equal("unknown option --lamda (did you mean --lambda?); known options: "
                     .. "--epochs, --kl_warmup, --lambda, --name, --shuffle, --verbose", err)
    err = parse_error(defaults, {"--epoch=3"})
    assert.is_truthy(err:find("did you mean --epochs?", 1, true), err)
    err = parse_error(defaults, {"--zzzzzz=1"})
    assert.is_nil(err:find("did you mean", 1, true))
    assert.is_truthy(err:find("^unknown option %-%-zzzzzz; known options: %-%-epochs"), err)
  end)

  it("rejects positional words unless the defaults collect them in args", function()
    local err = parse_error(defaults, {"--epochs=2", "data.idx", "extra"})
    assert.is_truthy(err:find('unexpected arguments "data.idx", "extra"', 1, true), err)
    local cfg, explicit = config.parse({epochs = 1, args = {"first"}},
                                       {"a", "--epochs=4", "b", "--", "--not-an-option"})
    assert.are.same({"first", "a", "b", "--not-an-option"}, cfg.args)
    assert.are.equal(4, cfg.epochs)
    assert.is_true(explicit.args)
  end)

  it("passes table defaults through but will not set them", function()
    local schedule = {1, 2}
    local cfg = config.parse({schedule = schedule, epochs = 1}, {})
    assert.are.equal(schedule, cfg.schedule)
    local err = parse_error({schedule = schedule, epochs = 1}, {"--schedule=3"})
    assert.is_truthy(err:find("--schedule cannot be set", 1, true), err)
  end)

  it("remembers which keys were set explicitly, even to their default value", function()
    local cfg, explicit = config.parse(defaults, {"--epochs=10", "--name=x"})
    assert.are.same({epochs = true, name = true}, explicit)
    assert.are.equal(explicit, config.explicit(cfg))
    assert.is_nil(config.explicit({}))
    assert.is_nil(getmetatable(cfg))  -- cfg stays a plain table
  end)

  it("is callable, reading the global arg when no argv is given", function()
    local saved = _G.arg
    _G.arg = {[-1] = "aerun", [0] = "exp.lua", "--epochs=4"}
    local ok, cfg, explicit = pcall(config, defaults)
    _G.arg = {[0] = "lua5.4", "-e", "code"}  -- lua -e: no script, so no settings
    local ok2, cfg2 = pcall(config, defaults)
    _G.arg = nil
    local ok3, cfg3 = pcall(config, defaults)
    _G.arg = saved
    assert.is_true(ok, cfg)
    assert.are.equal(4, cfg.epochs)
    assert.is_true(explicit.epochs)
    assert.is_true(ok2, cfg2)
    assert.are.equal(10, cfg2.epochs)
    assert.is_true(ok3, cfg3)
    assert.are.equal(10, cfg3.epochs)
  end)

  it("rejects defaults that are not a table of string keys", function()
    assert.is_false(pcall(config.parse, nil, {}))
    assert.is_false(pcall(config.parse, {10}, {}))
    local ok, err = pcall(config.parse, {kl_warmup = 1, ["kl-warmup"] = 2}, {})
    assert.is_false(ok)
    assert.is_truthy(err:find("name the same option", 1, true), err)
  end)

  it("describes every key with its type and default in the help text", function()
    local text = config.help(defaults, "exp.lua")
    assert.is_truthy(text:find("usage: exp.lua", 1, true))
    assert.is_truthy(text:find("--epochs=N%s+integer%s+default 10\n"), text)
    assert.is_truthy(text:find("--lambda=X%s+number%s+default 0.001\n"), text)
    assert.is_truthy(text:find('--name=TEXT%s+string%s+default "vae"\n'), text)
    assert.is_truthy(text:find("--%[no%-%]verbose%s+boolean%s+default false\n"), text)
  end)
end)

describe("ae.config through the executable", function()
  local BIN = os.getenv("AERUN_BIN") or "build/aerun"
  if BIN:sub(1, 1) ~= "/" then BIN = ROOT .. "/" .. BIN end
  local dir, script

  setup(function()
    dir = capture("mktemp -d /tmp/aerun-config-XXXXXX")
    script = dir .. "/exp.lua"
    local f = assert(io.open(script, "w"))
    f:write([[
local ae = require "aerun"
local cfg, explicit = ae.config{epochs = 10, lambda = 1e-3, kl_warmup = 2, verbose = false}
local set = {}
for k in pairs(explicit) do set[#set + 1] = k end
table.sort(set)
print(cfg.epochs, math.type(cfg.epochs), cfg.lambda, cfg.kl_warmup, cfg.verbose,
      table.concat(set, ","), ae.config.explicit(cfg) == explicit)
]])
    f:close()
  end)

  teardown(function()
    os.execute("rm -rf " .. quote(dir))
  end)

  local function run(...)
    local words = {}
    for i, a in ipairs{...} do words[i] = quote(a) end
    local out, err = dir .. "/out", dir .. "/err"
    local _, _, code = os.execute(string.format("%s %s %s > %s 2> %s", quote(BIN), quote(script),
                                                table.concat(words, " "), out, err))
    local fo, fe = io.open(out), io.open(err)
    local o, e = fo:read("a"), fe:read("a")
    fo:close()
    fe:close()
    return o, e, code
  end

  it("gives the script its --key=value arguments", function()
    local out, err, code = run("--epochs=3", "--kl-warmup=5", "--verbose", "--lambda=0.5")
    assert.are.equal(0, code, err)
    assert.are.equal("3\tinteger\t0.5\t5\ttrue\tepochs,kl_warmup,lambda,verbose\ttrue\n", out)
    out = run()
    assert.are.equal("10\tinteger\t0.001\t2\tfalse\t\ttrue\n", out)
  end)

  it("reports a bad option at the script's line and exits 1", function()
    local out, err, code = run("--lamda=3")
    assert.are.equal(1, code)
    assert.are.equal("", out)
    assert.is_truthy(err:find("aerun: " .. script .. ":2: ae.config: unknown option --lamda "
                              .. "(did you mean --lambda?); known options: --epochs, ", 1, true), err)
    _, err, code = run("--epochs=2.5")
    assert.are.equal(1, code)
    assert.is_truthy(err:find(script .. ':2: ae.config: --epochs expects an integer, got "2.5"', 1, true), err)
  end)

  it("prints the keys for --help and exits 0", function()
    local out, err, code = run("--help")
    assert.are.equal(0, code, err)
    assert.is_truthy(out:find("usage: " .. script, 1, true), out)
    assert.is_truthy(out:find("--epochs=N%s+integer%s+default 10"), out)
    assert.is_truthy(out:find("--kl_warmup=N", 1, true), out)
    assert.is_nil(out:find("\t"))  -- the script's print never ran
  end)
end)
