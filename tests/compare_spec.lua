-- The compare family (runtime/lua/compare.c, runtime/ops/compare.c): lt,
-- le, gt, ge, eq and ne against a number, as 0/1 masks outside the graph.
local ae = require "aerun"

describe("compare", function()
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

  it("are functions too, broadcast the number over any shape and follow views", function()
    local a = ae.tensor { { 1, 2 }, { 3, 4 } }
    assert.are.same({ { 0, 0 }, { 1, 1 } }, ae.gt(a, 2.5):totable())
    assert.are.same({ { 1, 0 }, { 1, 0 } }, ae.le(a:t(), 2):totable())
    assert.are.equal(2, a:ge(3):sum():item())
  end)

  it("wants a number to compare with", function()
    local ok, err = pcall(ae.lt, ae.zeros(2), "x")
    assert.is_false(ok)
    assert.matches('number expected, got the string "x"', err, nil, true)
  end)
end)
