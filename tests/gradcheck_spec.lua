-- Every differentiable op's gradient against central finite differences,
-- one describe per op family (runtime/ops/X.c), keyed by its name: binary,
-- unary, reduce, shape, matmul, loss, kl, reparameterize, penalty.  The
-- conv, pool, norm, dropout and classify families check theirs in their own
-- specs.  A family's other tests are in tests/X_spec.lua.
local ae = require "aerun"
local gc = require "tests.helpers.gradcheck"
local U = gc.uniform

local function ok(f, inputs, opts)
  local good, msg = gc.check(f, inputs, opts)
  assert(good, msg)
end

describe("gradients by finite differences", function()
  before_each(function()
    ae.manual_seed(7)
    math.randomseed(7)
  end)

  describe("binary: broadcasting", function()
    local cases = {
      { "same shape", { 3, 4 }, { 3, 4 } },
      { "row vector", { 3, 4 }, { 4 } },
      { "column", { 3, 4 }, { 3, 1 } },
      { "scalar tensor", { 3, 4 }, {} },
      { "both broadcast", { 3, 1 }, { 1, 4 } },
      { "3-D over 2-D", { 2, 3, 4 }, { 3, 4 } },
    }
    for _, op in ipairs { "add", "sub", "mul", "div" } do
      for _, c in ipairs(cases) do
        it(op .. ": " .. c[1], function()
          local a, b = U(c[2], -2, 2, { 0 }, 0.5), U(c[3], 0.5, 2)
          ok(function(x, y) return x[op](x, y) end, { a, b })
          ok(function(x, y) return y[op](y, x) end, { a, b })
        end)
      end
    end
    it("x op x adds both halves", function()
      ok(function(x) return x * x end, { U({ 3, 3 }, -2, 2) })
      ok(function(x) return x / x + x - x end, { U({ 4 }, 0.5, 2) })
    end)
  end)

  describe("binary: scalar arithmetic", function()
    it("x + s, s + x, x - s, s - x, x * s, s * x, x / s, s / x, -x", function()
      local x = U({ 2, 3 }, 0.5, 2)
      ok(function(t) return t + 3 end, { x })
      ok(function(t) return 3 + t end, { x })
      ok(function(t) return t - 3 end, { x })
      ok(function(t) return 3 - t end, { x })
      ok(function(t) return t * -2.5 end, { x })
      ok(function(t) return 2.5 * t end, { x })
      ok(function(t) return t / 4 end, { x })
      ok(function(t) return 4 / t end, { x })
      ok(function(t) return -t end, { x })
    end)
  end)

  describe("unary", function()
    local unary = {
      { "exp", -2, 2 }, { "log", 0.2, 3 }, { "sqrt", 0.2, 3 }, { "abs", -2, 2, { 0 } },
      { "relu", -2, 2, { 0 } }, { "sigmoid", -4, 4 }, { "tanh", -3, 3 },
      { "leaky_relu", -2, 2, { 0 } }, { "elu", -2, 2, { 0 } }, { "softplus", -4, 4 },
      { "neg", -2, 2 },
    }
    for _, u in ipairs(unary) do
      it(u[1], function()
        ok(function(t) return t[u[1]](t) end, { U({ 3, 5 }, u[2], u[3], u[4]) })
      end)
    end
    it("leaky_relu with a slope, elu with alpha, softplus with beta and threshold", function()
      local x = U({ 10 }, -2, 2, { 0 })
      ok(function(t) return t:leaky_relu(0.2) end, { x })
      ok(function(t) return t:elu(0.5) end, { x })
      ok(function(t) return t:softplus(2, 3) end, { x }, { only = { true } })
    end)
    it("pow with exponents 2, 3, 0.5 and -1", function()
      local x = U({ 6 }, 0.5, 2)
      for _, p in ipairs { 2, 3, 0.5, -1 } do
        ok(function(t) return t:pow(p) end, { x })
        ok(function(t) return t ^ p end, { x })
      end
    end)
    it("clamp inside and outside its bounds", function()
      ok(function(t) return t:clamp(-1, 1) end, { U({ 12 }, -2, 2, { -1, 1 }) })
      ok(function(t) return t:clamp(0.5) end, { U({ 12 }, -2, 2, { 0.5 }) })
    end)
  end)

  describe("reduce", function()
    it("sum and mean over everything", function()
      local x = U({ 3, 4 }, -1, 1)
      ok(function(t) return t:sum() end, { x })
      ok(function(t) return t:mean() end, { x })
    end)
    it("sum and mean over one dimension, with and without keepdim", function()
      local x = U({ 2, 3, 4 }, -1, 1)
      for _, d in ipairs { 1, 2, 3, -1 } do
        ok(function(t) return t:sum(d) end, { x })
        ok(function(t) return t:mean(d, true) end, { x })
      end
    end)
  end)

  describe("shape", function()
    it("reshape, transpose, t and narrow", function()
      local x = U({ 3, 4 }, -1, 1)
      ok(function(t) return t:reshape(2, 6) * ae.arange(6) end, { x })
      ok(function(t) return t:t():contiguous():reshape(12) end, { x })
      ok(function(t) return t:transpose(1, 2) * ae.arange(3) end, { x })
      ok(function(t) return t:narrow(1, 2, 2) end, { x })
      ok(function(t) return t:narrow(2, 2, 3):exp() end, { x })
    end)
    it("gather, masked_fill and masked_select, with repeats and broadcasting", function()
      local x = U({ 3, 4 }, -1, 1)
      local idx = ae.tensor { { 3, 1, 1, 2 }, { 3, 3, 2, 1 } }
      local mask = ae.tensor { 1, 0, 1, 1 }
      ok(function(t) return t:gather(1, idx):exp() end, { x })
      ok(function(t) return t:t():gather(2, idx:narrow(2, 1, 3)) * t:gather(2, idx:t():narrow(1, 1, 3)):t() end, { x })
      ok(function(t) return t:masked_fill(mask, 0.5) * t end, { x })
      ok(function(t) return t[2]:masked_fill(ae.tensor { { 0, 1, 0, 0 }, { 1, 1, 0, 0 } }, -3):exp() end, { x })
      ok(function(t) return t:masked_select(mask):exp() end, { x })
      ok(function(t) return t:narrow(2, 1, 1):masked_select(ae.tensor { { 1, 0, 1 }, { 1, 1, 1 }, { 0, 0, 1 } }) end,
        { x })
    end)
  end)

  describe("matmul", function()
    it("matmul, also of transposed views", function()
      local a, b = U({ 3, 4 }, -1, 1), U({ 4, 2 }, -1, 1)
      ok(function(x, y) return ae.matmul(x, y) end, { a, b })
      ok(function(x, y) return ae.matmul(y:t(), x:t()) end, { a, b })
      ok(function(x) return ae.matmul(x, x:t()) end, { a })
    end)
    it("linear with and without bias, and on 3-D input", function()
      local x, w, b = U({ 5, 4 }, -1, 1), U({ 3, 4 }, -1, 1), U({ 3 }, -1, 1)
      ok(function(xx, ww, bb) return ae.linear(xx, ww, bb) end, { x, w, b })
      ok(function(xx, ww) return ae.linear(xx, ww) end, { x, w })
      ok(function(xx, ww, bb) return ae.linear(xx, ww, bb) end, { U({ 2, 3, 4 }, -1, 1), w, b })
    end)
  end)

  describe("loss", function()
    it("mse with each reduction, in input and target", function()
      local a, t = U({ 3, 4 }, -1, 1), U({ 3, 4 }, -1, 1)
      for _, r in ipairs { "mean", "sum", "none" } do
        ok(function(x, y) return ae.loss.mse(x, y, r) end, { a, t })
      end
    end)
    it("bce with each reduction, in input and target", function()
      local p, t = U({ 3, 4 }, 0.1, 0.9), U({ 3, 4 }, 0, 1)
      for _, r in ipairs { "mean", "sum", "none" } do
        ok(function(x, y) return ae.loss.bce(x, y, r) end, { p, t }, { eps = 1e-3 })
      end
    end)
    it("bce_logits with each reduction, in logits and target", function()
      local z, t = U({ 3, 4 }, -4, 4), U({ 3, 4 }, 0, 1)
      for _, r in ipairs { "mean", "sum", "none" } do
        ok(function(x, y) return ae.loss.bce_logits(x, y, r) end, { z, t })
      end
    end)
  end)

  describe("kl", function()
    for _, red in ipairs { "sum", "mean", "none" } do
      it("ae.kl.normal, reduction " .. red, function()
        local mu, lv = U({ 4, 3 }, -2, 2), U({ 4, 3 }, -2, 2)
        ok(function(m, l) return ae.kl.normal(m, l, red) end, { mu, lv })
      end)
    end

    it("ae.kl.normal over a 3-D batch (2×3 samples of 4 units)", function()
      ok(function(m, l) return ae.kl.normal(m, l, "none") end, { U({ 2, 3, 4 }, -1, 1), U({ 2, 3, 4 }, -1, 1) })
    end)

    for _, red in ipairs { "sum", "mean", "none" } do
      it("ae.kl.sparsity, reduction " .. red, function()
        local h = U({ 6, 4 }, 0.05, 0.95)
        ok(function(x) return ae.kl.sparsity(x, 0.2, red) end, { h }, { eps = 1e-3, rtol = 3e-2 })
      end)
    end

    it("ae.kl.sparsity with units over several dimensions (N×2×3)", function()
      ok(function(x) return ae.kl.sparsity(x, 0.3) end, { U({ 5, 2, 3 }, 0.1, 0.9) }, { eps = 1e-3, rtol = 3e-2 })
    end)
  end)

  describe("reparameterize", function()
    it("reparameterize with a fixed eps: in mu, logvar and eps", function()
      local mu, lv, eps = U({ 3, 4 }, -2, 2), U({ 3, 4 }, -2, 2), U({ 3, 4 }, -2, 2)
      ok(function(m, l, e) return ae.reparameterize(m, l, e) end, { mu, lv, eps })
    end)
  end)

  describe("penalty", function()
    it("ae.penalty.l1 away from 0, batched and 1-D", function()
      ok(ae.penalty.l1, { U({ 4, 5 }, -2, 2, { 0 }, 0.1) })
      ok(ae.penalty.l1, { U({ 6 }, -2, 2, { 0 }, 0.1) })
    end)

    it("ae.penalty.contractive in h and W", function()
      local h, W = U({ 5, 3 }, 0.05, 0.95), U({ 3, 4 }, -2, 2)
      ok(ae.penalty.contractive, { h, W }, { eps = 1e-3, rtol = 3e-2 })
    end)

    it("ae.penalty.contractive through the layer: x, W and b of sigmoid(x Wᵀ + b)", function()
      local x, W, b = U({ 4, 5 }, -1, 1), U({ 3, 5 }, -1, 1), U({ 3 }, -1, 1)
      ok(function(xx, ww, bb) return ae.penalty.contractive(ae.linear(xx, ww, bb):sigmoid(), ww) end,
        { x, W, b }, { eps = 1e-3, rtol = 3e-2 })
    end)
  end)

  describe("modules", function()
    it("a Sequential MLP's parameters", function()
      local nn = ae.nn
      local m = nn.Sequential { nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2), nn.Sigmoid() }
      local x = U({ 5, 4 }, -1, 1)
      local params = m:parameters()
      local vals = {}
      for i, p in ipairs(params) do vals[i] = p:detach() end
      ok(function(w1, b1, w2, b2)
        local h = ae.linear(x, w1, b1):tanh()
        return ae.linear(h, w2, b2):sigmoid()
      end, vals)
      -- the module computes the same function
      local direct = m(x):totable()
      local h = ae.linear(x, params[1], params[2]):tanh()
      local manual = ae.linear(h, params[3], params[4]):sigmoid():totable()
      assert.are.same(manual, direct)
    end)
  end)
end)
