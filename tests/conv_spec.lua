-- The conv family (runtime/lua/conv.c, runtime/ops/conv.c): conv2d and
-- conv_transpose2d, as ops (ae.conv2d ...) and as modules (nn.Conv2d ...).
-- max_pool2d and nearest upsampling are in pool_spec.lua.
--
-- Gradients are checked three ways: against central finite differences
-- (tests/helpers/gradcheck.lua), against PyTorch (tests/golden/conv_golden.lua,
-- written by tests/golden/make_golden_conv.py), and by properties that must
-- hold whatever the implementation (a batch computes what its samples
-- compute one at a time; conv_transpose2d is conv2d's adjoint).
local ae = require "aerun"
local gc = require "tests.helpers.gradcheck"
local nn = ae.nn
local U = gc.uniform
local C = require "tests.helpers.check"

local CC = require "tests.helpers.conv_cases"
local G = C.golden("conv_golden.lua")

local ok = C.grad_ok

local flatten, close, max_diff = C.flatten, CC.close, CC.max_diff

local function same_shape(got, want)
  assert.are.same(want, got:shape())
end

-- Float32 convolutions whose terms PyTorch may sum in another order: a few
-- ulps of the largest values (up to ~16 here; the worst error measured is
-- 2e-6, one ulp of it).
local LAYER = { atol = 1e-5, rtol = 1e-5 }

-- ---------------------------------------------------------------- golden

describe("conv golden values from PyTorch " .. G.torch_version, function()
  CC.golden_layers(it, CC.conv2d, G.layers, LAYER)

  describe("the tutorial's conv autoencoder at batch 2", function()
    local C = G.cae

    -- make_golden_conv.py's generator: a 64-bit LCG, 24 bits per value
    local function lcg_values(seed, n)
      local state, out = seed, {}
      for i = 1, n do
        state = state * 6364136223846793005 + 1442695040888963407
        out[i] = (state >> 40) / (1 << 24) * 2.0 - 1.0
      end
      return out
    end

    local function lcg_tensor(seed, shape, scale, offset)
      local n = 1
      for _, d in ipairs(shape) do n = n * d end
      local v = lcg_values(seed, n)
      for i = 1, n do v[i] = v[i] * scale + (offset or 0) end
      return ae.tensor(v):reshape(shape)
    end

    local function model()
      return nn.AutoEncoder(
        nn.Sequential {
          nn.Conv2d(1, 16, 3, { stride = 2, padding = 1 }), nn.ReLU(),
          nn.Conv2d(16, 32, 3, { stride = 2, padding = 1 }), nn.ReLU(),
          nn.Conv2d(32, 64, 7),
        },
        nn.Sequential {
          nn.ConvTranspose2d(64, 32, 7), nn.ReLU(),
          nn.ConvTranspose2d(32, 16, 3, { stride = 2, padding = 1, output_padding = 1 }), nn.ReLU(),
          nn.ConvTranspose2d(16, 1, 3, { stride = 2, padding = 1, output_padding = 1 }), nn.Sigmoid(),
        })
    end

    it("reproduces the generator", function()
      -- values are multiples of 2^-23, so agreeing within 1e-8 is equality
      close("lcg", lcg_values(42, 3), C.lcg_check, { atol = 1e-8, rtol = 0 })
    end)

    it("output, code, loss and every parameter's gradient", function()
      local m = model()
      local params = {}
      for path, p in m:named_parameters() do params[path:gsub("/", ".")] = p end
      ae.no_grad(function()
        for _, p in ipairs(C.params) do
          local mine = assert(params[p.name], "no parameter " .. p.name)
          assert.are.same(p.shape, mine:shape())
          -- the scale is the layer's init bound, rounded to float32 on both sides
          local fan_in = 1
          local ws = params[p.name:gsub("%.[a-z]+$", ".weight")]:shape()
          for d = 2, #ws do fan_in = fan_in * ws[d] end
          local scale = ae.tensor({ 1 / math.sqrt(fan_in) }):item()
          mine:copy_(lcg_tensor(p.seed, p.shape, scale))
        end
      end)
      local x = lcg_tensor(C.x_seed, { 2, 1, 28, 28 }, 0.5, 0.5)
      local z = m:encode(x)
      local y = m:decode(z)
      close("cae code", z, C.z, { atol = 1e-5, rtol = 1e-4 })
      -- the sigmoid squeezes the decoder's sums: outputs near 0.5 agree closely
      close("cae output", y, C.y, { atol = 1e-6, rtol = 1e-5 })
      local loss = ae.loss.mse(y, x)
      close("cae loss", { loss:item() }, { C.loss }, { atol = 0, rtol = 1e-6 })
      loss:backward()
      for _, p in ipairs(C.params) do
        local g = params[p.name].grad
        assert(g, p.name .. " has no gradient")
        -- gradients of an MSE over 1568 pixels are 1e-5..1e-2 in size; the
        -- errors measured are below 1e-6 of each tensor's largest element
        local tol = { atol = 1e-10, rtol = 1e-4 }
        if p.grad.stride then
          local flat = flatten(g:totable())
          local sample, sum, abs_sum = {}, 0, 0
          for i = 1, #flat, p.grad.stride do sample[#sample + 1] = flat[i] end
          for i = 1, #flat do sum, abs_sum = sum + flat[i], abs_sum + math.abs(flat[i]) end
          close(p.name .. " grad (sample)", sample, p.grad.sample, tol)
          close(p.name .. " grad sum", { sum }, { p.grad.sum }, { atol = 1e-8, rtol = 1e-4 })
          close(p.name .. " grad abs sum", { abs_sum }, { p.grad.abs_sum }, { atol = 0, rtol = 1e-5 })
        else
          close(p.name .. " grad", g, p.grad, tol)
        end
      end
    end)
  end)
end)

-- ------------------------------------------------------- finite differences

describe("conv gradients by finite differences", function()
  before_each(function()
    ae.manual_seed(11)
    math.randomseed(11)
  end)

  local conv_cases = {
    -- x shape, w shape, stride, padding, bias
    { "3x3, stride 1, no padding", { 2, 2, 5, 5 }, { 3, 2, 3, 3 }, 1, 0, true },
    { "3x3, stride 2, padding 1", { 2, 2, 6, 5 }, { 3, 2, 3, 3 }, 2, 1, true },
    { "2x3 kernel, stride {2, 1}, padding {1, 0}, no bias", { 3, 2, 5, 6 }, { 2, 2, 2, 3 }, { 2, 1 },
      { 1, 0 }, false },
    { "batch 1, one channel", { 1, 1, 6, 6 }, { 2, 1, 3, 3 }, 2, 1, true },
    { "kernel covering the input", { 3, 2, 3, 4 }, { 4, 2, 3, 4 }, 1, 0, true },
    { "padding larger than the kernel's half", { 2, 1, 4, 4 }, { 2, 1, 2, 2 }, 3, 2, true },
    { "1x1 kernel, three input channels", { 2, 3, 3, 3 }, { 2, 3, 1, 1 }, 1, 0, false },
    -- one output position, but padded: not the fully connected shortcut
    { "kernel as large as the input, padding 1, stride 3", { 2, 2, 3, 3 }, { 2, 2, 3, 3 }, 3, 1, true },
  }

  local convt_cases = {
    -- x shape, w shape (in, out, kh, kw), stride, padding, output_padding, bias
    { "3x3, stride 1", { 2, 2, 3, 3 }, { 2, 3, 3, 3 }, 1, 0, 0, true },
    { "3x3, stride 2, padding 1, output_padding 1", { 2, 3, 3, 3 }, { 3, 2, 3, 3 }, 2, 1, 1, true },
    { "2x3 kernel, stride {2, 3}, padding {0, 1}, output_padding {1, 2}, no bias", { 3, 2, 2, 3 },
      { 2, 2, 2, 3 }, { 2, 3 }, { 0, 1 }, { 1, 2 }, false },
    { "batch 1, one output channel", { 1, 2, 3, 3 }, { 2, 1, 3, 3 }, 2, 1, 1, true },
    { "from 1x1 (dense)", { 3, 4, 1, 1 }, { 4, 2, 3, 2 }, 1, 0, 0, true },
    { "from 1x1 with output_padding", { 2, 2, 1, 1 }, { 2, 2, 3, 3 }, 2, 0, 1, true },
    { "padding 2, stride 3", { 2, 1, 3, 3 }, { 1, 2, 4, 4 }, 3, 2, 2, false },
  }
  CC.finite_differences(it, CC.conv2d, conv_cases, convt_cases)

  it("an input used twice accumulates both gradients", function()
    local x, w = U({ 3, 2, 4, 4 }, -1, 1), U({ 2, 2, 3, 3 }, -1, 1)
    ok(function(xx, ww) return ae.conv2d(xx, ww, nil, 1, 1) * ae.conv2d(xx, ww, nil, 1, 1) end, { x, w })
    local wt = U({ 2, 2, 3, 3 }, -1, 1)
    ok(function(xx, ww)
      local y = ae.conv_transpose2d(xx, ww, nil, 2, 1, 1)
      return y * y
    end, { x, wt })
  end)

  it("a non-contiguous input", function()
    local x, w = U({ 2, 2, 4, 5 }, -1, 1), U({ 3, 2, 3, 3 }, -1, 1)
    ok(function(xx, ww) return ae.conv2d(xx:transpose(3, 4), ww, nil, 2, 1) end, { x, w })
    -- w read as (in = 2, out = 3, 3, 3) through a transposed view
    ok(function(xx, ww) return ae.conv_transpose2d(xx:transpose(3, 4), ww:transpose(1, 2), nil, 2, 1, 1) end,
      { x, w })
  end)
end)

-- ---------------------------------------------------------------- properties

describe("conv properties", function()
  before_each(function() ae.manual_seed(5) end)

  it("a batch computes what its samples compute one at a time", function()
    -- batch 1 and larger batches take different paths (no transposes)
    local x = ae.randn(5, 3, 9, 8)
    local w, b = ae.randn(4, 3, 3, 3), ae.randn(4)
    local wt, bt = ae.randn(3, 2, 3, 3), ae.randn(2)
    local y = ae.conv2d(x, w, b, 2, 1)
    local yt = ae.conv_transpose2d(x, wt, bt, 2, 1, 1)
    for i = 1, 5 do
      local xi = x:narrow(1, i, 1)
      assert.is_true(max_diff(y:narrow(1, i, 1), ae.conv2d(xi, w, b, 2, 1)) < 1e-5)
      assert.is_true(max_diff(yt:narrow(1, i, 1), ae.conv_transpose2d(xi, wt, bt, 2, 1, 1)) < 1e-5)
    end
  end)

  it("a batch too large for one column matrix gives what its halves give", function()
    -- a 7×7 kernel over 8 channels of 32×32 (conv2d's input, conv_transpose2d's
    -- output): 392 rows × 1024 positions per sample, so 10 samples fill the
    -- 16 MB column matrix; 16 go through in two chunks, 8 in one
    local x = ae.randn(16, 8, 32, 32)
    local cases = {
      { ae.randn(4, 8, 7, 7), 1, function(xx, ww, bb) return ae.conv2d(xx, ww, bb, 1, 3) end },
      { ae.randn(8, 8, 7, 7), 2, function(xx, ww, bb) return ae.conv_transpose2d(xx, ww, bb, 1, 3) end },
    }
    CC.batch_halves(x, 8, cases)
  end)

  it("a conv and the ReLU after it in a Sequential run as one op with the two ops' numbers", function()
    -- the ReLU goes into the output's pass and its backward into the
    -- gradient's transpose or im2col; the layers that are a GEMM on the
    -- tensors (7×7 on 7×7), one sample, a batch in chunks (11 = 10 + 1)
    -- and a chunk of one sample (a 16 MB column matrix each) mask in a
    -- pass of their own
    local cases = {
      { nn.Conv2d(3, 4, 3, { stride = 2, padding = 1 }), { 5, 3, 9, 8 } },
      { nn.Conv2d(3, 4, 3, { stride = 2, padding = 1 }), { 1, 3, 9, 8 } },
      { nn.Conv2d(8, 4, 7, { padding = 3 }), { 11, 8, 32, 32 } },
      { nn.Conv2d(16, 2, 3, { padding = 1 }), { 2, 16, 180, 180 } },
      { nn.Conv2d(32, 6, 7), { 4, 32, 7, 7 } },
      { nn.ConvTranspose2d(3, 4, 3, { stride = 2, padding = 1, output_padding = 1 }), { 5, 3, 7, 6 } },
      { nn.ConvTranspose2d(3, 4, 3, { stride = 2, padding = 1, output_padding = 1 }), { 1, 3, 7, 6 } },
      { nn.ConvTranspose2d(8, 8, 7, { padding = 3 }), { 11, 8, 32, 32 } },
      { nn.ConvTranspose2d(6, 5, 7), { 4, 6, 1, 1 } },
    }
    CC.fused_relu(CC.conv2d, cases)
  end)

  it("conv_transpose2d is the adjoint of conv2d: <conv(x), y> = <x, convT(y)>", function()
    for _, c in ipairs {
      { { 3, 2, 7, 6 }, { 4, 2, 3, 3 }, 2, 1 },
      { { 2, 3, 8, 8 }, { 2, 3, 2, 3 }, { 2, 3 }, { 1, 0 } },
      { { 4, 2, 5, 5 }, { 3, 2, 5, 5 }, 1, 0 },
    } do
      local x, w = ae.randn(table.unpack(c[1])), ae.randn(table.unpack(c[2]))
      local y = ae.conv2d(x, w, nil, c[3], c[4])
      local r = ae.randn(table.unpack(y:shape()))
      -- output_padding makes convT(r) as large as x again
      local s = type(c[3]) == "table" and c[3] or { c[3], c[3] }
      local p = type(c[4]) == "table" and c[4] or { c[4], c[4] }
      local op = {}
      local oh = { (y:size(3) - 1) * s[1] - 2 * p[1] + c[2][3], (y:size(4) - 1) * s[2] - 2 * p[2] + c[2][4] }
      op[1], op[2] = c[1][3] - oh[1], c[1][4] - oh[2]
      local xt = ae.conv_transpose2d(r, w, nil, c[3], c[4], op)
      same_shape(xt, c[1])
      local lhs, rhs = (y * r):sum():item(), (x * xt):sum():item()
      assert.is_true(math.abs(lhs - rhs) <= 1e-4 * (1 + math.abs(lhs)), lhs .. " vs " .. rhs)
    end
  end)

  it("records nothing under no_grad", function()
    local x = ae.randn(2, 1, 5, 5)
    local m = nn.Conv2d(1, 2, 3)
    local y = ae.no_grad(function() return m(x) end)
    assert.is_false(y.requires_grad)
    assert.is_nil(y.grad_fn)
    assert.are.equal("conv2d", m(x).grad_fn)
    assert.are.equal("conv_transpose2d", nn.ConvTranspose2d(1, 2, 3)(x).grad_fn)
  end)

  it("a weight that starts requiring grad after the forward pass gets none", function()
    local x = ae.randn(2, 1, 5, 5):requires_grad_(true)
    local w = ae.randn(2, 1, 3, 3)
    local y = ae.conv2d(x, w)
    w:requires_grad_(true)
    y:sum():backward()
    assert.is_not_nil(x.grad)
    assert.is_nil(w.grad)
  end)

  it("handles an empty batch", function()
    local y = ae.conv2d(ae.zeros(0, 2, 5, 5), ae.randn(3, 2, 3, 3), ae.randn(3), 2, 1)
    assert.are.same({ 0, 3, 3, 3 }, y:shape())
    local yt = ae.conv_transpose2d(ae.zeros(0, 2, 3, 3), ae.randn(2, 3, 3, 3), nil, 2, 1, 1)
    assert.are.same({ 0, 3, 6, 6 }, yt:shape())
  end)
end)

-- ---------------------------------------------------------------- errors

describe("conv shape rules", function()
  local fails = C.fails

  it("conv2d names the op, the shapes and the rule", function()
    local x = ae.zeros(128, 3, 28, 28)
    fails("conv2d: input 128×3×28×28 has 3 channels, weight 16×1×3×3 expects 1",
      function() ae.conv2d(x, ae.zeros(16, 1, 3, 3)) end)
    fails("conv2d: input must be 4-D (N×C×H×W), got 3×28×28",
      function() ae.conv2d(ae.zeros(3, 28, 28), ae.zeros(16, 3, 3, 3)) end)
    fails("conv2d: weight must be 4-D (out×in×kh×kw), got 16×3×3",
      function() ae.conv2d(x, ae.zeros(16, 3, 3)) end)
    fails("conv2d: kernel 7×7 is larger than the padded input 5×5 (input 2×1×5×5, padding 0×0)",
      function() ae.conv2d(ae.zeros(2, 1, 5, 5), ae.zeros(4, 1, 7, 7)) end)
    fails("conv2d: stride must be positive, got 0×0",
      function() ae.conv2d(x, ae.zeros(16, 3, 3, 3), nil, 0) end)
    fails("conv2d: stride must be positive, got 1×-2",
      function() ae.conv2d(x, ae.zeros(16, 3, 3, 3), nil, { 1, -2 }) end)
    fails("conv2d: padding must be non-negative, got -1×-1",
      function() ae.conv2d(x, ae.zeros(16, 3, 3, 3), nil, 1, -1) end)
    fails("conv2d: bias 15 should have shape 16",
      function() ae.conv2d(x, ae.zeros(16, 3, 3, 3), ae.zeros(15)) end)
    fails("conv2d: stride must be an integer or an {h, w} pair",
      function() ae.conv2d(x, ae.zeros(16, 3, 3, 3), nil, "2") end)
    fails("stride must be an integer",
      function() ae.conv2d(x, ae.zeros(16, 3, 3, 3), nil, 1.5) end)
    fails("conv2d: input 2×3×0×4 has an empty channel or spatial dimension",
      function() ae.conv2d(ae.zeros(2, 3, 0, 4), ae.zeros(1, 3, 1, 1)) end)
  end)

  it("conv_transpose2d names the op, the shapes and the rule", function()
    local x = ae.zeros(2, 32, 7, 7)
    fails("conv_transpose2d: input 2×32×7×7 has 32 channels, weight 16×32×3×3 expects 16",
      function() ae.conv_transpose2d(x, ae.zeros(16, 32, 3, 3)) end)
    fails("conv_transpose2d: output_padding 2×2 must be non-negative and smaller than the stride 2×2",
      function() ae.conv_transpose2d(x, ae.zeros(32, 16, 3, 3), nil, 2, 1, 2) end)
    fails("conv_transpose2d: output_padding 1×1 must be non-negative and smaller than the stride 1×1",
      function() ae.conv_transpose2d(x, ae.zeros(32, 16, 3, 3), nil, 1, 0, 1) end)
    fails("conv_transpose2d: output would be -1×-1",
      function() ae.conv_transpose2d(ae.zeros(1, 1, 1, 1), ae.zeros(1, 1, 3, 3), nil, 1, 2) end)
    fails("conv_transpose2d: stride must be positive",
      function() ae.conv_transpose2d(x, ae.zeros(32, 16, 3, 3), nil, -1) end)
    fails("conv_transpose2d: weight must be 4-D (in×out×kh×kw)",
      function() ae.conv_transpose2d(x, ae.zeros(32, 16)) end)
    fails("conv_transpose2d: bias 32 should have shape 16",
      function() ae.conv_transpose2d(x, ae.zeros(32, 16, 3, 3), ae.zeros(32)) end)
  end)

  it("the modules check their arguments when built", function()
    fails("Conv2d: in_channels must be at least 1, got 0", function() nn.Conv2d(0, 16, 3) end)
    fails("Conv2d: kernel_size must be an integer or an {h, w} pair, got nil", function() nn.Conv2d(1, 16) end)
    fails("Conv2d: stride must be at least 1, got 0", function() nn.Conv2d(1, 16, 3, { stride = 0 }) end)
    fails("Conv2d: padding must be at least 0, got -1", function() nn.Conv2d(1, 16, 3, { padding = -1 }) end)
    fails("Conv2d: unknown option 'strides'", function() nn.Conv2d(1, 16, 3, { strides = 2 }) end)
    -- nothing after the options table or beside the named table is passed over
    fails("Conv2d: the options table must come last", function() nn.Conv2d(1, 16, 3, { stride = 2 }, 1) end)
    fails("ConvTranspose2d: a table of named arguments comes alone",
      function() nn.ConvTranspose2d({ in_channels = 1, out_channels = 2, kernel_size = 3 }, 2) end)
    fails("ConvTranspose2d: output_padding (2, 2) must be smaller than the stride (2, 2)",
      function() nn.ConvTranspose2d(1, 16, 3, { stride = 2, output_padding = 2 }) end)
    fails("MaxPool2d: padding (2, 2) must be at most half the kernel_size (2, 2)",
      function() nn.MaxPool2d(2, { padding = 2 }) end)
    fails("Upsample: mode 'bilinear' is not supported", function() nn.Upsample { scale_factor = 2, mode = "bilinear" } end)
    fails("Upsample: scale_factor is required", function() nn.Upsample {} end)
    -- the error points at the script that built the layer
    local _, err = pcall(function() nn.Conv2d(0, 1, 1) end)
    assert.truthy(tostring(err):find("conv_spec.lua:", 1, true), tostring(err))
  end)

  it("a Sequential names the failing layer", function()
    local m = nn.Sequential { nn.Conv2d(1, 4, 3), nn.Conv2d(3, 2, 3) }
    fails("1 (Conv2d): ", function() m(ae.zeros(2, 1, 5, 5)) end)
    fails("conv2d: input 2×4×3×3 has 4 channels, weight 2×3×3×3 expects 3",
      function() m(ae.zeros(2, 1, 5, 5)) end)
  end)
end)

-- ---------------------------------------------------------------- modules

describe("conv modules", function()
  local function tutorial()
    local enc = nn.Sequential {
      nn.Conv2d(1, 16, 3, { stride = 2, padding = 1 }), nn.ReLU(),
      nn.Conv2d(16, 32, 3, { stride = 2, padding = 1 }), nn.ReLU(),
      nn.Conv2d(32, 64, 7),
    }
    local dec = nn.Sequential {
      nn.ConvTranspose2d(64, 32, 7), nn.ReLU(),
      nn.ConvTranspose2d(32, 16, 3, { stride = 2, padding = 1, output_padding = 1 }), nn.ReLU(),
      nn.ConvTranspose2d(16, 1, 3, { stride = 2, padding = 1, output_padding = 1 }), nn.Sigmoid(),
    }
    return nn.AutoEncoder(enc, dec)
  end

  it("the tutorial's model maps 28 -> 14 -> 7 -> 1 -> 7 -> 14 -> 28", function()
    local m = tutorial()
    local h = ae.rand(3, 1, 28, 28)
    local sizes = {}
    for _, part in ipairs { m.encoder, m.decoder } do
      for i = 1, #part do
        h = part[i](h)
        if part[i]._type ~= "ReLU" and part[i]._type ~= "Sigmoid" then sizes[#sizes + 1] = h:shape() end
      end
    end
    assert.are.same({ { 3, 16, 14, 14 }, { 3, 32, 7, 7 }, { 3, 64, 1, 1 }, { 3, 32, 7, 7 },
      { 3, 16, 14, 14 }, { 3, 1, 28, 28 } }, sizes)
  end)

  it("has PyTorch's parameter names and orientations", function()
    local names, shapes = {}, {}
    for path, p in tutorial():named_parameters() do
      names[#names + 1] = path
      shapes[#shapes + 1] = table.concat(p:shape(), "x")
    end
    assert.are.same({ "encoder/0/weight", "encoder/0/bias", "encoder/2/weight", "encoder/2/bias",
      "encoder/4/weight", "encoder/4/bias", "decoder/0/weight", "decoder/0/bias", "decoder/2/weight",
      "decoder/2/bias", "decoder/4/weight", "decoder/4/bias" }, names)
    assert.are.same({ "16x1x3x3", "16", "32x16x3x3", "32", "64x32x7x7", "64",
      "64x32x7x7", "32", "32x16x3x3", "16", "16x1x3x3", "1" }, shapes)
  end)

  it("initialises as PyTorch does: U(±1/√fan_in), fan_in from the weight's second dimension", function()
    ae.manual_seed(2)
    CC.init_bounds {
      { nn.Conv2d(8, 20, { 3, 5 }), 8 * 15 },
      { nn.ConvTranspose2d(20, 8, { 3, 5 }), 8 * 15 },  -- out_channels·kh·kw
      { nn.ConvTranspose2d(8, 30, 3), 30 * 9 },
    }
    assert.is_nil(nn.Conv2d(1, 2, 3, { bias = false }).bias)
    assert.are.equal(2, #nn.Conv2d(1, 2, 3):parameters())
  end)

  it("prints like PyTorch", function()
    assert.are.equal("Conv2d(1, 16, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))",
      tostring(nn.Conv2d(1, 16, 3, { stride = 2, padding = 1 })))
    assert.are.equal("Conv2d(32, 64, kernel_size=(7, 7), stride=(1, 1))", tostring(nn.Conv2d(32, 64, 7)))
    assert.are.equal("Conv2d(1, 16, kernel_size=(3, 5), stride=(1, 1), bias=false)",
      tostring(nn.Conv2d(1, 16, { 3, 5 }, { bias = false })))
    assert.are.equal(
      "ConvTranspose2d(32, 16, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))",
      tostring(nn.ConvTranspose2d(32, 16, 3, { stride = 2, padding = 1, output_padding = 1 })))
    assert.are.equal("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=false)",
      tostring(nn.MaxPool2d(2)))
    assert.are.equal("MaxPool2d(kernel_size=(2, 3), stride=1, padding=1, dilation=1, ceil_mode=false)",
      tostring(nn.MaxPool2d({ 2, 3 }, { stride = 1, padding = 1 })))
    assert.are.equal("Upsample(scale_factor=2.0, mode=nearest)", tostring(nn.Upsample { scale_factor = 2 }))
  end)

  it("records its constructor arguments under PyTorch's names and rebuilds from them", function()
    local m = nn.ConvTranspose2d(32, 16, 3, { stride = 2, padding = 1, output_padding = 1 })
    assert.are.same({ "in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding",
      "bias" }, m._config_keys)
    assert.are.same({ in_channels = 32, out_channels = 16, kernel_size = { 3, 3 }, stride = { 2, 2 },
      padding = { 1, 1 }, output_padding = { 1, 1 }, bias = true }, m._config)
    local c = nn.Conv2d(1, 16, { 3, 5 }, { stride = { 2, 1 }, bias = false })
    assert.are.same({ "in_channels", "out_channels", "kernel_size", "stride", "padding", "bias" }, c._config_keys)
    -- from the named table (as JSON gives it back) and positionally, in key order
    for _, built in ipairs {
      nn.ConvTranspose2d(m._config),
      nn.ConvTranspose2d(32, 16, { 3, 3 }, { 2, 2 }, { 1, 1 }, { 1, 1 }, true),
    } do
      assert.are.same(m._config, built._config)
      assert.are.same(m.weight:shape(), built.weight:shape())
    end
    assert.are.same(c._config, nn.Conv2d(c._config)._config)
    local p = nn.MaxPool2d(3, { stride = 2, padding = 1 })
    assert.are.same({ kernel_size = { 3, 3 }, stride = { 2, 2 }, padding = { 1, 1 } }, p._config)
    assert.are.same(p._config, nn.MaxPool2d(p._config)._config)
    local u = nn.Upsample { scale_factor = 2, mode = "nearest" }
    assert.are.same({ scale_factor = 2, mode = "nearest" }, u._config)
    assert.are.same(u._config, nn.Upsample(u._config)._config)
  end)

  it("nn.build rebuilds every layer from its architecture's JSON", function()
    local found, json = pcall(require, "aerun.json")
    if not found then json = require "cjson" end
    local m = nn.Sequential {
      nn.Conv2d(1, 4, { 3, 5 }, { stride = { 2, 1 }, padding = { 1, 2 }, bias = false }), nn.ReLU(),
      nn.MaxPool2d(2, { stride = 1 }), nn.Upsample { scale_factor = 2 },
      nn.ConvTranspose2d(4, 2, 3, { stride = 2, padding = 1, output_padding = 1 }),
    }
    local built = nn.build(json.decode(json.encode(m:architecture())))
    assert.are.equal(tostring(m), tostring(built))
    for i = 1, #m do assert.are.same(m[i]._config, built[i]._config) end
    local x = ae.randn(2, 1, 6, 7)
    assert.are.same(m(x):shape(), built(x):shape())
  end)

  it("trains: a few Adam steps lower the reconstruction loss", function()
    ae.manual_seed(4)
    local m = tutorial()
    local opt = ae.optim.Adam(m:parameters(), { lr = 1e-2 })
    local x = ae.rand(8, 1, 28, 28)
    local first, last
    for i = 1, 15 do
      opt:zero_grad()
      local loss = ae.loss.mse(m(x), x)
      loss:backward()
      opt:step()
      if i == 1 then first = loss:item() end
      last = loss:item()
    end
    assert.is_true(last < 0.8 * first, ("loss went from %g to %g"):format(first, last))
  end)
end)
