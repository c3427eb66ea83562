-- The norm family (runtime/lua/norm.c, runtime/ops/norm.c): batch
-- normalisation (dropout is in dropout_spec.lua): gradients by finite differences, values
-- from PyTorch (tests/golden/norm_golden.lua, written by
-- tests/golden/make_golden_norm.py), the properties each must keep, and
-- their error messages.
local ae = require "aerun"
local nn = ae.nn
local gc = require "tests.helpers.gradcheck"
local U = gc.uniform

local function golden_path()
  local source = debug.getinfo(1, "S").source
  local dir = source:match("^@(.*)/[^/]*$") or "tests"
  return dir .. "/golden/norm_golden.lua"
end

local G = dofile(golden_path())

local function ok(f, inputs, opts)
  local good, msg = gc.check(f, inputs, opts)
  assert(good, msg)
end

-- |got - want| <= atol + rtol·|want| element by element, naming the worst
local function close(what, got, want, atol, rtol)
  atol, rtol = atol or 1e-5, rtol or 1e-4
  assert(got ~= nil, what .. ": got nil")
  local g = gc.flatten(got:totable())
  local w = type(want) == "table" and gc.flatten(want) or gc.flatten(want:totable())
  assert(#g == #w, ("%s: %d values, expected %d"):format(what, #g, #w))
  for k = 1, #w do
    local diff = math.abs(g[k] - w[k])
    if not (diff <= atol + rtol * math.abs(w[k])) then
      error(("%s: element %d is %.9g, expected %.9g (|diff| %.3g)"):format(what, k, g[k], w[k], diff), 2)
    end
  end
end

local function leaf(v)
  return ae.tensor(v):requires_grad_(true)
end

-- per-channel mean and biased variance of an N×C×... tensor, in Lua doubles
local function channel_stats(y)
  local c = y:size(2)
  local rows = y:transpose(1, 2):contiguous():reshape(c, -1):totable()
  local mean, var = {}, {}
  for j, r in ipairs(rows) do
    local s = 0
    for _, v in ipairs(r) do s = s + v end
    mean[j] = s / #r
    local q = 0
    for _, v in ipairs(r) do q = q + (v - mean[j]) ^ 2 end
    var[j] = q / #r
  end
  return mean, var
end

local function count_errors(f)
  local good, err = pcall(f)
  assert(not good, "expected an error")
  return tostring(err)
end

describe("batch_norm", function()
  before_each(function()
    ae.manual_seed(11)
    math.randomseed(11)
  end)

  describe("gradients by finite differences", function()
    local function bn_train(x, w, b) return ae.batch_norm(x, w, b, nil, nil, true) end

    it("training, N×C: input, weight and bias", function()
      ok(bn_train, { U({ 6, 4 }, -2, 2), U({ 4 }, 0.5, 1.5), U({ 4 }, -1, 1) })
    end)
    it("training, N×C×L", function()
      ok(bn_train, { U({ 3, 2, 4 }, -2, 2), U({ 2 }, 0.5, 1.5), U({ 2 }, -1, 1) })
    end)
    it("training, N×C×H×W", function()
      ok(bn_train, { U({ 2, 3, 3, 2 }, -2, 2), U({ 3 }, 0.5, 1.5), U({ 3 }, -1, 1) })
    end)
    it("training without weight and bias", function()
      ok(function(x) return ae.batch_norm(x, nil, nil, nil, nil, true) end, { U({ 5, 3 }, -2, 2) })
      ok(function(x) return ae.batch_norm(x, nil, nil, nil, nil, true) end, { U({ 2, 2, 3, 3 }, -2, 2) })
    end)
    it("training with running statistics given (they do not change the gradient)", function()
      ok(function(x, w, b)
        return ae.batch_norm(x, w, b, ae.zeros(3), ae.ones(3), true, 0.1, 1e-5)
      end, { U({ 4, 3 }, -2, 2), U({ 3 }, 0.5, 1.5), U({ 3 }, -1, 1) })
    end)
    it("eval, through the fixed running statistics, N×C and N×C×H×W", function()
      local rm, rv = ae.tensor { 0.3, -0.2, 0.1 }, ae.tensor { 0.5, 2.0, 1.2 }
      local function bn_eval(x, w, b) return ae.batch_norm(x, w, b, rm, rv, false) end
      ok(bn_eval, { U({ 4, 3 }, -2, 2), U({ 3 }, 0.5, 1.5), U({ 3 }, -1, 1) })
      ok(bn_eval, { U({ 2, 3, 2, 2 }, -2, 2), U({ 3 }, 0.5, 1.5), U({ 3 }, -1, 1) })
      -- and eval never writes them
      close("running_mean", rm, ae.tensor { 0.3, -0.2, 0.1 }, 0, 0)
      close("running_var", rv, ae.tensor { 0.5, 2.0, 1.2 }, 0, 0)
    end)
    it("more channels than one block of the kernel (S = 1 and S > 1)", function()
      ok(bn_train, { U({ 3, 70 }, -2, 2), U({ 70 }, 0.5, 1.5), U({ 70 }, -1, 1) })
      ok(bn_train, { U({ 2, 67, 2 }, -2, 2), U({ 67 }, 0.5, 1.5), U({ 67 }, -1, 1) })
    end)
  end)

  describe("values", function()
    it("training output has per-channel mean 0 and variance var/(var+eps)", function()
      for _, shape in ipairs { { 64, 130 }, { 8, 70, 5, 3 } } do
        local x = ae.randn(table.unpack(shape)) * 3 + 5
        local y = ae.batch_norm(x, nil, nil, nil, nil, true, 0.1, 0)
        local mean, var = channel_stats(y)
        for j = 1, #mean do
          assert(math.abs(mean[j]) < 1e-5, "channel " .. j .. " mean " .. mean[j])
          assert(math.abs(var[j] - 1) < 1e-4, "channel " .. j .. " variance " .. var[j])
        end
      end
    end)

    it("a large mean does not cancel the variance away", function()
      -- values 1000 ± 0.01: a one-pass E[x²] - E[x]² in float loses them all
      local x = ae.tensor { { 1000.01 }, { 999.99 }, { 1000.01 }, { 999.99 } }
      local rm, rv = ae.zeros(1), ae.ones(1)
      local y = ae.batch_norm(x, nil, nil, rm, rv, true, 1.0, 0)
      close("normalised", y, { { 1 }, { -1 }, { 1 }, { -1 } }, 2e-3, 0)
      -- momentum 1 keeps the batch's values: the unbiased variance 4/3·1e-4
      close("running var", rv, { 1e-4 * 4 / 3 }, 0, 5e-3)
      close("running mean", rm, { 1000 }, 0, 1e-6)
    end)

    it("non-contiguous input gives the same values", function()
      local x = ae.randn(5, 4)
      local a = ae.batch_norm(x:t():contiguous():t(), nil, nil, nil, nil, true)
      local b = ae.batch_norm(x:t():contiguous():t():t():t(), nil, nil, nil, nil, true)
      close("transposed view", a, ae.batch_norm(x, nil, nil, nil, nil, true):totable(), 1e-6, 0)
      close("double transpose", b, a:totable(), 1e-6, 0)
    end)

    it("eval with a batch of one works and uses the running statistics", function()
      local rm, rv = ae.tensor { 1, 2 }, ae.tensor { 4, 0.25 }
      local y = ae.batch_norm(ae.tensor { { 3, 1 } }, ae.tensor { 2, 1 }, ae.tensor { 0, 1 }, rm, rv,
        false, 0.1, 0)
      close("eval", y, { { 2, -1 } }, 1e-6, 0)
    end)
  end)

  describe("golden values from PyTorch " .. G.torch_version, function()
    local cases = {
      { "bn1d", "BatchNorm1d", "N×C" }, { "bn1d_ncl", "BatchNorm1d", "N×C×L" },
      { "bn2d", "BatchNorm2d", "N×C×H×W, mean 10" },
      { "bn2d_opts", "BatchNorm2d", "eps 1e-3, momentum 0.3" },
    }
    for _, c in ipairs(cases) do
      local name, cls, what = c[1], c[2], c[3]
      it(cls .. " " .. what .. ": 3 training steps and an eval step", function()
        local C = G[name]
        local layer = nn[cls](#C.weight, { eps = C.eps, momentum = C.momentum })
        ae.no_grad(function()
          layer.weight:copy_(ae.tensor(C.weight))
          layer.bias:copy_(ae.tensor(C.bias))
        end)
        layer:train()
        for i, s in ipairs(C.steps) do
          local tag = ("%s step %d "):format(name, i)
          layer:zero_grad()
          local x = leaf(s.x)
          local y = layer(x)
          close(tag .. "y", y, s.y)
          ;(y * ae.tensor(s.g)):sum():backward()
          close(tag .. "grad x", x.grad, s.grad_x)
          close(tag .. "grad weight", layer.weight.grad, s.grad_weight)
          close(tag .. "grad bias", layer.bias.grad, s.grad_bias)
          -- the running statistics are PyTorch's to the bit (a relative
          -- 1e-8 is below half an ulp of float32 and above the 9-digit
          -- rounding of the golden values): see numerics_spec.lua
          close(tag .. "running_mean", layer.running_mean, s.running_mean, 0, 1e-8)
          close(tag .. "running_var", layer.running_var, s.running_var, 0, 1e-8)
        end
        local trained_mean = layer.running_mean:totable()
        layer:eval()
        layer:zero_grad()
        local E = C.eval
        local x = leaf(E.x)
        local y = layer(x)
        close(name .. " eval y", y, E.y)
        ;(y * ae.tensor(E.g)):sum():backward()
        close(name .. " eval grad x", x.grad, E.grad_x)
        close(name .. " eval grad weight", layer.weight.grad, E.grad_weight)
        close(name .. " eval grad bias", layer.bias.grad, E.grad_bias)
        -- eval leaves the running statistics where the last step put them
        close(name .. " eval running_mean", layer.running_mean, trained_mean, 0, 0)
      end)
    end
  end)

  describe("errors", function()
    it("a batch of one value per channel in training", function()
      local e = count_errors(function() return ae.batch_norm(ae.ones(1, 3), nil, nil, nil, nil, true) end)
      assert.matches("expected more than 1 value per channel when training, got input of shape 1×3", e, 1, true)
      e = count_errors(function() return nn.BatchNorm2d(3)(ae.ones(1, 3, 1, 1)) end)
      assert.matches("more than 1 value per channel", e, 1, true)
      -- but N = 1 with several positions per channel is fine, as in PyTorch
      assert.same({ 1, 3, 2, 2 }, nn.BatchNorm2d(3)(ae.randn(1, 3, 2, 2)):shape())
    end)
    it("channel mismatches name the shapes", function()
      local e = count_errors(function() return ae.batch_norm(ae.ones(4, 3), ae.ones(5), nil, nil, nil, true) end)
      assert.matches("batch_norm: weight has shape 5 but input 4×3 has 3 channels", e, 1, true)
      e = count_errors(function() return ae.batch_norm(ae.ones(4, 3), nil, ae.ones(3, 1), nil, nil, true) end)
      assert.matches("bias has shape 3×1", e, 1, true)
      e = count_errors(function() return ae.batch_norm(ae.ones(4, 3), nil, nil, ae.zeros(2), ae.ones(2)) end)
      assert.matches("running_mean has shape 2 but input 4×3", e, 1, true)
      e = count_errors(function() return nn.BatchNorm1d(8)(ae.ones(4, 3)) end)
      assert.matches("BatchNorm1d(8): input 4×3 has 3 channels (dimension 2), expected 8", e, 1, true)
      e = count_errors(function() return nn.BatchNorm1d(8, { affine = false, track_running_stats = false })(ae.ones(4, 3)) end)
      assert.matches("input 4×3 has 3 channels", e, 1, true)
    end)
    it("wrong ranks, missing running_var, bad options", function()
      local e = count_errors(function() return nn.BatchNorm2d(3)(ae.ones(4, 3)) end)
      assert.matches("BatchNorm2d: expected 4D input (got 2D input of shape 4×3)", e, 1, true)
      e = count_errors(function() return nn.BatchNorm1d(3)(ae.ones(4, 3, 2, 2)) end)
      assert.matches("BatchNorm1d: expected 2D or 3D input (got 4D input", e, 1, true)
      e = count_errors(function() return ae.batch_norm(ae.ones(4), nil, nil, nil, nil, true) end)
      assert.matches("expected an input of 2 or more dimensions", e, 1, true)
      e = count_errors(function() return ae.batch_norm(ae.ones(4, 3), nil, nil, ae.zeros(3), nil, true) end)
      assert.matches("running_mean and running_var must be given together", e, 1, true)
      e = count_errors(function() return nn.BatchNorm1d(3, { momentun = 0.2 }) end)
      assert.matches("unknown option 'momentun'", e, 1, true)
      e = count_errors(function() return nn.BatchNorm1d(0) end)
      assert.matches("num_features must be at least 1", e, 1, true)
      e = count_errors(function() return nn.BatchNorm1d(3, { eps = -1 }) end)
      assert.matches("eps must not be negative", e, 1, true)
    end)
  end)
end)

describe("nn.BatchNorm1d and nn.BatchNorm2d", function()
  before_each(function() ae.manual_seed(5) end)

  it("have PyTorch's parameters, buffers and config", function()
    local bn = nn.BatchNorm1d(4)
    local names = {}
    local function values(t)
      local out = {}
      for i, v in ipairs(t:totable()) do out[i] = ("%g"):format(v) end
      return table.concat(out, ",")
    end
    for n, p in bn:named_parameters() do names[#names + 1] = n .. "=" .. values(p) end
    assert.same({ "weight=1,1,1,1", "bias=0,0,0,0" }, names)
    local bufs = {}
    for n, b in bn:named_buffers() do bufs[#bufs + 1] = n .. "=" .. values(b) end
    assert.same({ "running_mean=0,0,0,0", "running_var=1,1,1,1" }, bufs)
    assert.is_false(bn.running_mean.requires_grad)
    assert.same({ "num_features", "eps", "momentum", "affine", "track_running_stats" }, bn._config_keys)
    assert.same({ num_features = 4, eps = 1e-5, momentum = 0.1, affine = true, track_running_stats = true },
      bn._config)
    local sd = nn.Sequential { nn.Linear(3, 4), nn.BatchNorm1d(4) }:state_dict()
    assert.is_not_nil(sd["1.running_mean"])
    assert.is_not_nil(sd["1.running_var"])
    assert.is_not_nil(sd["1.weight"])
  end)

  it("affine = false has no parameters, track_running_stats = false no buffers", function()
    local bn = nn.BatchNorm2d(2, { affine = false, track_running_stats = false })
    assert.same({}, bn:parameters())
    assert.is_nil(bn:named_buffers()())
    assert.is_false(bn._config.affine)
    -- without running statistics, eval normalises by the batch, as PyTorch
    bn:eval()
    local y = bn(ae.randn(4, 2, 3, 3) * 2 + 1)
    local mean, var = channel_stats(y)
    for j = 1, 2 do
      assert(math.abs(mean[j]) < 1e-5 and math.abs(var[j] - 1) < 1e-3, "channel " .. j)
    end
  end)

  it("train() updates the running statistics, eval() uses them", function()
    local bn = nn.BatchNorm1d(2, { momentum = 0.5 })
    local x = ae.tensor { { 1, 10 }, { 3, 20 }, { 5, 30 } }
    bn(x)
    -- mean {3, 20}, unbiased variance {4, 100}: r = 0.5·r + 0.5·batch
    close("running_mean", bn.running_mean, { 1.5, 10 }, 1e-6, 0)
    close("running_var", bn.running_var, { 2.5, 50.5 }, 1e-5, 0)
    bn:eval()
    local y = bn(ae.tensor { { 1.5, 10 } })
    close("eval output", y, { { 0, 0 } }, 1e-6, 0)
    y = bn(ae.tensor { { 1.5 + math.sqrt(2.5 + 1e-5), 10 - math.sqrt(50.5 + 1e-5) } })
    close("eval output", y, { { 1, -1 } }, 1e-5, 0)
    close("running_mean unchanged", bn.running_mean, { 1.5, 10 }, 1e-6, 0)
  end)

  it("prints like PyTorch names its arguments", function()
    assert.equal("BatchNorm2d(num_features=3, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)",
      tostring(nn.BatchNorm2d(3)))
  end)
end)
