-- The reduce family (runtime/lua/reduce.c, runtime/ops/reduce.c): sum and
-- mean over everything or one dimension; max and min (whole tensor, or
-- values and positions along a dimension), argmax, argmin, var and std.
-- Gradients of sum and mean are in gradcheck_spec.lua under "reduce"; those
-- of max, min, var and std are checked here by finite differences.
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

describe("reduce: max, min, argmax, argmin along a dimension", function()
  local G = C.golden("reduce_golden.lua").extremes
  local x = ae.tensor(G.x)

  -- values are copied from the input and positions are small integers:
  -- both must be exact (atol = rtol = 0)
  it("match torch.max/min/argmax/argmin(x, dim, keepdim), ties to the first", function()
    for _, c in ipairs(G.cases) do
      local what = ("dim %d keepdim %s"):format(c.dim, tostring(c.keepdim))
      local v, at = x:max(c.dim, c.keepdim)
      C.check(what .. " max", v, c.max, 0, 0)
      C.check(what .. " max positions", at, c.max_at, 0, 0)
      v, at = ae.min(x, c.dim, c.keepdim)
      C.check(what .. " min", v, c.min, 0, 0)
      C.check(what .. " min positions", at, c.min_at, 0, 0)
      assert.are.same(v:shape(), at:shape())
      C.check(what .. " argmax", x:argmax(c.dim, c.keepdim), c.argmax, 0, 0)
      C.check(what .. " argmin", ae.argmin(x, c.dim, c.keepdim), c.argmin, 0, 0)
    end
    assert.are.equal(G.argmax, x:argmax():item())
    assert.are.equal(G.argmin, x:argmin():item())
    assert.are.equal(0, x:argmax():dim())
  end)

  it("x:max(2) gives the per-row maxima (it used to ignore the 2)", function()
    local a = ae.tensor { { 1, 9, 3 }, { 8, 5, 6 } }
    local v, at = a:max(2)
    assert.are.same({ 9, 8 }, v:totable())
    assert.are.same({ 2, 1 }, at:totable())
    v, at = a:min(1)
    assert.are.same({ 1, 5, 3 }, v:totable())
    assert.are.same({ 1, 2, 1 }, at:totable())
    assert.are.same({ 2, 1 }, ({ a:max(2, true) })[1]:shape())
    assert.are.same({ 1, 3 }, ({ a:min(1, true) })[2]:shape())
    assert.are.same({ 2, 1 }, a:argmax(-1, true):shape())
    -- no argument: the whole tensor's extreme and flat position, plain numbers
    local m, pos = a:max()
    assert.are.equal(9, m)
    assert.are.equal(2, pos)
    -- views
    v, at = a:t():max(1)
    assert.are.same({ 9, 8 }, v:totable())
    assert.are.same({ 2, 1 }, at:totable())
  end)

  it("NaN counts as the largest and the smallest, as in torch", function()
    local a = ae.tensor { { 1, 0 / 0, 3, 0 / 0 }, { 4, 2, 7, 7 } }
    local v, at = a:max(2)
    local vt = v:totable()
    assert.is_true(vt[1] ~= vt[1])
    assert.are.equal(7, vt[2])
    assert.are.same({ 2, 3 }, at:totable())
    v, at = a:min(2)
    vt = v:totable()
    assert.is_true(vt[1] ~= vt[1])
    assert.are.same({ 2, 2 }, at:totable())
    assert.are.same({ 2, 3 }, a:argmax(2):totable())
    assert.are.same({ 2, 2 }, a:argmin(2):totable())
    assert.are.equal(2, a:argmax():item())
  end)

  it("the values' gradient goes to the selected element", function()
    local a = C.leaf { { 1, 9, 9 }, { 8, 5, 6 } }
    local v = a:max(2)
    ;(v * ae.tensor { 2, 3 }):sum():backward()
    assert.are.same({ { 0, 2, 0 }, { 3, 0, 0 } }, a.grad:totable())
    local b = C.leaf { { 1, 9, 3 }, { 8, 5, 6 } }
    ae.min(b, 1, true):sum():backward()
    assert.are.same({ { 1, 0, 1 }, { 0, 1, 0 } }, b.grad:totable())
    -- finite differences, inputs with distinct values (no kinks within eps)
    local function distinct(shape)
      local n = 1
      for _, s in ipairs(shape) do n = n * s end
      local vals = {}
      for i = 1, n do vals[i] = (i * 7 % n) * 0.1 - 0.5 end
      return ae.tensor(vals):reshape(shape)
    end
    local t = distinct { 3, 4, 5 }
    for _, d in ipairs { 1, 2, 3, -1 } do
      C.grad_ok(function(y) return (y:max(d)) end, { t })
      C.grad_ok(function(y) return (y:min(d, true)) end, { t })
    end
    -- no node for the positions, none in no_grad
    local _, at = C.leaf({ 1, 2 }):max(1)
    assert.is_false(at.requires_grad)
    ae.no_grad(function() assert.is_false((C.leaf({ 1, 2 }):max(1)).requires_grad) end)
  end)

  it("refuses bad dimensions and arguments", function()
    local a = ae.zeros(2, 3)
    assert.matches("dimension 3 out of range for a 2%-D tensor", error_of(ae.max, a, 3))
    assert.matches("dimension 0 out of range", error_of(ae.min, a, 0))
    assert.matches("dimension %-3 out of range", error_of(ae.argmax, a, -3))
    assert.matches("dimension 3 out of range", error_of(ae.argmin, a, 3))
    assert.matches("dimension must be an integer", error_of(ae.max, a, 1.5))
    assert.matches("boolean expected", error_of(ae.max, a, 1, "yes"))
    assert.matches("boolean expected", error_of(ae.argmax, a, 1, 1))
    assert.matches("max takes at most 3 arguments", error_of(ae.max, a, 1, true, 1))
    assert.matches("argmin takes at most 3 arguments", error_of(ae.argmin, a, 1, false, 1))
    assert.matches("keepdim needs a dimension", error_of(ae.max, a, nil, true))
    assert.matches("keepdim needs a dimension", error_of(ae.argmax, a, nil, true))
    assert.matches("max: dimension 2 of 3×0 is empty", error_of(ae.max, ae.zeros(3, 0), 2))
    assert.matches("argmax: empty tensor", error_of(ae.argmax, ae.zeros(0)))
    assert.matches("argmin: dimension 1 of 0 is empty", error_of(ae.argmin, ae.zeros(0), 1))
    assert.matches("sum takes at most 3 arguments", error_of(ae.sum, a, 1, true, 2))
    assert.matches("boolean expected", error_of(ae.mean, a, 1, "x"))
  end)
end)

