-- ae.penalty (runtime/lua/penalty.c, runtime/ops/penalty.c): penalty.l1
-- and penalty.contractive.  Values and gradients against PyTorch
-- (tests/golden/ae_golden.lua) and the errors for bad input.  Gradients by
-- finite differences are in gradcheck_spec.lua under "penalty".
local ae = require "aerun"
local penalty = ae.penalty
local C = require "tests.helpers.check"
local G = C.golden("ae_golden.lua")
local check, leaf, error_of = C.check, C.leaf, C.error_of

describe("penalty", function()
  before_each(function()
    ae.manual_seed(11)
    math.randomseed(11)
  end)

  describe("golden values from PyTorch " .. G.torch_version, function()
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

  describe("errors name the op and the shapes", function()
    it("penalty.contractive with W that does not match h", function()
      assert.matches("penalty.contractive: .* got h 5×3 and W 4×6",
        error_of(penalty.contractive, ae.rand(5, 3), ae.rand(4, 6)))
    end)
  end)
end)
