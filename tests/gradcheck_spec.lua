-- Every differentiable op's gradient against central finite differences.
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

  describe("binary ops with broadcasting", function()
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

  describe("scalar arithmetic", function()
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

  describe("elementwise functions", function()
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

  describe("reductions", function()
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

  describe("views", function()
    it("reshape, transpose, t and narrow", function()
      local x = U({ 3, 4 }, -1, 1)
      ok(function(t) return t:reshape(2, 6) * ae.arange(6) end, { x })
      ok(function(t) return t:t():contiguous():reshape(12) end, { x })
      ok(function(t) return t:transpose(1, 2) * ae.arange(3) end, { x })
      ok(function(t) return t:narrow(1, 2, 2) end, { x })
      ok(function(t) return t:narrow(2, 2, 3):exp() end, { x })
    end)
  end)

  describe("matrix products", function()
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

  describe("losses", function()
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

describe("cat", function()
  it("joins along a dimension and splits the gradient back", function()
    local a, b, c = gc.uniform({ 2, 3 }, -1, 1), gc.uniform({ 1, 3 }, -1, 1), gc.uniform({ 2, 3 }, -1, 1)
    local ok, msg = gc.check(function(x, y, z) return ae.cat({ x, y, z }, 1) end, { a, b, c })
    assert(ok, msg)
    ok, msg = gc.check(function(x, z) return ae.cat({ x, z }, 2) end, { a, c })
    assert(ok, msg)
    assert.are.same({ 5, 3 }, ae.cat({ a, b, c }):shape())
    assert.are.same({ { 1, 2 }, { 3, 4 } }, ae.cat({ ae.tensor { { 1 }, { 3 } }, ae.tensor { { 2 }, { 4 } } }, 2):totable())
  end)
  it("chains more inputs than a node holds", function()
    local parts = {}
    for i = 1, 7 do parts[i] = gc.uniform({ 1, 2 }, -1, 1) end
    local ok, msg = gc.check(function(...) return ae.cat({ ... }, 1) end, parts)
    assert(ok, msg)
  end)
  it("names the misfit", function()
    local ok, err = pcall(ae.cat, { ae.zeros(2, 3), ae.zeros(2, 4) }, 1)
    assert.is_false(ok)
    assert.matches("cat: tensor 2 has shape 2×4", err)
  end)
end)

describe("comparisons", function()
  it("give 0/1 masks and record no graph", function()
    local x = ae.tensor { -1, 0, 0.5, 2 }:requires_grad_(true)
    assert.are.same({ 1, 0, 0, 0 }, x:lt(0):totable())
    assert.are.same({ 1, 1, 0, 0 }, x:le(0):totable())
    assert.are.same({ 0, 0, 1, 1 }, x:gt(0):totable())
    assert.are.same({ 0, 1, 1, 1 }, x:ge(0):totable())
    assert.are.same({ 0, 1, 0, 0 }, x:eq(0):totable())
    assert.are.same({ 1, 0, 1, 1 }, x:ne(0):totable())
    assert.is_false(x:gt(0).requires_grad)
  end)
end)
