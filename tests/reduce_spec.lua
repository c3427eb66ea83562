-- The reduce family (runtime/lua/reduce.c, runtime/ops/reduce.c): sum and
-- mean over everything or one dimension, max and min as plain numbers.
-- Gradients are in gradcheck_spec.lua under "reduce".
local ae = require "aerun"
local C = require "tests.helpers.check"
local error_of = C.error_of

describe("reduce", function()
  local a = ae.tensor { { 1, 2, 3 }, { 4, 5, 6 } }

  it("sums and averages everything into a 0-D tensor", function()
    assert.are.equal(0, a:sum():dim())
    assert.are.equal(21, a:sum():item())
    assert.are.equal(21, ae.sum(a):item())
    assert.are.equal(3.5, a:mean():item())
  end)

  it("over one dimension, 1-based or from the end, with keepdim", function()
    assert.are.same({ 5, 7, 9 }, a:sum(1):totable())
    assert.are.same({ 6, 15 }, a:sum(2):totable())
    assert.are.same({ 6, 15 }, a:sum(-1):totable())
    assert.are.same({ { 2, 5 } }, { a:mean(2):totable() })
    assert.are.same({ { 2 }, { 5 } }, a:mean(2, true):totable())
    assert.are.same({ 1, 3 }, a:sum(1, true):shape())
  end)

  it("max and min give the value and its 1-based flat position, views included", function()
    local v, at = a:max()
    assert.are.equal(6, v)
    assert.are.equal(6, at)
    v, at = ae.min(a)
    assert.are.equal(1, v)
    assert.are.equal(1, at)
    v, at = a:t():max()
    assert.are.equal(6, v)
    assert.are.equal(6, at)
    v, at = ae.tensor { 3, -1, 7, 7 }:max()
    assert.are.equal(7, v)
    assert.are.equal(3, at)
  end)

  it("names a dimension out of range and an empty tensor", function()
    assert.matches("dimension 3 out of range for a 2%-D tensor", error_of(ae.sum, a, 3))
    assert.matches("dimension 0 out of range", error_of(ae.mean, a, 0))
    assert.matches("max: empty tensor", error_of(ae.max, ae.zeros(0)))
    assert.matches("min: empty tensor", error_of(ae.min, ae.zeros(0)))
  end)
end)
