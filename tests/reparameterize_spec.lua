-- ae.reparameterize (runtime/lua/reparameterize.c,
-- runtime/ops/reparameterize.c): z = mu + eps·exp(logvar/2).  Values and
-- gradients against PyTorch (tests/golden/ae_golden.lua), finiteness at
-- extreme logvar, eps drawn from the runtime RNG, and the errors for bad
-- input.  Gradients by finite differences are in gradcheck_spec.lua under
-- "reparameterize".
local ae = require "aerun"
local C = require "tests.helpers.check"
local G = C.golden("ae_golden.lua")
local check, all_finite, leaf, error_of = C.check, C.all_finite, C.leaf, C.error_of

describe("reparameterize", function()
  before_each(function()
    ae.manual_seed(11)
    math.randomseed(11)
  end)

  describe("golden values from PyTorch " .. G.torch_version, function()
    local V = G.vae

    it("reparameterize with PyTorch's eps: z and gradients", function()
      local mu, lv, eps = leaf(V.mu), leaf(V.logvar), leaf(V.eps)
      local z = ae.reparameterize(mu, lv, eps)
      check("z", z, V.reparameterize.z)
      ;(z * ae.tensor(V.g)):sum():backward()
      check("z grad mu", mu.grad, V.reparameterize.grad_mu)
      check("z grad logvar", lv.grad, V.reparameterize.grad_logvar)
      check("z grad eps", eps.grad, V.reparameterize.grad_eps)
    end)
  end)

  describe("logvar far outside [-30, 20]", function()
    local function extreme()
      local mu = leaf { { 0.5, -1, 2 }, { 0, 1, -0.5 } }
      local lv = leaf { { 1000, -1000, 0.5 }, { -1000, 1000, 25 } }
      return mu, lv
    end

    it("reparameterize and its gradients stay finite", function()
      local mu, lv = extreme()
      local z = ae.reparameterize(mu, lv)
      all_finite("z", z)
      z:sum():backward()
      all_finite("grad mu", mu.grad)
      all_finite("grad logvar", lv.grad)
      assert.are.equal(0, lv.grad:totable()[1][1])
    end)
  end)

  describe("reparameterize draws eps from the runtime RNG", function()
    it("the same seed gives the same z, and z - mu over exp(logvar/2) looks like N(0, 1)", function()
      local n = 20000
      local mu, lv = ae.full(n, 2, 3.0), ae.full(n, 2, math.log(4))   -- std 2
      ae.manual_seed(5)
      local z1 = ae.reparameterize(mu, lv)
      ae.manual_seed(5)
      local z2 = ae.reparameterize(mu, lv)
      assert.are.same(z1:totable(), z2:totable())
      local e = (z1 - 3) / 2
      local m = e:mean():item()
      local var = (e * e):mean():item() - m * m
      assert.is_true(math.abs(m) < 4 / math.sqrt(2 * n), "mean " .. m)
      assert.is_true(math.abs(var - 1) < 0.05, "variance " .. var)
    end)

    it("gradients with a drawn eps: dz/dmu = 1, dz/dlogvar = (z - mu)/2", function()
      local mu, lv = leaf { { 0.3, -0.2 } }, leaf { { 0.4, -1.0 } }
      local z = ae.reparameterize(mu, lv)
      z:sum():backward()
      assert.are.same({ { 1, 1 } }, mu.grad:totable())
      local zt, g = z:totable()[1], lv.grad:totable()[1]
      check("dz/dlogvar", lv.grad, { { (zt[1] - 0.3) / 2, (zt[2] + 0.2) / 2 } }, 1e-6, 1e-5)
      assert.is_true(g[1] ~= 0)
    end)
  end)

  describe("errors name the op and the shapes", function()
    it("reparameterize with mismatched mu, logvar or eps", function()
      assert.matches("reparameterize: mu 4×3 and logvar 3×4",
        error_of(ae.reparameterize, ae.zeros(4, 3), ae.zeros(3, 4)))
      assert.matches("reparameterize: mu 4×3 and eps 4",
        error_of(ae.reparameterize, ae.zeros(4, 3), ae.zeros(4, 3), ae.zeros(4)))
    end)
  end)
end)
