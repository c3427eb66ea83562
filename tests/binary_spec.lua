-- The binary family (runtime/lua/binary.c, runtime/ops/binary.c): add, sub,
-- mul and div with broadcasting, as functions, methods and operators, with
-- a number on either side of an operator.  Gradients are in
-- gradcheck_spec.lua under "binary", PyTorch's values in golden_spec.lua.
local ae = require "aerun"
local C = require "tests.helpers.check"
local error_of = C.error_of

describe("binary", function()
  local a = ae.tensor { { 1, 2, 3 }, { 4, 5, 6 } }

  it("computes elementwise, as functions, methods and operators alike", function()
    local b = ae.tensor { { 6, 5, 4 }, { 3, 2, 1 } }
    assert.are.same({ { 7, 7, 7 }, { 7, 7, 7 } }, ae.add(a, b):totable())
    assert.are.same({ { -5, -3, -1 }, { 1, 3, 5 } }, a:sub(b):totable())
    assert.are.same({ { 6, 10, 12 }, { 12, 10, 6 } }, (a * b):totable())
    assert.are.same({ { 0.5, 1, 1.5 }, { 2, 2.5, 3 } }, (a / ae.full(2, 3, 2)):totable())
    assert.are.same(ae.div(a, b):totable(), (a / b):totable())
    assert.are.same(ae.mul(a, b):totable(), a:mul(b):totable())
  end)

  it("broadcasts rows, columns and scalars to the larger shape", function()
    assert.are.same({ { 11, 22, 33 }, { 14, 25, 36 } }, (a + ae.tensor { 10, 20, 30 }):totable())
    assert.are.same({ { 0, 1, 2 }, { 2, 3, 4 } }, (a - ae.tensor { { 1 }, { 2 } }):totable())
    assert.are.same({ { 2, 4, 6 }, { 8, 10, 12 } }, (a * ae.tensor(2)):totable())
    assert.are.same({ 2, 2, 3 }, (ae.ones(2, 1, 3) + ae.ones(2, 3)):shape())
    assert.are.same({ 3, 4 }, (ae.ones(3, 1) * ae.ones(1, 4)):shape())
  end)

  it("takes a number on either side of an operator", function()
    assert.are.same({ 3, 4 }, (ae.tensor { 1, 2 } + 2):totable())
    assert.are.same({ 1, 0 }, (2 - ae.tensor { 1, 2 }):totable())
    assert.are.same({ -1, 0 }, (ae.tensor { 1, 2 } - 2):totable())
    assert.are.same({ 3, 6 }, (3 * ae.tensor { 1, 2 }):totable())
    assert.are.same({ 0.5, 1 }, (ae.tensor { 1, 2 } / 2):totable())
    assert.are.same({ 2, 1 }, (2 / ae.tensor { 1, 2 }):totable())
  end)

  it("records the graph: the sum's gradient of a * b is b", function()
    local x = ae.tensor { 1, 2, 3 }:requires_grad_()
    local y = ae.tensor { 4, 5, 6 }
    ;(x * y):sum():backward()
    assert.are.same({ 4, 5, 6 }, x.grad:totable())
  end)

  it("names the op and the shapes that do not broadcast, and a bad operand", function()
    assert.matches("add: shapes 2×3 and 4 cannot be broadcast together %(dimension 2: 3 vs 4%)",
      error_of(ae.add, a, ae.zeros(4)))
    assert.matches("mul: shapes 2×3 and 3×2 cannot be broadcast", error_of(ae.mul, a, ae.zeros(3, 2)))
    assert.matches("binary_spec.lua:%d+: add: cannot combine a tensor with string",
      error_of(function() return a + "x" end))
    assert.matches("div: expects a tensor operand", error_of(ae.div, 1, 2))
  end)
end)
