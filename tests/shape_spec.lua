-- The shape family (runtime/lua/shape.c, runtime/ops/shape.c): the views
-- (reshape, view, transpose, t, narrow, contiguous, detach, squeeze,
-- unsqueeze, permute, select and x[i]), the copies flip, index_select,
-- gather, masked_fill and masked_select, cat
-- and stack.  Gradients of the first views are in gradcheck_spec.lua under
-- "shape"; the newer ones are checked here, against torch and by finite
-- differences.
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


-- squeeze, unsqueeze, permute, flip, stack, index_select and x[i] against
-- tests/golden/shape_golden.lua (make_golden_shape.py).  They only move
-- data, and the golden inputs and upstream gradients are small integers, so
-- values and gradients must be equal, not close.
local G = C.golden("shape_golden.lua")

-- runs f on leaves built from case name of the golden file (and on the
-- case, for its index or mask), backward of (y * g):sum()
local function against(name, f)
  local c = G[name]
  local xs = {}
  local i = 1
  while c["x" .. i] do
    xs[i] = ae.tensor(c["x" .. i]):reshape(c["xshape" .. i]):requires_grad_()
    i = i + 1
  end
  xs[i] = c
  local y = f(table.unpack(xs, 1, i))
  assert.are.same(c.yshape, y:shape(), name .. ": shape")
  assert.are.same(C.flatten({ c.y }), C.values(y), name .. ": values")
  local g = ae.tensor(c.g):reshape(c.yshape)
  ;(y * g):sum():backward()
  for k = 1, i - 1 do
    assert.are.same(C.flatten({ c["grad" .. k] }), C.values(xs[k].grad), name .. ": gradient of input " .. k)
  end
end

