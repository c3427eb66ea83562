-- The loss family (runtime/lua/loss.c, runtime/ops/loss.c): ae.loss.mse,
-- bce and bce_logits with their reductions (ae.loss.cross_entropy is the
-- classify family's, in classify_spec.lua).  Gradients are in
-- gradcheck_spec.lua under "loss", PyTorch's values in golden_spec.lua.
local ae = require "aerun"

local C = require "tests.helpers.check"
local error_of = C.error_of

-- got against the list want, to tol (1e-6 unless given) absolute and relative
local function near(want, got, tol) C.check("value", got, want, tol or 1e-6, tol or 1e-6) end

describe("loss", function()
  it("mse: mean, sum and none of the squared differences", function()
    local x, t = ae.tensor { { 1, 2 }, { 3, 4 } }, ae.tensor { { 1, 0 }, { 0, 4 } }
    near({ (4 + 9) / 4 }, ae.loss.mse(x, t))
    near({ 13 }, ae.loss.mse(x, t, "sum"))
    near({ 0, 4, 9, 0 }, ae.loss.mse(x, t, "none"))
    assert.are.same({ 2, 2 }, ae.loss.mse(x, t, "none"):shape())
  end)

  it("bce: -(t log p + (1 - t) log(1 - p)), finite at p = 0 and 1", function()
    local p, t = ae.tensor { 0.9, 0.2 }, ae.tensor { 1, 0 }
    near({ -math.log(0.9), -math.log(0.8) }, ae.loss.bce(p, t, "none"), 1e-5)
    near({ -(math.log(0.9) + math.log(0.8)) / 2 }, ae.loss.bce(p, t), 1e-5)
    -- logs clamped at -100, as in PyTorch
    near({ 100 }, ae.loss.bce(ae.tensor { 0 }, ae.tensor { 1 }, "sum"))
  end)

  it("bce_logits equals bce of the sigmoid, and is stable for large logits", function()
    local z, t = ae.tensor { -3, 0.5, 2 }, ae.tensor { 0, 1, 0.3 }
    near(ae.loss.bce(z:sigmoid(), t, "none"):totable(), ae.loss.bce_logits(z, t, "none"), 1e-5)
    near({ 1000 }, ae.loss.bce_logits(ae.tensor { 1000 }, ae.tensor { 0 }, "sum"), 1e-5)
    near({ 0 }, ae.loss.bce_logits(ae.tensor { 1000 }, ae.tensor { 1 }, "sum"))
  end)

  it("names the shapes, a probability outside [0, 1] and a bad reduction", function()
    assert.matches("mse: input 2×3 and target 3×2 must have the same shape",
      error_of(ae.loss.mse, ae.zeros(2, 3), ae.zeros(3, 2)))
    assert.matches("bce: input must be probabilities in %[0, 1%], element 1 is 1.5",
      error_of(ae.loss.bce, ae.full(2, 2, 1.5), ae.zeros(2, 2)))
    assert.matches('ae.loss.bce_logits: reduction must be "mean", "sum" or "none", got the string "avg"',
      error_of(ae.loss.bce_logits, ae.zeros(2), ae.zeros(2), "avg"), nil, true)
    assert.matches('loss_spec.lua:%d+: ae.loss.mse: reduction must be "mean", "sum" or "none", got the string "avg"',
      error_of(function() return ae.loss.mse(ae.zeros(2), ae.zeros(2), "avg") end))
  end)
end)
