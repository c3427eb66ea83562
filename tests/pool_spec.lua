-- The pool family (runtime/lua/pool.c, runtime/ops/pool.c): max_pool2d and
-- nearest upsampling, as ops (ae.max_pool2d, ae.upsample_nearest) and as
-- modules (nn.MaxPool2d, nn.Upsample): values and gradients against PyTorch
-- (tests/golden/conv_golden.lua), gradients against central finite
-- differences, and the shape rules.
local ae = require "aerun"
local gc = require "tests.helpers.gradcheck"
local nn = ae.nn
local U = gc.uniform

local C = require "tests.helpers.check"
local G = C.golden("conv_golden.lua")
local ok, leaf = C.grad_ok, C.leaf

-- C.check with a tolerance {atol = , rtol = }
local function close(what, got, want, tol) C.check(what, got, want, tol.atol, tol.rtol) end

-- Values copied, not computed: equal to float32 precision (the golden file
-- prints 9 significant digits, which identify a float32 but are not it).
local EXACT = { atol = 0, rtol = 1e-7 }

describe("pool golden values from PyTorch " .. G.torch_version, function()
  for _, c in ipairs(G.max_pool2d) do
    it(c.name, function()
      local x = leaf(c.x)
      local y = ae.max_pool2d(x, c.kernel_size, c.stride, c.padding)
      -- a maximum is one of the inputs: exact
      close(c.name .. ": y", y, c.y, EXACT)
      ;(y * ae.tensor(c.g)):sum():backward()
      close(c.name .. ": grad x", x.grad, c.grad_x, EXACT)
      local m = nn.MaxPool2d(c.kernel_size, { stride = c.stride, padding = c.padding })
      close(c.name .. ": module", m(ae.tensor(c.x)), c.y, EXACT)
    end)
  end

  for _, c in ipairs(G.upsample) do
    it(c.name, function()
      local x = leaf(c.x)
      local y = ae.upsample_nearest(x, c.scale_factor)
      close(c.name .. ": y", y, c.y, EXACT)
      ;(y * ae.tensor(c.g)):sum():backward()
      -- block sums of a few products
      close(c.name .. ": grad x", x.grad, c.grad_x, { atol = 1e-6, rtol = 1e-6 })
    end)
  end
end)

describe("pool gradients by finite differences", function()
  before_each(function()
    ae.manual_seed(11)
    math.randomseed(11)
  end)

  -- inputs a shuffled grid of distinct values, so no window holds two
  -- maxima within the finite-difference step
  local function distinct(shape)
    local n = 1
    for _, d in ipairs(shape) do n = n * d end
    local v = {}
    for i = 1, n do v[i] = (i - n / 2) * 0.05 end
    for i = n, 2, -1 do
      local j = math.random(i)
      v[i], v[j] = v[j], v[i]
    end
    return ae.tensor(v):reshape(shape)
  end

  it("max_pool2d: 2x2, 3x3 stride 2 padding 1, 2x3 stride {1, 2}", function()
    local x = distinct { 2, 2, 6, 6 }
    ok(function(t) return ae.max_pool2d(t, 2) end, { x })
    ok(function(t) return ae.max_pool2d(t, 3, 2, 1) end, { x })
    ok(function(t) return ae.max_pool2d(t, { 2, 3 }, { 1, 2 }) end, { x })
  end)

  it("upsample_nearest: 2 and {2, 3}", function()
    local x = U({ 2, 2, 3, 3 }, -1, 1)
    ok(function(t) return ae.upsample_nearest(t, 2) end, { x })
    ok(function(t) return ae.upsample_nearest(t, { 2, 3 }) end, { x })
  end)
end)

describe("pool shape rules", function()
  local fails = C.fails

  it("max_pool2d and upsample_nearest", function()
    local x = ae.zeros(1, 1, 4, 4)
    fails("max_pool2d: input must be 4-D", function() ae.max_pool2d(ae.zeros(4, 4), 2) end)
    fails("max_pool2d: kernel 0×0 and stride 0×0 must be positive", function() ae.max_pool2d(x, 0) end)
    fails("max_pool2d: padding 2×2 must be non-negative and at most half the kernel 3×3",
      function() ae.max_pool2d(x, 3, 1, 2) end)
    fails("max_pool2d: kernel 5×5 is larger than the padded input 4×4",
      function() ae.max_pool2d(x, 5) end)
    fails("upsample_nearest: scale_factor 0×0 must be a positive integer",
      function() ae.upsample_nearest(x, 0) end)
    fails("scale_factor must be an integer", function() ae.upsample_nearest(x, 1.5) end)
    fails("upsample_nearest: input must be 4-D", function() ae.upsample_nearest(ae.zeros(4), 2) end)
  end)
end)

describe("pool modules", function()
  it("MaxPool2d and Upsample as layers", function()
    local x = ae.tensor { { { { 1, 2, 5, 3 }, { 4, 0, 1, 1 }, { 7, 8, 2, 9 }, { 0, 1, 3, 6 } } } }
    assert.are.same({ { { { 4, 5 }, { 8, 9 } } } }, nn.MaxPool2d(2)(x):totable())
    local y = nn.Upsample { scale_factor = 2 }(ae.tensor { { { { 1, 2 } } } })
    assert.are.same({ { { { 1, 1, 2, 2 }, { 1, 1, 2, 2 } } } }, y:totable())
  end)
end)
