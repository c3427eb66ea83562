-- The unary family (runtime/lua/unary.c, runtime/ops/unary.c): elementwise
-- functions as functions (ae.exp(x)) and methods (x:exp()), -x and x ^ p.
-- Gradients are in gradcheck_spec.lua under "unary", PyTorch's values in
-- golden_spec.lua.
local ae = require "aerun"

local C = require "tests.helpers.check"
local error_of = C.error_of

-- got against the list want, to tol (1e-6 unless given) absolute and relative
local function near(want, got, tol) C.check("value", got, want, tol or 1e-6, tol or 1e-6) end

describe("unary", function()
  local x = ae.tensor { -2, -0.5, 0, 1, 3 }

  it("gives the textbook values", function()
    near({ math.exp(-2), math.exp(-0.5), 1, math.exp(1), math.exp(3) }, x:exp())
    near({ 2, 0.5, 0, 1, 3 }, ae.abs(x))
    near({ 0, 0, 0, 1, 3 }, x:relu())
    near({ -0.02, -0.005, 0, 1, 3 }, x:leaky_relu())
    near({ -0.2, -0.05, 0, 1, 3 }, x:leaky_relu(0.1))
    near({ math.exp(-2) - 1, math.exp(-0.5) - 1, 0, 1, 3 }, x:elu())
    near({ math.tanh(-2), math.tanh(-0.5), 0, math.tanh(1), math.tanh(3) }, x:tanh())
    near({ 2, 0.5, 0, -1, -3 }, ae.neg(x))
    near({ 1 / (1 + math.exp(2)), 1 / (1 + math.exp(0.5)), 0.5 }, ae.tensor { -2, -0.5, 0 }:sigmoid())
    near({ math.log(2), 0, math.log(3) }, ae.tensor { 2, 1, 3 }:log())
    near({ 2, 3, 0.5 }, ae.tensor { 4, 9, 0.25 }:sqrt())
    near({ math.log(1 + math.exp(-2)), math.log(2), 3 + math.log(1 + math.exp(-3)) },
      ae.tensor { -2, 0, 3 }:softplus(), 1e-5)
  end)

  it("clamp, pow and the operators -x and x ^ p", function()
    near({ -1, -0.5, 0, 1, 2 }, x:clamp(-1, 2))
    near({ 0, 0, 0, 1, 3 }, x:clamp(0))
    near({ 4, 0.25, 0, 1, 9 }, x ^ 2)
    near({ 4, 0.25, 0, 1, 9 }, x:pow(2))
    near({ 2, 0.5, 0, -1, -3 }, -x)
    near({ 2, 0.5 }, ae.tensor { 4, 0.25 }:pow(0.5))
  end)

  it("keeps the shape and stays in the graph", function()
    local t = ae.rand(2, 3):requires_grad_()
    local y = t:exp()
    assert.are.same({ 2, 3 }, y:shape())
    y:sum():backward()
    near(y:reshape(6):totable(), t.grad:reshape(6), 1e-6)
  end)

  it("refuses bad bounds, a non-positive beta and a number raised to a tensor", function()
    assert.matches("clamp: bounds must satisfy min <= max", error_of(ae.clamp, x, 1, 0))
    assert.matches("beta must be positive", error_of(ae.softplus, x, -1))
    assert.matches("pow: a number raised to a tensor is not supported", error_of(function() return 2 ^ x end))
  end)
end)
