-- Errors that say how to fix them (issue 13, point 4): each rule once, as
-- a script meets it.  tests/api_abuse_spec.lua checks the same rules over
-- the whole API, where a generated call can.
--   * an argument with a fixed set of values lists them, under the public name;
--   * a string where a number goes is quoted ("4" is not 4);
--   * a module class where a module goes: "did you mean nn.ReLU()?";
--   * an optimizer takes a model (its parameters);
--   * the script's errors show no library frames (AERUN_TRACEBACK=1 shows
--     them all); a bug inside the library shows where it was raised;
--   * REPL errors keep their stdin:1: position;
--   * an error reached through a script's tail call names the script's line.
local ae = require "aerun"
local nn = ae.nn
local check = require "tests.helpers.check"
local process = require "tests.helpers.process"
local error_of, mentions = check.error_of, check.mentions

local SPEC = debug.getinfo(1, "S").short_src

-- the line of the caller of this function, for messages located there
local function here() return debug.getinfo(2, "l").currentline end

-- runs source as a script; returns its stderr and exit code
local function run_script(source, env, args)
  local dir = process.tmpdir()
  local path = dir .. "/script.lua"
  process.write(path, source)
  local cmd = string.format("cd %s && %s %s script.lua %s 2> err >/dev/null", process.quote(dir), env or "",
    process.quote(process.aerun), args or "")
  local _, _, code = os.execute(cmd)
  local err = process.read_all(dir .. "/err")
  os.execute("rm -rf " .. process.quote(dir))
  return err, code
end

-- pipes the lines into aerun -i; returns stderr
local function repl(lines)
  local dir = process.tmpdir()
  process.write(dir .. "/in.lua", table.concat(lines, "\n") .. "\n")
  os.execute(string.format("%s -i < %s > /dev/null 2> %s", process.quote(process.aerun),
    process.quote(dir .. "/in.lua"), process.quote(dir .. "/err")))
  local err = process.read_all(dir .. "/err")
  os.execute("rm -rf " .. process.quote(dir))
  return err
end

describe("an argument with a fixed set of values", function()
  local x = ae.rand(2, 3)
  local labels = ae.tensor { 1, 2 }
  local REDUCTIONS = '"mean", "sum" or "none"'

  it("lists them in the error, under the function's public name, at the caller's line", function()
    local cases = {
      { "ae.loss.mse", function() return ae.loss.mse(x, x, "avg") end },
      { "ae.loss.bce", function() return ae.loss.bce(x, x, "avg") end },
      { "ae.loss.bce_logits", function() return ae.loss.bce_logits(x, x, "avg") end },
      { "ae.loss.cross_entropy", function() return ae.loss.cross_entropy(x, labels, "avg") end },
      { "ae.kl.normal", function() return ae.kl.normal(x, x, "avg") end },
      { "ae.kl.sparsity", function() return ae.kl.sparsity(x, 0.05, "avg") end },
    }
    for _, c in ipairs(cases) do
      local err = error_of(c[2])
      assert.are.equal(string.format('%s:%d: %s: reduction must be %s, got the string "avg"', SPEC,
        debug.getinfo(c[2], "S").linedefined, c[1], REDUCTIONS), err)
    end
    mentions(error_of(ae.loss.mse, x, x, 1), "ae.loss.mse: reduction must be " .. REDUCTIONS .. ", got 1")
  end)

  it("lists the known options of a layer", function()
    mentions(error_of(nn.Conv2d, 1, 2, 3, { strid = 2 }), "Conv2d: unknown option 'strid' (known: stride, padding, bias)")
    mentions(error_of(nn.Upsample, { scale_factor = 2, mode = "bilinear" }), 'only "nearest"')
  end)
end)

describe("a string where a number goes", function()
  it("is quoted, so that \"4\" is not read as 4", function()
    local line = here() + 1
    local err = error_of(function() return nn.Linear("4", 2) end)
    assert.are.equal(SPEC .. ":" .. line .. ': Linear: in_features must be an integer, got the string "4"', err)
    mentions(error_of(nn.LeakyReLU, "0.1"), 'negative_slope must be a number, got the string "0.1"')
    mentions(error_of(nn.Dropout, "0.1"), 'got the string "0.1"')
    mentions(error_of(nn.Conv2d, 1, 2, "3"), 'got the string "3"')
    mentions(error_of(nn.BatchNorm1d, 4, { eps = "1e-5" }), 'eps must be a number, got the string "1e-5"')
    mentions(error_of(ae.optim.Adam, nn.Linear(2, 2):parameters(), { lr = "0.1" }), 'invalid lr: the string "0.1"')
  end)

  it("is quoted by the C functions too", function()
    local x = ae.rand(2, 3)
    mentions(error_of(ae.zeros, "2", 3), 'size must be an integer, got the string "2"')
    mentions(error_of(function() return x:leaky_relu("x") end), 'number expected, got the string "x"')
    mentions(error_of(ae.kl.sparsity, x, "0.05"), 'number expected, got the string "0.05"')
    mentions(error_of(function() return x:clamp("0", 1) end), 'got the string "0"')
    -- and numbers are still shown as numbers
    mentions(error_of(nn.Linear, 2.5, 2), "in_features must be an integer, got 2.5")
  end)
end)

