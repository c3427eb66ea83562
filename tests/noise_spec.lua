-- ae.noise (runtime/lua/noise.c, runtime/ops/noise.c): gaussian, masking
-- and salt_pepper.  Noise statistics, reproducibility under the runtime
-- RNG, no graph, and the errors for bad input.
local ae = require "aerun"
local noise = ae.noise
local C = require "tests.helpers.check"
local flatten, error_of = C.flatten, C.error_of

describe("noise", function()
  before_each(function()
    ae.manual_seed(11)
    math.randomseed(11)
  end)

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
