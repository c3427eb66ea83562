-- The matmul family (runtime/lua/matmul.c, runtime/ops/matmul.c): matmul
-- and linear (x wᵀ + b, PyTorch's weight orientation).  Gradients are in
-- gradcheck_spec.lua under "matmul", PyTorch's values in golden_spec.lua.
local ae = require "aerun"
local C = require "tests.helpers.check"
local error_of = C.error_of

describe("matmul", function()
  local a = ae.tensor { { 1, 2, 3 }, { 4, 5, 6 } }
  local b = ae.tensor { { 1, 0 }, { 0, 1 }, { 1, 1 } }

  it("multiplies matrices, as a function and a method, views included", function()
    assert.are.same({ { 4, 5 }, { 10, 11 } }, ae.matmul(a, b):totable())
    assert.are.same({ { 4, 5 }, { 10, 11 } }, a:matmul(b):totable())
    assert.are.same({ { 4, 10 }, { 5, 11 } }, ae.matmul(b:t(), a:t()):totable())
    assert.are.same({ { 14, 32 }, { 32, 77 } }, ae.matmul(a, a:t()):totable())
  end)

  it("linear is x wᵀ + b, the bias optional, on 2-D and 3-D input", function()
    local w = ae.tensor { { 1, 0, 0 }, { 1, 1, 1 } }
    assert.are.same({ { 1, 6 }, { 4, 15 } }, ae.linear(a, w):totable())
    assert.are.same({ { 11, 26 }, { 14, 35 } }, ae.linear(a, w, ae.tensor { 10, 20 }):totable())
    local y = ae.linear(ae.ones(4, 5, 3), w)
    assert.are.same({ 4, 5, 2 }, y:shape())
    assert.are.equal(4 * 5 * (1 + 3), y:sum():item())
  end)

  it("names the shapes that do not fit", function()
    assert.matches("matmul: shapes 2×3 and 2×3 do not fit", error_of(ae.matmul, a, a))
    assert.matches("linear: input 2×3 does not end in 2 features %(weight 4×2%)",
      error_of(ae.linear, a, ae.zeros(4, 2)))
  end)
end)