describe("a module class where a module goes", function()
  it("gets the hint to make one", function()
    assert.are.equal(SPEC .. ":" .. (here() + 1) .. ": Sequential: element 2 is the class nn.ReLU, not a module: did you mean nn.ReLU()?",
      error_of(function() return nn.Sequential { nn.Linear(4, 2), nn.ReLU } end))
    mentions(error_of(nn.Sequential, nn.ReLU), "expects a list of modules, got the class nn.ReLU",
      "nn.Sequential{nn.ReLU()}")
    mentions(error_of(nn.AutoEncoder, nn.Linear(4, 2), nn.Sigmoid),
      "AutoEncoder: the decoder (argument 2) is the class nn.Sigmoid, not a module: did you mean nn.Sigmoid()?")
    mentions(error_of(nn.AutoEncoder, nn.Linear, nn.Linear(2, 4)),
      "the encoder (argument 1) is the class nn.Linear, not a module: did you mean nn.Linear(...)?")
    mentions(error_of(nn.VAE, nn.Linear(4, 3), nn.Linear(3, 2), nn.Linear, nn.Linear(2, 4)),
      "VAE: the logvar layer (argument 3) is the class nn.Linear, not a module: did you mean nn.Linear(...)?")
    mentions(error_of(function() return nn.Sequential {}:add(nn.Tanh) end), "did you mean nn.Tanh()?")
    -- a script's class is named as the script named it
    local Block = nn.Module:extend("Block")
    mentions(error_of(nn.Sequential, { Block }), "element 1 is the class Block, not a module: did you mean Block(...)?")
    -- and the other way round: nn.mlp makes one activation per layer from a class
    mentions(error_of(nn.mlp, { 4, 2 }, { last = nn.Sigmoid() }), "last is a Sigmoid module; pass its class (last = nn.Sigmoid)")
  end)

  it("to an optimizer says to make the model", function()
    mentions(error_of(ae.optim.Adam, nn.Linear, { lr = 1e-3 }), "Adam: expects a model or its parameters, got the class nn.Linear: did you mean nn.Linear(...)?")
  end)
end)

describe("an optimizer given a model", function()
  -- the same steps as with model:parameters(), bit for bit
  local function trained(as_model, make)
    ae.manual_seed(7)
    local model = nn.Sequential { nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2) }
    local opt = make(as_model and model or model:parameters())
    local x, y = ae.rand(5, 4), ae.rand(5, 2)
    for _ = 1, 3 do
      opt:zero_grad()
      local loss = ae.loss.mse(model(x), y)
      loss:backward()
      opt:step()
    end
    return model
  end

  for _, name in ipairs { "SGD", "Adam", "AdamW", "RMSprop" } do
    it("takes its parameters: " .. name, function()
      local make = function(p) return ae.optim[name](p, { lr = 0.05 }) end
      local a, b = trained(true, make), trained(false, make)
      for i, p in ipairs(a:parameters()) do
        assert.are.same(b:parameters()[i]:totable(), p:totable())
      end
      -- it changed them: the comparison above is not of untouched weights
      ae.manual_seed(7)
      local fresh = nn.Sequential { nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2) }
      assert.are_not.same(fresh:parameters()[1]:totable(), a:parameters()[1]:totable())
    end)
  end

  it("as clip_grad_norm does", function()
    local m = nn.Linear(3, 2)
    ae.loss.mse(m(ae.ones(4, 3) * 10), ae.zeros(4, 2)):backward()
    local g = m.weight.grad:clone()
    local total = ae.optim.clip_grad_norm(m, 1.0)
    assert.is_true(total > 1)
    local ratio = m.weight.grad:totable()[1][1] / g:totable()[1][1]
    assert.is_true(math.abs(ratio * total - 1) < 1e-5, tostring(ratio * total))
  end)
end)

