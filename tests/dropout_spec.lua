-- The dropout family (runtime/lua/dropout.c, runtime/ops/dropout.c):
-- ae.dropout and nn.Dropout: the mask and its scaling, the gradient by
-- finite differences, the fraction kept, eval, and the error messages.
local ae = require "aerun"
local nn = ae.nn
local gc = require "tests.helpers.gradcheck"
local U = gc.uniform

local C = require "tests.helpers.check"
local ok, close, count_errors = C.grad_ok, C.check, C.error_of

describe("dropout", function()
  it("with the same seed draws the same mask; grad is the mask's scaling", function()
    ae.manual_seed(42)
    local a = ae.dropout(ae.ones(1000), 0.3)
    ae.manual_seed(42)
    local x = ae.ones(1000):requires_grad_(true)
    local b = ae.dropout(x, 0.3)
    -- the path without a graph and the one with draw alike
    close("same mask", b, a:totable(), 0, 0)
    b:sum():backward()
    close("grad is the mask", x.grad, b:totable(), 0, 0)
    local dropped, kept = 0, 0
    for _, v in ipairs(gc.flatten(b:totable())) do
      if v == 0 then dropped = dropped + 1 else kept = kept + 1 end
      assert(v == 0 or math.abs(v - 1 / 0.7) < 1e-6, "unexpected value " .. v)
    end
    assert(dropped > 0 and kept > 0, "both dropped and kept elements")
  end)

  it("gradient by finite differences under a fixed seed", function()
    math.randomseed(3)
    ok(function(x)
      ae.manual_seed(9)
      return ae.dropout(x, 0.4)
    end, { U({ 4, 5 }, -2, 2) })
  end)

  it("keeps a fraction near 1 - p of a large tensor, unbiased in the mean", function()
    ae.manual_seed(1)
    local n = 200000
    for _, p in ipairs { 0.1, 0.5, 0.8 } do
      local y = ae.dropout(ae.ones(n), p)
      local kept = y:sum():item() * (1 - p) / n
      -- four binomial standard deviations
      local sd = math.sqrt(p * (1 - p) / n)
      assert(math.abs(kept - (1 - p)) < 4 * sd, ("p = %g: kept %.5f"):format(p, kept))
      assert(math.abs(y:mean():item() - 1) < 4 * sd / (1 - p), "mean preserved")
    end
  end)

  it("eval and p = 0 give x itself; p = 1 zeroes everything", function()
    local x = ae.randn(3, 4):requires_grad_(true)
    assert.is_true(rawequal(x, ae.dropout(x, 0.5, false)))
    assert.is_true(rawequal(x, ae.dropout(x, 0)))
    local y = ae.dropout(x, 1)
    close("p = 1", y, ae.zeros(3, 4):totable(), 0, 0)
    y:sum():backward()
    close("p = 1 grad", x.grad, ae.zeros(3, 4):totable(), 0, 0)
  end)

  it("refuses p outside [0, 1]", function()
    for _, p in ipairs { -0.1, 1.5, 0 / 0 } do
      local e = count_errors(function() return ae.dropout(ae.ones(3), p) end)
      assert.matches("dropout: probability has to be between 0 and 1", e, 1, true)
    end
    local e = count_errors(function() return nn.Dropout(2) end)
    assert.matches("Dropout: dropout probability has to be between 0 and 1, but got 2", e, 1, true)
  end)

  it("nn.Dropout follows train() and eval()", function()
    local d = nn.Dropout(0.25)
    assert.equal(0.25, d._config.p)
    assert.same({ "p" }, d._config_keys)
    assert.equal(0.5, nn.Dropout()._config.p)
    assert.equal(0.1, nn.Dropout { p = 0.1 }._config.p)
    local model = nn.Sequential { nn.Linear(4, 4), d }
    local x = ae.ones(500, 4)
    ae.manual_seed(2)
    local y = model(x)
    local zeros = 0
    for _, v in ipairs(gc.flatten(y:totable())) do if v == 0 then zeros = zeros + 1 end end
    assert(zeros > 300 and zeros < 700, "about a quarter of 2000 dropped, got " .. zeros)
    model:eval()
    local lin = model[1](x)
    close("eval is the identity", model(x), lin:totable(), 0, 0)
  end)
end)

