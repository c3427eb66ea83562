-- The classify family (runtime/lua/classify.c, runtime/ops/classify.c):
-- log_softmax, ae.loss.cross_entropy, argmax and eigh, against their
-- definitions and PyTorch's conventions, their gradients by finite
-- differences, and their errors.
local ae = require "aerun"
local gc = require "tests.helpers.gradcheck"

local function close(a, b, tol)
  local fa, fb = gc.flatten(a:totable()), gc.flatten(b:totable())
  assert.are.equal(#fa, #fb)
  for i = 1, #fa do
    assert(math.abs(fa[i] - fb[i]) <= tol * (1 + math.abs(fb[i])),
      string.format("element %d: %.8g vs %.8g", i, fa[i], fb[i]))
  end
end

describe("classify", function()
  before_each(function()
    ae.manual_seed(11)
    math.randomseed(11)
  end)

  it("log_softmax is x - log Σ exp(x) along the last dimension, even for large x", function()
    local x = ae.randn(5, 7) * 3
    close(x:log_softmax(), x - x:exp():sum(2, true):log(), 1e-5)
    local x3 = ae.randn(2, 3, 4)
    close(ae.log_softmax(x3), x3 - x3:exp():sum(3, true):log(), 1e-5)
    -- exp(1000) overflows; the max taken out first keeps it exact
    local big = ae.tensor { { 1000, 1001, 1002 } }
    close(big:log_softmax(), ae.tensor { { 1, 2, 3 } }:log_softmax(), 1e-6)
    local rows = big:log_softmax():exp():sum(2)
    close(rows, ae.ones(1), 1e-6)
  end)

  it("cross_entropy is the mean of -log_softmax at the label, as F.cross_entropy", function()
    local z = ae.randn(6, 4) * 2
    local y = ae.tensor { 0, 3, 1, 1, 2, 0 }
    local ls = z:log_softmax():totable()
    local per, sum = {}, 0
    for i, label in ipairs(y:totable()) do
      per[i] = -ls[i][math.tointeger(label) + 1]
      sum = sum + per[i]
    end
    close(ae.loss.cross_entropy(z, y, "none"), ae.tensor(per), 1e-5)
    assert.is_near(sum, ae.loss.cross_entropy(z, y, "sum"):item(), 1e-4)
    assert.is_near(sum / 6, ae.loss.cross_entropy(z, y):item(), 1e-5)
    -- shifting every logit changes nothing, even by 1000
    local shifted = ae.loss.cross_entropy(ae.tensor { { 1000, 1001, 1002 } }, ae.tensor { 1 }):item()
    assert.is_near(ae.loss.cross_entropy(ae.tensor { { 0, 1, 2 } }, ae.tensor { 1 }):item(), shifted, 1e-6)
    -- uniform logits: log K
    assert.is_near(math.log(10), ae.loss.cross_entropy(ae.zeros(3, 10), ae.tensor { 0, 5, 9 }):item(), 1e-6)
  end)

  it("gradients match finite differences", function()
    local y = ae.tensor { 2, 0, 1, 2 }
    for _, r in ipairs { "mean", "sum", "none" } do
      assert(gc.check(function(z) return ae.loss.cross_entropy(z, y, r) end, { gc.uniform({ 4, 3 }, -2, 2) }))
    end
    assert(gc.check(function(x) return x:log_softmax() end, { gc.uniform({ 3, 5 }, -2, 2) }))
    assert(gc.check(function(x) return x:log_softmax() end, { gc.uniform({ 2, 2, 3 }, -2, 2) }))
  end)

  it("a softmax classifier trained with cross_entropy fits separable data", function()
    local x = ae.tensor { { 2, 0 }, { 0, 2 }, { -2, 0 }, { 0, -2 }, { 2.5, 0.5 }, { 0.5, 2.5 }, { -2.5, -0.5 }, { -0.5, -2.5 } }
    local y = ae.tensor { 0, 1, 2, 3, 0, 1, 2, 3 }
    local lin = ae.nn.Linear(2, 4)
    local opt = ae.optim.Adam(lin:parameters(), { lr = 0.1 })
    for _ = 1, 200 do
      opt:zero_grad()
      local l = ae.loss.cross_entropy(lin(x), y)
      l:backward()
      opt:step()
    end
    assert.are.equal(1, ae.metrics.accuracy(lin(x), y))
    assert.are.same(y:totable(), (lin(x):argmax(2) - 1):totable())
  end)

  it("refuses labels that are not class ids, and bad shapes", function()
    local z = ae.zeros(3, 4)
    local cases = {
      { ae.tensor { 0, 4, 1 }, "label 4 of row 2 is not a class id 0..3" },
      { ae.tensor { 0, -1, 1 }, "label %-1 of row 2" },
      { ae.tensor { 0, 1.5, 1 }, "label 1.5 of row 2" },
      { ae.tensor { 0, 1 }, "labels 2 must be one class id per row of logits 3×4" },
      { ae.zeros(3, 1), "labels 3×1 must be one class id per row" },
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(ae.loss.cross_entropy, z, c[1])
      assert.is_false(ok)
      assert.matches(c[2], err)
    end
    local ok, err = pcall(ae.loss.cross_entropy, ae.zeros(4), ae.zeros(4))
    assert.is_false(ok)
    assert.matches("logits must be N×K", err)
    ok, err = pcall(ae.loss.cross_entropy, z, ae.zeros(3), "avg")
    assert.is_false(ok)
    assert.matches('ae.loss.cross_entropy: reduction must be "mean", "sum" or "none", got the string "avg"', err, nil, true)
  end)

  -- argmax is in the reduce family now (tests/reduce_spec.lua has its
  -- golden values); here, what a classifier uses it for
  it("argmax gives 1-based positions, the first on ties, along any dimension", function()
    local x = ae.tensor { { 1, 5, 5 }, { 7, 0, 7 } }
    -- without a dimension: the flat position, as torch.argmax(x)
    assert.are.equal(4, x:argmax():item())
    assert.are.same({ 2, 1 }, x:argmax(-1):totable())
    assert.are.same({ 2, 1 }, x:argmax(2):totable())
    assert.are.same({ 2, 1, 2 }, x:argmax(1):totable())
    assert.are.same({ 2, 1, 2 }, ae.argmax(x, -2):totable())
    local t = ae.randn(3, 4, 5)
    local pos = t:argmax(2):totable()
    local v = t:totable()
    for i = 1, 3 do
      for k = 1, 5 do
        local best, arg = -math.huge, 0
        for j = 1, 4 do if v[i][j][k] > best then best, arg = v[i][j][k], j end end
        assert.are.equal(arg, pos[i][k])
      end
    end
    local nan = ae.tensor { 1, 0 / 0, 3 }
    assert.are.equal(2, nan:argmax():item())
    assert.has_error(function() ae.argmax(ae.zeros(2, 0), 2) end)
    assert.has_error(function() x:argmax(3) end)
  end)

  it("eigh: A·V = V·diag(w), VᵀV = I, ascending, as torch.linalg.eigh", function()
    for _, n in ipairs { 1, 2, 5, 40 } do
      local b = ae.randn(n, n)
      local a = b + b:t()
      local w, v = ae.eigh(a)
      assert.are.same({ n }, w:shape())
      assert.are.same({ n, n }, v:shape())
      close(ae.matmul(a, v), v * w:reshape(1, n), 1e-4)
      close(ae.matmul(v:t(), v), ae.eye and ae.eye(n) or (function()
        local rows = {}
        for i = 1, n do
          rows[i] = {}
          for j = 1, n do rows[i][j] = i == j and 1 or 0 end
        end
        return ae.tensor(rows)
      end)(), 1e-5)
      local wl = w:totable()
      for i = 2, n do assert.is_true(wl[i - 1] <= wl[i]) end
    end
    -- a known spectrum: [[2, 1], [1, 2]] has 1 and 3
    local w, v = ae.eigh(ae.tensor { { 2, 1 }, { 1, 2 } })
    close(w, ae.tensor { 1, 3 }, 1e-6)
    local vt = v:totable()
    assert.is_near(math.abs(vt[1][2]), math.sqrt(0.5), 1e-6)
    -- the lower triangle is what counts
    close(ae.eigh(ae.tensor { { 2, 99 }, { 1, 2 } }), ae.tensor { 1, 3 }, 1e-6)
  end)

  it("eigh refuses what it cannot decompose", function()
    local cases = {
      { ae.zeros(2, 3), "eigh: expects a square n×n matrix, got 2×3" },
      { ae.zeros(4), "eigh: expects a square n×n matrix, got 4" },
      { ae.tensor { { 1, 0 }, { 0 / 0, 1 } }, "eigh: element 3 of the 2×2 matrix is %-?nan" },
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(ae.eigh, c[1])
      assert.is_false(ok)
      assert.matches(c[2], err)
    end
    local ok, err = pcall(ae.eigh, ae.ones(2, 2):requires_grad_(true))
    assert.is_false(ok)
    assert.matches("eigh: has no gradient", err)
    assert.is_true((ae.no_grad(function() return ae.eigh(ae.ones(2, 2):requires_grad_(true)) end)) ~= nil)
  end)
end)