describe("shape: views, flip, stack, index_select, x[i]", function()
  it("squeeze and unsqueeze are torch's", function()
    against("squeeze_all", function(a) return a:squeeze() end)
    against("squeeze_2", function(a) return a:squeeze(2) end)
    against("squeeze_1_noop", function(a) return a:squeeze(1) end)
    against("unsqueeze_2", function(a) return a:unsqueeze(2) end)
    against("unsqueeze_m1", function(a) return a:unsqueeze(-1) end)
  end)

  it("permute is torch's, as numbers or a table", function()
    against("permute_312", function(a) return a:permute(3, 1, 2) end)
    against("permute_312", function(a) return a:permute { 3, 1, 2 } end)
    against("permute_312", function(a) return a:permute(-1, -3, -2) end)
  end)

  it("flip is torch's", function()
    against("flip_13", function(a) return a:flip(1, 3) end)
    against("flip_13", function(a) return a:flip { 3, 1 } end)
    against("flip_2", function(a) return a:flip(2) end)
  end)

  it("stack is torch's", function()
    against("stack_1", function(a, b) return ae.stack { a, b } end)
    against("stack_1", function(a, b) return ae.stack({ a, b }, 1) end)
    against("stack_m1", function(a, b, c) return ae.stack({ a, b, c }, -1) end)
    against("stack_m1", function(a, b, c) return ae.stack({ a, b, c }, 3) end)
  end)

  it("index_select takes 1-based positions and accumulates repeated ones", function()
    against("index_select_2", function(a) return a:index_select(2, { 3, 1, 3 }) end)
    against("index_select_2", function(a) return a:index_select(2, ae.tensor { 3, 1, 3 }) end)
    against("index_select_3", function(a) return a:index_select(-1, { 4, 4, 1, 2, 4 }) end)
  end)

  it("x[i] is row i, 1-based and negative from the end", function()
    against("row_2", function(a) return a[2] end)
    against("row_m2", function(a) return a[-2] end)
    against("row_2", function(a) return a:select(1, 2) end)
  end)

  it("gradients match finite differences on non-contiguous inputs", function()
    local x = gc.uniform({ 3, 2, 4 }, -1, 1)
    local fs = {
      function(a) return a:transpose(1, 3):squeeze() end,
      function(a) return a:transpose(1, 2):unsqueeze(2) * a:transpose(1, 2):unsqueeze(2) end,
      function(a) return a:permute(2, 3, 1):transpose(1, 2) * 2 end,
      function(a) return a:transpose(1, 3):flip(1, 2) end,
      function(a) return a:transpose(2, 3):index_select(2, { 4, 1, 4 }) end,
      function(a) return ae.stack({ a, a:flip(1) * a }, 2) end,
      function(a) return a:transpose(1, 2)[2] * a:transpose(1, 2)[-2] end,
    }
    for k, f in ipairs(fs) do
      local ok, msg = gc.check(f, { x })
      assert(ok, "case " .. k .. ": " .. tostring(msg))
    end
  end)

  it("squeeze, unsqueeze, permute, x[i] share storage with the base; flip and index_select copy", function()
    local base = ae.tensor { { 1, 2, 3 }, { 4, 5, 6 } }
    base[2]:fill_(7)
    assert.are.same({ { 1, 2, 3 }, { 7, 7, 7 } }, base:totable())
    base:unsqueeze(1):fill_(0)
    assert.are.same({ { 0, 0, 0 }, { 0, 0, 0 } }, base:totable())
    base:reshape(1, 2, 1, 3):squeeze():copy_(ae.tensor { { 1, 2, 3 }, { 4, 5, 6 } })
    assert.are.same({ { 1, 2, 3 }, { 4, 5, 6 } }, base:totable())
    local p, r = base:permute(2, 1), base[1]
    local f, s = base:flip(1), base:index_select(1, { 1 })
    base:fill_(9)
    assert.are.same({ { 9, 9 }, { 9, 9 }, { 9, 9 } }, p:totable())
    assert.are.same({ 9, 9, 9 }, r:totable())
    assert.are.same({ { 4, 5, 6 }, { 1, 2, 3 } }, f:totable())
    assert.are.same({ { 1, 2, 3 } }, s:totable())
    assert.is_false(p:is_contiguous())
  end)

  it("keeps x.shape, x.grad and the other fields while integers index rows", function()
    local x = ae.zeros(3, 2):requires_grad_()
    assert.are.equal("function", type(x.shape))
    assert.is_true(x.requires_grad)
    assert.is_nil(x.grad)
    assert.are.same({ 2 }, x[3]:shape())
    assert.are.equal("select", x[1].grad_fn ~= nil and "select" or nil)
    local y = ae.tensor { 5, 6, 7 }
    assert.are.same({}, y[1]:shape())
    assert.are.equal(7, y[-1]:item())
    assert.is_nil(rawget({}, 1))
  end)

  it("names bad dimensions, positions and rows", function()
    local a = ae.zeros(2, 3)
    assert.matches("dimension 3 out of range for a 2%-D tensor", error_of(a.squeeze, a, 3))
    assert.matches("dimension 4 out of range for a 3%-D tensor", error_of(a.unsqueeze, a, 4))
    assert.matches("permute: 1 dimensions given for shape 2×3, which has 2", error_of(a.permute, a, 1))
    assert.matches("permute: dimension 1 repeated", error_of(a.permute, a, 1, -2))
    assert.matches("flip: dimension 2 repeated", error_of(a.flip, a, 2, 2))
    assert.matches("flip: expects at least one dimension", error_of(a.flip, a))
    assert.matches("index_select: index 4 %(entry 2%) out of range for dimension 2 of size 3",
      error_of(a.index_select, a, 2, { 1, 4 }))
    assert.matches("index_select: index 0 %(entry 1%) is not a position", error_of(a.index_select, a, 2, { 0 }))
    assert.matches("index_select: index 1.5", error_of(a.index_select, a, 1, ae.tensor { 1.5 }))
    assert.matches("index must be a 1%-D tensor", error_of(a.index_select, a, 1, ae.zeros(1, 1)))
    assert.matches("stack: tensor 2 has shape 3×2, tensor 1 has 2×3", error_of(ae.stack, { a, ae.zeros(3, 2) }))
    assert.matches("dimension 4 out of range", error_of(ae.stack, { a, a }, 4))
    assert.matches("stack: element 2 is number", error_of(ae.stack, { a, 1 }))
    assert.matches("index: row 3 out of range for shape 2×3 %(2 rows%)", error_of(function() return a[3] end))
    assert.matches("index: row %-3 out of range", error_of(function() return a[-3] end))
    assert.matches("index: row 0", error_of(function() return a[0] end))
    assert.matches("index: row index must be an integer", error_of(function() return a[1.5] end))
    assert.matches("0%-D tensor", error_of(function() return ae.tensor({ 1 }):reshape({})[1] end))
    assert.matches("select: index %-4 out of range for dimension 2 of size 3", error_of(a.select, a, 2, -4))
  end)

  it("views of leaves under no_grad record nothing; empty tensors work", function()
    local x = ae.rand(2, 3):requires_grad_()
    ae.no_grad(function()
      assert.is_nil(x:permute(2, 1).grad_fn)
      assert.is_nil(x[1].grad_fn)
      assert.is_nil(x:flip(1).grad_fn)
    end)
    local e = ae.zeros(0, 3)
    assert.are.same({ 3, 0 }, e:permute(2, 1):shape())
    assert.are.same({ 0, 3 }, e:flip(1, 2):shape())
    assert.are.same({ 0, 0 }, e:index_select(2, {}):shape())
    assert.are.same({ 2, 0, 3 }, ae.stack { e, e }:shape())
  end)
end)

