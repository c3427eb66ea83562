-- ae.kl (runtime/lua/kl.c, runtime/ops/kl.c): kl.normal and kl.sparsity.
-- Values and gradients against PyTorch (tests/golden/ae_golden.lua,
-- written by make_golden_ae.py), finiteness at extreme logvar, and the
-- errors for bad input.  Gradients by finite differences are in
-- gradcheck_spec.lua under "kl".
local ae = require "aerun"
local kl = ae.kl
local nn = ae.nn
local C = require "tests.helpers.check"
local G = C.golden("ae_golden.lua")
local check, all_finite, leaf, error_of = C.check, C.all_finite, C.leaf, C.error_of

describe("kl", function()
  before_each(function()
    ae.manual_seed(11)
    math.randomseed(11)
  end)

  it("is wired into the ae table, with the other tables of the core", function()
    assert.are.equal(require "aerun.kl", ae.kl)
    assert.are.equal(require "aerun.penalty", ae.penalty)
    assert.are.equal(require "aerun.noise", ae.noise)
    assert.are.equal(require "aerun.loss", ae.loss)
    assert.are.equal(require "aerun.schedule", ae.schedule)
    assert.is_function(ae.reparameterize)
  end)

  describe("golden values from PyTorch " .. G.torch_version, function()
    local V = G.vae

    for _, red in ipairs { "sum", "mean" } do
      it("kl.normal " .. red .. ": value and gradients", function()
        local mu, lv = leaf(V.mu), leaf(V.logvar)
        local v = kl.normal(mu, lv, red)
        check("kl " .. red, v, V["kl_" .. red].value)
        v:backward()
        check("kl " .. red .. " grad mu", mu.grad, V["kl_" .. red].grad_mu)
        check("kl " .. red .. " grad logvar", lv.grad, V["kl_" .. red].grad_logvar)
      end)
    end

    it("kl.normal none: one value per sample, weighted backward", function()
      local mu, lv = leaf(V.mu), leaf(V.logvar)
      local v = kl.normal(mu, lv, "none")
      assert.are.same({ #V.mu }, v:shape())
      check("kl none", v, V.kl_none.value)
      ;(v * ae.tensor(V.w)):sum():backward()
      check("kl none grad mu", mu.grad, V.kl_none.grad_mu)
      check("kl none grad logvar", lv.grad, V.kl_none.grad_logvar)
    end)

    it("kl.normal defaults to the per-sample mean", function()
      check("kl default", kl.normal(ae.tensor(V.mu), ae.tensor(V.logvar)), V.kl_mean.value)
    end)

    it("a tiny VAE (pytorch/examples' form, 6-4-2): BCE sum + KLD and every gradient", function()
      local T = G.tiny_vae
      local mods = {}
      for i, p in ipairs(T.params) do
        local m = nn.Linear(#p.weight[1], #p.weight)
        ae.no_grad(function()
          m.weight:copy_(ae.tensor(p.weight))
          m.bias:copy_(ae.tensor(p.bias))
        end)
        mods[i] = m
      end
      local fc1, fc21, fc22, fc3 = table.unpack(mods)
      local x = ae.tensor(T.x)
      local h1 = fc1(x):relu()
      local mu, logvar = fc21(h1), fc22(h1)
      local z = ae.reparameterize(mu, logvar, ae.tensor(T.eps))
      local recon = fc3(z):sigmoid()
      local bce = ae.loss.bce(recon, x, "sum")
      local kld = kl.normal(mu, logvar, "sum")
      check("bce", bce, T.bce)
      check("kld", kld, T.kld)
      local loss = bce + kld
      check("loss", loss, T.loss)
      loss:backward()
      for i, p in ipairs(T.params) do
        check(p.name .. " grad weight", mods[i].weight.grad, p.grad_weight, 1e-5, 2e-4)
        check(p.name .. " grad bias", mods[i].bias.grad, p.grad_bias, 1e-5, 2e-4)
      end
    end)

    for _, key in ipairs { "plain", "edge" } do
      for _, red in ipairs { "sum", "mean", "none" } do
        it("kl.sparsity " .. key .. " (" .. red .. ")", function()
          local S = G.sparsity
          local h = leaf(key == "plain" and S.h or S.h_edge)
          local v = kl.sparsity(h, S.rho, red)
          check("sparsity", v, S[key][red].value)
          if red == "none" then (v * ae.tensor(S.w)):sum():backward() else v:backward() end
          check("sparsity grad h", h.grad, S[key][red].grad_h)
        end)
      end
    end
  end)

  describe("logvar far outside [-30, 20]", function()
    local function extreme()
      local mu = leaf { { 0.5, -1, 2 }, { 0, 1, -0.5 } }
      local lv = leaf { { 1000, -1000, 0.5 }, { -1000, 1000, 25 } }
      return mu, lv
    end

    for _, red in ipairs { "sum", "mean", "none" } do
      it("kl.normal (" .. red .. ") and its gradients stay finite", function()
        local mu, lv = extreme()
        local v = kl.normal(mu, lv, red)
        all_finite("kl", v)
        ;(red == "none" and v:sum() or v):backward()
        all_finite("grad mu", mu.grad)
        all_finite("grad logvar", lv.grad)
        -- clamped elements pass no gradient; the one inside does
        local g = lv.grad:totable()
        assert.are.equal(0, g[1][1])
        assert.are.equal(0, g[1][2])
        assert.are.equal(0, g[2][3])
        assert.is_true(g[1][3] ~= 0)
        -- the value is that of the clamped logvar
        local want = ae.no_grad(function()
          return kl.normal(mu, ae.tensor { { 20, -30, 0.5 }, { -30, 20, 20 } }, red)
        end)
        check("kl clamped", v, want:totable(), 0, 1e-6)
      end)
    end
  end)

  describe("errors name the op and the shapes", function()
    it("kl.normal with mismatched mu and logvar", function()
      assert.matches("kl.normal: mu 4×3 and logvar 4×2 must have the same shape",
        error_of(kl.normal, ae.zeros(4, 3), ae.zeros(4, 2)))
      assert.matches('ae.kl.normal: reduction must be "mean", "sum" or "none", got the string "avg"',
        error_of(kl.normal, ae.zeros(2, 2), ae.zeros(2, 2), "avg"), nil, true)
    end)

    it("kl.sparsity with a bad rho, a 1-D h or activations outside [0, 1]", function()
      assert.matches("rho must be in %(0, 1%), got 1.5", error_of(kl.sparsity, ae.rand(3, 2), 1.5))
      assert.matches("rho must be in", error_of(kl.sparsity, ae.rand(3, 2), 0))
      assert.matches("batch × units", error_of(kl.sparsity, ae.rand(3), 0.1))
      assert.matches("element 2 is 2", error_of(kl.sparsity, ae.tensor { { 0.5, 2 } }, 0.1))
    end)
  end)
end)