describe("reduce: var and std", function()
  local G = C.golden("reduce_golden.lua").var
  local x = ae.tensor(G.x)

  -- two passes in double, rounded once to float32, as ATen: measured
  -- within 1 ulp of torch (the mean ATen subtracts may itself be rounded
  -- to float32); a wrong correction moves the value by >= 1/N ≈ 14%
  local function ulps_ok(what, got, want, max_ulps)
    local g, w = C.values(got), C.flatten(type(want) == "number" and { want } or want)
    assert(#g == #w, what .. ": count")
    for k = 1, #w do
      local u = C.ulps(g[k], C.f32(w[k]))
      assert(u <= max_ulps, ("%s element %d: got %.9g, torch %.9g (%d ulps)"):format(what, k, g[k], w[k], u))
    end
  end

  it("match torch.var/std for every dimension, correction and keepdim", function()
    for _, c in ipairs(G.cases) do
      local what = ("dim %s correction %d keepdim %s"):format(tostring(c.dim), c.correction, tostring(c.keepdim))
      local opts = { correction = c.correction }
      local v, s
      if c.dim then
        v, s = x:var(c.dim, c.keepdim, opts), ae.std(x, c.dim, c.keepdim, opts)
      else
        v, s = x:var(opts), x:std(opts)
        assert.are.equal(0, v:dim())
      end
      ulps_ok(what .. " var", v, c.var, 1)
      ulps_ok(what .. " std", s, c.std, 1)
      if c.dim then
        local want = x:sum(c.dim, c.keepdim):shape()
        assert.are.same(want, v:shape())
        assert.are.same(want, s:shape())
      end
    end
    local big = ae.tensor(G.big)
    ulps_ok("big var", big:var(2), G.big_var, 1)
    ulps_ok("big std", big:std(-1), G.big_std, 1)
    ulps_ok("big var all", big:var(), G.big_var_all, 1)
    ulps_ok("big std all", big:std(), G.big_std_all, 1)
  end)

  it("default correction 1; unbiased = false is correction 0", function()
    local a = ae.tensor { 1, 2, 3, 4 }
    assert.are.equal(C.f32(5 / 3), a:var():item())
    assert.are.equal(C.f32(5 / 3), a:var({ unbiased = true }):item())
    assert.are.equal(1.25, a:var({ unbiased = false }):item())
    assert.are.equal(1.25, a:var({ correction = 0 }):item())
    assert.are.equal(C.f32(math.sqrt(1.25)), a:std(1, { unbiased = false }):item())
    assert.are.same({ 1 }, a:std(1, true):shape())
    -- N = 1 with correction 1 divides 0 by 0, NaN as torch; correction > N too
    local n = ae.tensor({ 3 }):var():item()
    assert.is_true(n ~= n)
    n = ae.tensor({ { 3, 4 } }):std(1):totable()
    assert.is_true(n[1] ~= n[1] and n[2] ~= n[2])
    assert.are.equal(0, ae.tensor({ 3 }):var({ correction = 0 }):item())
  end)

  it("gradients: torch's and finite differences", function()
    -- ATen's formula 2/(N-c)·g·(x - mean) in float32, but its mean is a
    -- float32 sum where ours is rounded from double: the two means differ
    -- by an ulp, which x - mean magnifies where it nearly cancels (measured
    -- up to 48 ulps of a small gradient); absolutely well under 1e-6
    for _, name in ipairs { "var", "std" } do
      local xl = C.leaf(G.x)
      ;(xl[name](xl, 2) * ae.tensor(G.g)):sum():backward()
      C.check(name .. " grad", xl.grad, G.grad[name], 1e-6, 1e-5)
    end
    -- fixed values with well spread slices: std's curvature grows as a
    -- slice's spread shrinks, and central differences with eps = 1e-2 then
    -- stop being accurate (random inputs hit that)
    local t = ae.tensor { { -1.5, 0.3, 1.1, 2.0 }, { 0.7, -0.9, 1.8, -1.9 }, { 1.4, -0.2, -1.3, 0.6 } }
    for _, c in ipairs { 0, 1 } do
      C.grad_ok(function(y) return y:var(2, { correction = c }) end, { t })
      C.grad_ok(function(y) return y:std(1, true, { correction = c }) end, { t })
      C.grad_ok(function(y) return y:var({ correction = c }) end, { t })
      C.grad_ok(function(y) return y:std({ correction = c }) end, { t })
    end
    -- std of a constant slice: gradient 0, as torch's masked std_backward
    local z = C.leaf { { 2, 2, 2 } }
    z:std(2):sum():backward()
    assert.are.same({ { 0, 0, 0 } }, z.grad:totable())
  end)

  it("refuses bad options and arguments", function()
    local a = ae.zeros(2, 3)
    assert.matches("dimension 3 out of range", error_of(ae.var, a, 3))
    assert.matches("correction must be an integer >= 0, got %-1", error_of(ae.var, a, { correction = -1 }))
    assert.matches("correction must be an integer >= 0, got 0.5", error_of(ae.std, a, 1, { correction = 0.5 }))
    assert.matches("unbiased must be a boolean", error_of(ae.std, a, { unbiased = 1 }))
    assert.matches("unknown option ddof", error_of(ae.var, a, { ddof = 1 }))
    assert.matches("not both", error_of(ae.var, a, { correction = 1, unbiased = true }))
    assert.matches("boolean expected", error_of(ae.var, a, 1, "x"))
    assert.matches("keepdim needs a dimension", error_of(ae.std, a, nil, true))
    assert.matches("var takes", error_of(ae.var, a, 1, true, 3))
    assert.matches("var takes", error_of(ae.var, a, 1, true, 3, {}))
  end)
end)