-- gather, masked_fill and masked_select against the same golden file: the
-- cases carry the index (1-based positions) or the 0/1 mask torch was given
describe("shape: gather, masked_fill, masked_select", function()
  local function data(c, key) return ae.tensor(c[key]):reshape(c[key .. "shape"]) end

  it("gather takes 1-based positions and accumulates repeated ones, as torch.gather", function()
    against("gather_2", function(a, c) return a:gather(2, data(c, "index")) end)
    against("gather_2", function(a, c) return ae.gather(a, -2, data(c, "index")) end)
    against("gather_1_smaller", function(a, c) return a:gather(1, data(c, "index")) end)
    against("gather_m1", function(a, c) return a:gather(3, data(c, "index")) end)
  end)

  it("masked_fill is torch's, the mask broadcasting either way", function()
    for _, name in ipairs { "masked_fill_same", "masked_fill_row", "masked_fill_grow", "masked_fill_both" } do
      against(name, function(a, c) return a:masked_fill(data(c, "mask"), -7.5) end)
    end
    against("masked_fill_same", function(a, c) return ae.masked_fill(a, data(c, "mask"), -7.5) end)
  end)

  it("masked_select is torch's: 1-D, row-major, the gradient scattered back", function()
    for _, name in ipairs { "masked_select_same", "masked_select_grow", "masked_select_row" } do
      against(name, function(a, c) return a:masked_select(data(c, "mask")) end)
    end
    against("masked_select_same", function(a, c) return ae.masked_select(a, data(c, "mask")) end)
  end)

  it("takes the masks comparisons make, and any value to fill with", function()
    local x = ae.tensor { { 1, -2, 3 }, { -4, 5, -6 } }
    assert.are.same({ 1, 3, 5 }, x:masked_select(x:gt(0)):totable())
    assert.are.same({ { 1, 0, 3 }, { 0, 5, 0 } }, x:masked_fill(x:lt(0), 0):totable())
    local inf = x:masked_fill(x:lt(0), -math.huge):totable()
    assert.are.equal(-math.huge, inf[2][3])
    local nan = x:masked_fill(x:gt(4), 0 / 0):totable()
    assert.is_true(nan[2][2] ~= nan[2][2])
    assert.are.same({ 0 }, x:masked_select(ae.zeros(2, 3)):shape())
    assert.are.same({ { 6 } }, ae.tensor({ { 5, 6 } }):gather(2, ae.tensor { { 2 } }):totable())
  end)

  it("gradients match finite differences on non-contiguous inputs", function()
    local x = gc.uniform({ 3, 2, 4 }, -1, 1)
    local idx = ae.tensor { { { 1, 3 }, { 3, 3 } }, { { 2, 1 }, { 1, 1 } } }
    local mask = ae.tensor { { 1, 0, 0, 1 } }
    local fs = {
      function(a) return a:transpose(1, 3):gather(3, ae.tensor { { { 1 }, { 3 } }, { { 3 }, { 3 } }, { { 2 }, { 1 } } }) end,
      function(a) return a:gather(1, idx:narrow(3, 1, 2)) * a:gather(3, idx + 1) end,
      function(a) return a:transpose(2, 3):masked_fill(mask:t(), 2) * a:transpose(2, 3) end,
      function(a) return a:masked_select(mask) * a:transpose(1, 2):contiguous():masked_select(mask) end,
      function(a) return a[1]:masked_fill(mask:reshape(1, 1, 4), -1) end,
    }
    for k, f in ipairs(fs) do
      local ok, msg = gc.check(f, { x })
      assert(ok, "case " .. k .. ": " .. tostring(msg))
    end
  end)

  it("names a bad index, mask or shape", function()
    local a = ae.zeros(2, 3)
    assert.matches("gather: index 4 at %[2%]%[1%] is not a position 1%.%.3 of dimension 2 %(shape 2×3%)",
      error_of(a.gather, a, 2, ae.tensor { { 1 }, { 4 } }))
    assert.matches("gather: index 0 at %[1%]%[1%] is not a position 1%.%.2 of dimension 1",
      error_of(a.gather, a, 1, ae.tensor { { 0 } }))
    assert.matches("gather: index 1.5 at %[1%]%[2%]", error_of(a.gather, a, 2, ae.tensor { { 1, 1.5 } }))
    assert.matches("gather: index nan at %[1%]%[1%]", error_of(a.gather, a, 2, ae.tensor { { 0 / 0 } }))
    assert.matches("gather: the index has shape 3 and the tensor 2×3: they must have as many dimensions",
      error_of(a.gather, a, 2, ae.ones(3)))
    assert.matches("gather: the index has shape 3×1, larger than the tensor's 2×3 in dimension 1",
      error_of(a.gather, a, 2, ae.ones(3, 1)))
    assert.matches("dimension 3 out of range", error_of(a.gather, a, 3, ae.ones(1, 1)))
    assert.matches("tensor expected", error_of(a.gather, a, 2, { { 1 } }))
    assert.matches("masked_fill: the mask holds 0.5 at %[2%]%[3%]; a mask holds only 0 and 1",
      error_of(a.masked_fill, a, ae.tensor { { 0, 0, 0 }, { 1, 1, 0.5 } }, 1))
    assert.matches("masked_select: the mask holds %-1 at %[1%]", error_of(a.masked_select, a, ae.tensor { -1 }))
    assert.matches("masked_select: the mask holds nan at %[2%]", error_of(a.masked_select, a, ae.tensor { 1, 0 / 0, 0 }))
    assert.matches("masked_fill: shapes 2×3 and 2 %(the mask%) cannot be broadcast together %(dimension 2: 3 vs 2%)",
      error_of(a.masked_fill, a, ae.ones(2), 0))
    assert.matches("masked_select: shapes 2×3 and 3×1 %(the mask%) cannot be broadcast together %(dimension 1: 2 vs 3%)",
      error_of(a.masked_select, a, ae.ones(3, 1)))
    assert.are.same({ 4, 2, 3 }, a:masked_fill(ae.ones(4, 1, 1), 1):shape())
    assert.matches("number expected", error_of(a.masked_fill, a, ae.ones(3), "x"))
  end)

  it("records nothing under no_grad; empty tensors work", function()
    local x = ae.rand(2, 3):requires_grad_()
    ae.no_grad(function()
      assert.is_nil(x:gather(1, ae.ones(1, 3)).grad_fn)
      assert.is_nil(x:masked_fill(ae.ones(3), 0).grad_fn)
      assert.is_nil(x:masked_select(ae.ones(3)).grad_fn)
    end)
    assert.are.equal("gather", x:gather(1, ae.ones(1, 3)).grad_fn)
    local e = ae.zeros(0, 3)
    assert.are.same({ 0, 3 }, e:gather(1, ae.zeros(0, 3)):shape())
    assert.are.same({ 0, 3 }, e:masked_fill(ae.ones(3), 1):shape())
    assert.are.same({ 0 }, e:masked_select(ae.ones(3)):shape())
  end)
end)