describe("the script's errors", function()
  it("show no frames of the library", function()
    local err, code = run_script('local ae = require "aerun"\nlocal m = ae.nn.Linear("4", 2)\n')
    assert.is_true(code ~= 0)
    assert.are.equal('aerun: script.lua:2: Linear: in_features must be an integer, got the string "4"\n', err)
    -- a command-line mistake: only the message
    err = run_script('local ae = require "aerun"\nlocal cfg = ae.config { beta = 1 }\n', nil, "--bta=2")
    assert.are.equal("aerun: script.lua:2: ae.config: unknown option --bta (did you mean --beta?); known options: --beta\n",
      err)
  end)

  it("show the script's own frames when there are several", function()
    local err = run_script(table.concat({
      'local ae = require "aerun"',
      "local function build(n)",
      "  return ae.nn.Sequential { ae.nn.Linear(n, 2), ae.nn.ReLU }",
      "end",
      "local m = build(4)",
    }, "\n"))
    assert.are.equal("aerun: script.lua:3: Sequential: element 2 is the class nn.ReLU, not a module: did you mean nn.ReLU()?\n"
      .. "stack traceback:\n\tscript.lua:3: in local 'build'\n\tscript.lua:5: in main chunk\n", err)
    -- deep recursion: the innermost 22, then how many more
    err = run_script('local function f(n) if n == 0 then error("deep") end f(n - 1) end\nf(40)\n')
    local lines = {}
    for l in err:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.equal(2 + 22 + 1, #lines, err)
    assert.are.equal("\t(... 20 more)", lines[#lines])
  end)

  it("show every frame with AERUN_TRACEBACK=1", function()
    local err = run_script('local ae = require "aerun"\nlocal m = ae.nn.Linear("4", 2)\n', "AERUN_TRACEBACK=1")
    mentions(err, 'aerun: script.lua:2: Linear: in_features must be an integer, got the string "4"\nstack traceback:',
      "lua/aerun/guard.lua", "script.lua:2: in main chunk")
  end)

  it("but a bug inside the library shows where it was raised", function()
    -- a function compiled under a library file's name stands for a library
    -- function that fails by itself (the walk finds no real one)
    local err = run_script(table.concat({
      'local guard = require "aerun.guard"',
      'local buggy = load("local t = nil\\nreturn t.x", "@lua/aerun/nn.lua")',
      'local f = guard.wrap("ae.nn.buggy", buggy)',
      "f(3)",
    }, "\n"))
    mentions(err, "aerun: script.lua:4: ae.nn.buggy: attempt to index a nil value (local 't') (arguments: 3) [lua/aerun/nn.lua:2]",
      "raised at lua/aerun/nn.lua:2: attempt to index a nil value", "stack traceback:", "lua/aerun/nn.lua:2:")
    -- raised by the library outside any boundary: every frame
    err = run_script('load("error(\'inner\')", "@lua/aerun/data.lua")()\n')
    mentions(err, "aerun: lua/aerun/data.lua:1: inner\nstack traceback:", "script.lua:1: in main chunk")
  end)
end)

describe("in the REPL", function()
  it("an error keeps its stdin:1: position, with no traceback", function()
    local err = repl {
      'ae = require "aerun"',
      'ae.nn.Linear("4", 2)',
      'm = ae.nn.Linear("4", 2)',
      'ae.loss.mse(ae.zeros(2), ae.zeros(2), "avg")',
    }
    assert.are.equal('aerun: stdin:1: Linear: in_features must be an integer, got the string "4"\n'
      .. 'aerun: stdin:1: Linear: in_features must be an integer, got the string "4"\n'
      .. 'aerun: stdin:1: ae.loss.mse: reduction must be "mean", "sum" or "none", got the string "avg"\n', err)
  end)
end)

describe("an error reached through the script's tail call", function()
  local M = nn.Module:extend("TailCalls")
  function M:init() self.enc, self.dec = nn.Linear(4, 2), nn.Linear(3, 4) end
  local FORWARD_LINE = here() + 3
  function M:forward(x)
    local z = self.enc(x)
    return self.dec(z)
  end

  it("names the line of the tail call, not the line that called the model", function()
    local model = M()
    local err = error_of(function() return model(ae.rand(5, 4)) end)
    assert.are.equal(SPEC .. ":" .. FORWARD_LINE .. ": Linear:forward: linear: input 5×2 does not end in 3 features (weight 4×3)", err)
  end)

  it("in a script run by aerun", function()
    local err = run_script(table.concat({
      'local ae = require "aerun"',
      'local M = ae.nn.Module:extend("M")',
      "function M:init() self.enc, self.dec = ae.nn.Linear(4, 2), ae.nn.Linear(3, 4) end",
      "function M:forward(x)",
      "  return self.dec(self.enc(x))",
      "end",
      "local model = M()",
      "local y = model(ae.rand(5, 4))",
    }, "\n"))
    mentions(err, "aerun: script.lua:5: Linear:forward: linear: input 5×2 does not end in 3 features")
  end)

  it("of a library function, as of a module", function()
    local function loss(a, b) return ae.loss.mse(a, b, "avg") end
    local line = debug.getinfo(loss, "S").linedefined
    assert.are.equal(SPEC .. ":" .. line .. ': ae.loss.mse: reduction must be "mean", "sum" or "none", got the string "avg"',
      error_of(loss, ae.zeros(2), ae.zeros(2)))
    local function schedule_of(n) return ae.nn.Linear(n, "2") end
    line = debug.getinfo(schedule_of, "S").linedefined
    assert.are.equal(SPEC .. ":" .. line .. ': Linear: out_features must be an integer, got the string "2"',
      error_of(schedule_of, 3))
  end)
end)
