-- The autoencoder terms: ae.kl, ae.reparameterize, ae.penalty, ae.noise.
-- Gradients against central finite differences, values and gradients
-- against PyTorch (tests/golden/ae_golden.lua, written by
-- make_golden_ae.py), finiteness at extreme inputs, noise statistics and
-- reproducibility, and the errors for bad input.
local ae = require "aerun"
local gc = require "tests.helpers.gradcheck"
local U = gc.uniform

-- the submodules are ae.kl etc. once init.lua lists them; the specs reach
-- them directly so each part is tested on its own (the wiring has its own test)
local kl = require "aerun.kl"
local penalty = require "aerun.penalty"
local noise = require "aerun.noise"
local nn = ae.nn

local function golden_path()
  local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "tests"
  return dir .. "/golden/ae_golden.lua"
end
local G = dofile(golden_path())

local function flatten(v, out)
  out = out or {}
  if type(v) == "number" then out[#out + 1] = v else for i = 1, #v do flatten(v[i], out) end end
  return out
end

local function values(t)
  return t:dim() == 0 and { t:item() } or flatten(t:totable())
end

local function finite(x) return x == x and x > -math.huge and x < math.huge end

-- |got - want| <= atol + rtol·|want| for every element; names the worst
local function check(what, got, want, atol, rtol)
  atol, rtol = atol or 1e-5, rtol or 1e-4
  assert(got ~= nil, what .. ": got nil")
  local g, w = values(got), flatten(want)
  assert(#g == #w, ("%s: %d values, expected %d"):format(what, #g, #w))
  for k = 1, #w do
    local diff = math.abs(g[k] - w[k])
    assert(diff <= atol + rtol * math.abs(w[k]),
      ("%s element %d: expected %.9g, got %.9g"):format(what, k, w[k], g[k]))
  end
end

local function all_finite(what, t)
  for k, v in ipairs(values(t)) do assert(finite(v), ("%s element %d is %s"):format(what, k, tostring(v))) end
end

local function leaf(v) return ae.tensor(v):requires_grad_() end

local function grad_ok(f, inputs, opts)
  local good, msg = gc.check(f, inputs, opts)
  assert(good, msg)
end

-- the message of the error f raises
local function error_of(f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error")
  return tostring(err)
end

describe("ae.kl, ae.reparameterize, ae.penalty, ae.noise", function()
  before_each(function()
    ae.manual_seed(11)
    math.randomseed(11)
  end)

  it("are wired into the ae table", function()
    assert.are.equal(kl, ae.kl)
    assert.are.equal(penalty, ae.penalty)
    assert.are.equal(noise, ae.noise)
    assert.are.equal(require "aerun.schedule", ae.schedule)
    assert.is_function(ae.reparameterize)
  end)

  describe("gradients by finite differences", function()
    for _, red in ipairs { "sum", "mean", "none" } do
      it("kl.normal, reduction " .. red, function()
        local mu, lv = U({ 4, 3 }, -2, 2), U({ 4, 3 }, -2, 2)
        grad_ok(function(m, l) return kl.normal(m, l, red) end, { mu, lv })
      end)
    end

    it("kl.normal over a 3-D batch (2×3 samples of 4 units)", function()
      grad_ok(function(m, l) return kl.normal(m, l, "none") end, { U({ 2, 3, 4 }, -1, 1), U({ 2, 3, 4 }, -1, 1) })
    end)

    it("reparameterize with a fixed eps: in mu, logvar and eps", function()
      local mu, lv, eps = U({ 3, 4 }, -2, 2), U({ 3, 4 }, -2, 2), U({ 3, 4 }, -2, 2)
      grad_ok(function(m, l, e) return ae.reparameterize(m, l, e) end, { mu, lv, eps })
    end)

    for _, red in ipairs { "sum", "mean", "none" } do
      it("kl.sparsity, reduction " .. red, function()
        local h = U({ 6, 4 }, 0.05, 0.95)
        grad_ok(function(x) return kl.sparsity(x, 0.2, red) end, { h }, { eps = 1e-3, rtol = 3e-2 })
      end)
    end

    it("kl.sparsity with units over several dimensions (N×2×3)", function()
      grad_ok(function(x) return kl.sparsity(x, 0.3) end, { U({ 5, 2, 3 }, 0.1, 0.9) }, { eps = 1e-3, rtol = 3e-2 })
    end)

    it("penalty.l1 away from 0, batched and 1-D", function()
      grad_ok(penalty.l1, { U({ 4, 5 }, -2, 2, { 0 }, 0.1) })
      grad_ok(penalty.l1, { U({ 6 }, -2, 2, { 0 }, 0.1) })
    end)

    it("penalty.contractive in h and W", function()
      local h, W = U({ 5, 3 }, 0.05, 0.95), U({ 3, 4 }, -2, 2)
      grad_ok(penalty.contractive, { h, W }, { eps = 1e-3, rtol = 3e-2 })
    end)

    it("penalty.contractive through the layer: x, W and b of sigmoid(x Wᵀ + b)", function()
      local x, W, b = U({ 4, 5 }, -1, 1), U({ 3, 5 }, -1, 1), U({ 3 }, -1, 1)
      grad_ok(function(xx, ww, bb) return penalty.contractive(ae.linear(xx, ww, bb):sigmoid(), ww) end,
        { x, W, b }, { eps = 1e-3, rtol = 3e-2 })
    end)
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

    it("reparameterize with PyTorch's eps: z and gradients", function()
      local mu, lv, eps = leaf(V.mu), leaf(V.logvar), leaf(V.eps)
      local z = ae.reparameterize(mu, lv, eps)
      check("z", z, V.reparameterize.z)
      ;(z * ae.tensor(V.g)):sum():backward()
      check("z grad mu", mu.grad, V.reparameterize.grad_mu)
      check("z grad logvar", lv.grad, V.reparameterize.grad_logvar)
      check("z grad eps", eps.grad, V.reparameterize.grad_eps)
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

    it("penalty.l1: mean over the batch of Σ|z|", function()
      local z = leaf(G.l1.z)
      local v = penalty.l1(z)
      check("l1", v, G.l1.value)
      v:backward()
      check("l1 grad", z.grad, G.l1.grad_z)
    end)

    it("penalty.contractive equals the Jacobian's squared Frobenius norm, gradients included", function()
      local C = G.contractive
      local x, W, b = leaf(C.x), leaf(C.W), leaf(C.b)
      local h = ae.linear(x, W, b):sigmoid()
      check("h", h, C.h)
      local p = penalty.contractive(h, W)
      check("contractive (from the Jacobian)", p, C.penalty)
      p:backward()
      check("contractive grad W", W.grad, C.grad_W)
      check("contractive grad b", b.grad, C.grad_b)
      check("contractive grad x", x.grad, C.grad_x)
    end)

    it("penalty.contractive on its own: partial derivatives in h and W", function()
      local D = G.contractive.direct
      local h, W = leaf(G.contractive.h), leaf(G.contractive.W)
      local p = penalty.contractive(h, W)
      check("contractive direct", p, D.value)
      p:backward()
      check("contractive direct grad h", h.grad, D.grad_h)
      check("contractive direct grad W", W.grad, D.grad_W)
    end)
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

  describe("noise", function()
    local n = 200 * 500

    it("gaussian without clipping: mean 0 and variance std² of the added noise", function()
      local x = ae.zeros(200, 500)
      local y = noise.gaussian(x, 0.3, { clip = false })
      local m = y:mean():item()
      local var = (y * y):mean():item() - m * m
      assert.is_true(math.abs(m) < 4 * 0.3 / math.sqrt(n), "mean " .. m)
      assert.is_true(math.abs(var / 0.09 - 1) < 0.03, "variance " .. var)
    end)

    it("gaussian adds to x and clips to [0, 1] by default", function()
      local x = ae.full(100, 100, 0.5)
      local y = noise.gaussian(x, 5)
      local lo, hi = y:min(), y:max()
      assert.are.equal(0, lo)
      assert.are.equal(1, hi)
      local y2 = noise.gaussian(x, 0)
      assert.are.same(x:totable(), y2:totable())
    end)

    it("masking zeroes a fraction p of the elements", function()
      for _, p in ipairs { 0.1, 0.5, 0.9 } do
        local y = noise.masking(ae.ones(200, 500), p)
        local kept = y:sum():item()
        local frac = 1 - kept / n
        assert.is_true(math.abs(frac - p) < 4 * math.sqrt(p * (1 - p) / n), ("p %g: masked %g"):format(p, frac))
      end
      assert.are.equal(n, noise.masking(ae.ones(200, 500), 0):sum():item())
      assert.are.equal(0, noise.masking(ae.ones(200, 500), 1):sum():item())
    end)

    it("salt_pepper: a fraction p set to 0 or 1, half each", function()
      local p = 0.2
      local v = flatten(noise.salt_pepper(ae.full(200, 500, 0.5), p):totable())
      local salt, pepper, kept = 0, 0, 0
      for _, x in ipairs(v) do
        if x == 1 then salt = salt + 1 elseif x == 0 then pepper = pepper + 1 elseif x == 0.5 then kept = kept + 1 end
      end
      assert.are.equal(n, salt + pepper + kept)
      local hit = (salt + pepper) / n
      assert.is_true(math.abs(hit - p) < 4 * math.sqrt(p * (1 - p) / n), "corrupted " .. hit)
      -- salt among corrupted elements is Binomial(salt + pepper, 1/2)
      local c = salt + pepper
      assert.is_true(math.abs(salt - c / 2) < 4 * math.sqrt(c / 4), ("salt %d pepper %d"):format(salt, pepper))
    end)

    it("the same seed gives the same noise, another seed other noise", function()
      local x = ae.full(50, 40, 0.5)
      for _, f in ipairs {
        function() return noise.gaussian(x, 0.2) end,
        function() return noise.masking(x, 0.3) end,
        function() return noise.salt_pepper(x, 0.3) end,
      } do
        ae.manual_seed(3)
        local a = f():totable()
        ae.manual_seed(3)
        local b = f():totable()
        ae.manual_seed(4)
        local c = f():totable()
        assert.are.same(a, b)
        assert.are_not.same(a, c)
      end
    end)

    it("records no graph and returns a new tensor, even when x requires grad", function()
      local x = ae.rand(4, 5):requires_grad_()
      for _, y in ipairs { noise.gaussian(x, 0.1), noise.masking(x, 0.5), noise.salt_pepper(x, 0.5) } do
        assert.is_false(y.requires_grad)
        assert.is_nil(y.grad_fn)
      end
      local before = x:totable()
      noise.masking(x, 1)
      assert.are.same(before, x:totable())
    end)

    it("follows the values of a transposed view", function()
      local x = ae.rand(3, 4)
      assert.are.same(x:t():contiguous():totable(), noise.masking(x:t(), 0):totable())
      assert.are.same(x:t():contiguous():totable(), noise.gaussian(x:t(), 0, { clip = false }):totable())
    end)

    it("refuses a p outside [0, 1], a negative std and unknown options", function()
      local x = ae.rand(2, 2)
      assert.matches("noise.masking: p must be a probability in %[0, 1%], got 1.5", error_of(noise.masking, x, 1.5))
      assert.matches("noise.salt_pepper: p must be", error_of(noise.salt_pepper, x, -0.1))
      assert.matches("noise.gaussian: std must be", error_of(noise.gaussian, x, -1))
      assert.matches("unknown option", error_of(noise.gaussian, x, 0.1, { clamp = true }))
      assert.matches("clip must be a boolean", error_of(noise.gaussian, x, 0.1, { clip = 1 }))
    end)
  end)

  describe("errors name the op and the shapes", function()
    it("kl.normal and reparameterize with mismatched mu and logvar", function()
      assert.matches("kl.normal: mu 4×3 and logvar 4×2 must have the same shape",
        error_of(kl.normal, ae.zeros(4, 3), ae.zeros(4, 2)))
      assert.matches("reparameterize: mu 4×3 and logvar 3×4",
        error_of(ae.reparameterize, ae.zeros(4, 3), ae.zeros(3, 4)))
      assert.matches("reparameterize: mu 4×3 and eps 4",
        error_of(ae.reparameterize, ae.zeros(4, 3), ae.zeros(4, 3), ae.zeros(4)))
      assert.matches("invalid option 'avg'", error_of(kl.normal, ae.zeros(2, 2), ae.zeros(2, 2), "avg"))
    end)

    it("kl.sparsity with a bad rho, a 1-D h or activations outside [0, 1]", function()
      assert.matches("rho must be in %(0, 1%), got 1.5", error_of(kl.sparsity, ae.rand(3, 2), 1.5))
      assert.matches("rho must be in", error_of(kl.sparsity, ae.rand(3, 2), 0))
      assert.matches("batch × units", error_of(kl.sparsity, ae.rand(3), 0.1))
      assert.matches("element 2 is 2", error_of(kl.sparsity, ae.tensor { { 0.5, 2 } }, 0.1))
    end)

    it("penalty.contractive with W that does not match h", function()
      assert.matches("penalty.contractive: .* got h 5×3 and W 4×6",
        error_of(penalty.contractive, ae.rand(5, 3), ae.rand(4, 6)))
    end)
  end)
end)
