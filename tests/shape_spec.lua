-- The shape family (runtime/lua/shape.c, runtime/ops/shape.c): the views
-- (reshape, view, transpose, t, narrow, contiguous, detach) and cat.
-- Gradients of the views are in gradcheck_spec.lua under "shape".
local ae = require "aerun"
local gc = require "tests.helpers.gradcheck"
local C = require "tests.helpers.check"
local error_of = C.error_of

describe("shape", function()
  local a = ae.tensor { { 1, 2, 3 }, { 4, 5, 6 } }

  it("reshape and view keep the order of the elements", function()
    assert.are.same({ { 1, 2 }, { 3, 4 }, { 5, 6 } }, a:reshape(3, 2):totable())
    assert.are.same({ 1, 2, 3, 4, 5, 6 }, a:view(6):totable())
    assert.are.same({ { 1, 2, 3, 4, 5, 6 } }, a:reshape { 1, 6 }:totable())
  end)

  it("transpose, t and narrow are views of the same values", function()
    assert.are.same({ { 1, 4 }, { 2, 5 }, { 3, 6 } }, a:t():totable())
    assert.are.same(a:t():totable(), a:transpose(1, 2):totable())
    assert.are.same(a:t():totable(), a:transpose(-1, -2):totable())
    assert.is_false(a:t():is_contiguous())
    assert.is_true(a:t():contiguous():is_contiguous())
    assert.are.same({ { 2, 3 }, { 5, 6 } }, a:narrow(2, 2, 2):totable())
    assert.are.same({ { 4, 5, 6 } }, a:narrow(1, 2, 1):totable())
  end)

  it("contiguous of a contiguous tensor is the tensor; detach leaves the graph", function()
    assert.is_true(rawequal(a, a:contiguous()))
    local x = ae.rand(2, 2):requires_grad_()
    local y = (x * 2):detach()
    assert.is_false(y.requires_grad)
    assert.is_nil(y.grad_fn)
    assert.are.same((x * 2):totable(), y:totable())
  end)

  it("names the misfit of a view", function()
    assert.matches("reshape: cannot view 2×3 %(6 elements%) as 4×2 %(8 elements%)", error_of(a.reshape, a, 4, 2))
    assert.matches("narrow: range %[2, 7%) outside dimension 1 of size 2", error_of(a.narrow, a, 1, 2, 5))
    assert.matches("t: expects a 2%-D tensor, got 2×3×4", error_of(a.t, ae.zeros(2, 3, 4)))
    assert.matches("dimension 3 out of range for a 2%-D tensor", error_of(a.transpose, a, 1, 3))
    assert.matches("start must be at least 1", error_of(a.narrow, a, 1, 0, 1))
  end)
end)

describe("shape: cat", function()
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

