-- The 1-D convolutions (runtime/ops/conv.c, runtime/lua/conv.c,
-- lua/aerun/nn_conv.lua): ae.conv1d, ae.conv_transpose1d, nn.Conv1d,
-- nn.ConvTranspose1d, and the Conv1d autoencoder ae.models.conv1d_ae.
--
-- Checked against PyTorch (tests/golden/conv1d_golden.lua, written by
-- tests/golden/make_golden_conv1d.py: forward and every gradient of each
-- layer case, and a small Conv1d autoencoder whose ReLUs are fused), by
-- central finite differences (tests/helpers/gradcheck.lua), and by
-- properties that must hold: a 1-D op is the 2-D op at height 1, a batch
-- computes what its parts compute, conv_transpose1d is conv1d's adjoint.
local ae = require "aerun"
local gc = require "tests.helpers.gradcheck"
local C = require "tests.helpers.check"
local process = require "tests.helpers.process"
local nn = ae.nn
local U = gc.uniform

local G = C.golden("conv1d_golden.lua")

local CC = require "tests.helpers.conv_cases"
local close, max_diff, scale = CC.close, CC.max_diff, CC.scale

local leaf = C.leaf

local ok = C.grad_ok

-- Sums of at most 40 float32 products (8 channels · kernel 5; the bias
-- gradients sum 39 terms), values up to 18, which PyTorch may add in
-- another order.  The worst error measured against this file is 1.9e-6
-- (about an ulp of 18), so 1e-5 absolute plus 1e-5 relative is tight and
-- still 5x that.
local LAYER = { atol = 1e-5, rtol = 1e-5 }

-- ---------------------------------------------------------------- golden

describe("conv1d golden values from PyTorch " .. G.torch_version, function()
  CC.golden_layers(it, CC.conv1d, G.layers, LAYER)

  it("a Conv1d autoencoder with its ReLUs fused: code, output, loss and every gradient", function()
    local A = G.autoencoder
    local enc = nn.Sequential {
      nn.Conv1d(2, 8, 5, { stride = 2, padding = 2 }), nn.ReLU(),
      nn.Conv1d(8, 4, 3, { stride = 2, padding = 1 }), nn.ReLU(),
    }
    local dec = nn.Sequential {
      nn.ConvTranspose1d(4, 8, 3, { stride = 2, padding = 1, output_padding = 1 }), nn.ReLU(),
      nn.ConvTranspose1d(8, 2, 5, { stride = 2, padding = 2, output_padding = 1 }),
    }
    local m = nn.Sequential { enc, dec }
    local params = {}
    for path, p in m:named_parameters() do params[path:gsub("/", ".")] = p end
    ae.no_grad(function()
      for _, p in ipairs(A.params) do assert(params[p.name], "no parameter " .. p.name):copy_(ae.tensor(p.value)) end
    end)
    local x = leaf(A.x)
    local z = enc(x)
    -- each conv and its ReLU ran as one op
    assert.are.equal("conv1d_relu", z.grad_fn)
    local y = dec(z)
    -- values below 0.5, errors measured up to 6e-8
    close("code", z, A.z, { atol = 5e-7, rtol = 1e-6 })
    close("output", y, A.y, { atol = 5e-7, rtol = 1e-6 })
    local loss = ae.loss.mse(y, x)
    close("loss", { loss:item() }, { A.loss }, { atol = 0, rtol = 1e-6 })
    loss:backward()
    -- an MSE over 144 values: gradients up to 0.4, errors measured up to
    -- 1.5e-8
    local tol = { atol = 1e-7, rtol = 1e-5 }
    close("grad x", x.grad, A.grad_x, tol)
    for _, p in ipairs(A.params) do close(p.name .. " grad", params[p.name].grad, p.grad, tol) end
  end)
end)

-- ------------------------------------------------------- finite differences

describe("conv1d gradients by finite differences", function()
  before_each(function()
    ae.manual_seed(12)
    math.randomseed(12)
  end)

  local conv_cases = {
    -- x shape, w shape (out, in, k), stride, padding, bias
    { "k3, stride 1, no padding", { 2, 2, 7 }, { 3, 2, 3 }, 1, 0, true },
    { "k5, stride 2, padding 2", { 2, 3, 11 }, { 2, 3, 5 }, 2, 2, true },
    { "k4, stride 3, padding 1, no bias", { 3, 2, 10 }, { 2, 2, 4 }, 3, 1, false },
    { "batch 1, one channel", { 1, 1, 9 }, { 2, 1, 3 }, 2, 1, true },
    { "kernel covering the input (dense)", { 3, 2, 5 }, { 4, 2, 5 }, 1, 0, true },
    { "padding larger than the kernel's half", { 2, 1, 6 }, { 2, 1, 2 }, 3, 2, true },
    { "k1, three input channels", { 2, 3, 4 }, { 2, 3, 1 }, 1, 0, false },
  }

  local convt_cases = {
    -- x shape, w shape (in, out, k), stride, padding, output_padding, bias
    { "k3, stride 1", { 2, 2, 5 }, { 2, 3, 3 }, 1, 0, 0, true },
    { "k5, stride 2, padding 2, output_padding 1", { 2, 3, 4 }, { 3, 2, 5 }, 2, 2, 1, true },
    { "k4, stride 3, padding 1, output_padding 2, no bias", { 3, 2, 3 }, { 2, 2, 4 }, 3, 1, 2, false },
    { "batch 1, one output channel", { 1, 2, 4 }, { 2, 1, 3 }, 2, 1, 1, true },
    { "from length 1 (dense)", { 3, 4, 1 }, { 4, 2, 3 }, 1, 0, 0, true },
    { "from length 1 with output_padding", { 2, 2, 1 }, { 2, 2, 3 }, 2, 0, 1, true },
  }
  CC.finite_differences(it, CC.conv1d, conv_cases, convt_cases)

  it("with the ReLU fused, away from its kink", function()
    -- a draw whose outputs all lie at least 0.05 from 0: a step of 1e-2
    -- in one input moves an output by at most 1e-2·|w| < 0.05, so no
    -- central difference straddles the kink
    local function draw(f, xs, ws, bs)
      for _ = 1, 100 do
        local x, w, b = U(xs, -1, 1), U(ws, -1, 1), U(bs, -1, 1)
        if (f(x, w, b):abs() - 0.05):lt(0):sum():item() == 0 then return x, w, b end
      end
      error("no draw away from the kink in 100")
    end
    local conv = function(x, w, b, relu) return ae.conv1d(x, w, b, 2, 1, relu) end
    local convt = function(x, w, b, relu) return ae.conv_transpose1d(x, w, b, 2, 1, 1, relu) end
    for _, c in ipairs { { conv, { 2, 2, 7 }, { 3, 2, 3 }, { 3 } }, { convt, { 2, 2, 4 }, { 2, 3, 3 }, { 3 } } } do
      local f = c[1]
      local x, w, b = draw(f, c[2], c[3], c[4])
      -- both signs occur, so the mask does something
      local y = f(x, w, b)
      assert.is_true(y:max() > 0 and y:min() < 0)
      ok(function(xx, ww, bb) return f(xx, ww, bb, true) end, { x, w, b })
    end
  end)

  it("a non-contiguous input and weight", function()
    local x, w = U({ 2, 5, 3 }, -1, 1), U({ 3, 3, 2 }, -1, 1)
    -- x read as 2×3×5, w as (out 3, in 3, k 2) and (in 3, out 3, k 2)
    ok(function(xx, ww) return ae.conv1d(xx:transpose(2, 3), ww:transpose(1, 2), nil, 2, 1) end, { x, w })
    ok(function(xx, ww) return ae.conv_transpose1d(xx:transpose(2, 3), ww:transpose(1, 2), nil, 2, 1, 1) end,
      { x, w })
  end)
end)

-- ---------------------------------------------------------------- properties

describe("conv1d properties", function()
  before_each(function() ae.manual_seed(5) end)

  it("is the 2-D op at height 1, forward and gradients, to the bit", function()
    -- the same code on the same data: equality, not closeness
    for _, c in ipairs {
      { false, { 3, 4, 17 }, { 5, 4, 3 }, 2, 1, 0 },
      { false, { 2, 3, 6 }, { 4, 3, 6 }, 1, 0, 0 },
      { true, { 3, 4, 9 }, { 4, 2, 5 }, 2, 2, 1 },
      { true, { 2, 3, 1 }, { 3, 4, 3 }, 1, 0, 0 },
    } do
      local transposed, xs, ws, s, p, op = table.unpack(c)
      local x0, w0 = ae.randn(table.unpack(xs)), ae.randn(table.unpack(ws))
      local b0 = ae.randn(transposed and ws[2] or ws[1])
      local function run(two)
        local x, w, b = x0:clone():requires_grad_(true), w0:clone():requires_grad_(true),
          b0:clone():requires_grad_(true)
        local y
        if two and transposed then
          y = ae.conv_transpose2d(x:unsqueeze(3), w:unsqueeze(3), b, { 1, s }, { 0, p }, { 0, op }):squeeze(3)
        elseif two then
          y = ae.conv2d(x:unsqueeze(3), w:unsqueeze(3), b, { 1, s }, { 0, p }):squeeze(3)
        elseif transposed then
          y = ae.conv_transpose1d(x, w, b, s, p, op)
        else
          y = ae.conv1d(x, w, b, s, p)
        end
        ae.manual_seed(3)
        ;(y * ae.randn(table.unpack(y:shape()))):sum():backward()
        return y:detach(), x.grad, w.grad, b.grad
      end
      local one, two = { run(false) }, { run(true) }
      for i = 1, 4 do assert.are.equal(0, max_diff(one[i], two[i])) end
    end
  end)

  it("a batch computes what its samples compute one at a time", function()
    local x = ae.randn(5, 3, 21)
    local w, b = ae.randn(4, 3, 5), ae.randn(4)
    local wt, bt = ae.randn(3, 2, 5), ae.randn(2)
    local y = ae.conv1d(x, w, b, 2, 2)
    local yt = ae.conv_transpose1d(x, wt, bt, 2, 2, 1)
    for i = 1, 5 do
      local xi = x:narrow(1, i, 1)
      assert.is_true(max_diff(y:narrow(1, i, 1), ae.conv1d(xi, w, b, 2, 2)) <= 1e-6 * scale(y))
      assert.is_true(max_diff(yt:narrow(1, i, 1), ae.conv_transpose1d(xi, wt, bt, 2, 2, 1)) <= 1e-6 * scale(yt))
    end
  end)

  it("a batch too large for one column matrix gives what its halves give", function()
    -- 16 channels × kernel 9 over 4096 positions: 589,824 floats of the
    -- 16 MB column matrix (4M floats) per sample, so 10 samples go
    -- through in chunks of 7 and 3, and 5 in one
    local x = ae.randn(10, 16, 4096)
    local cases = {
      { ae.randn(8, 16, 9), 1, function(xx, ww, bb) return ae.conv1d(xx, ww, bb, 1, 4) end },
      { ae.randn(16, 16, 9), 2, function(xx, ww, bb) return ae.conv_transpose1d(xx, ww, bb, 1, 4) end },
    }
    -- sums over 40,960 positions in the weight's and bias's gradients
    CC.batch_halves(x, 5, cases)
  end)

  it("a conv and the ReLU after it in a Sequential run as one op with the two ops' numbers", function()
    local cases = {
      { nn.Conv1d(3, 4, 5, { stride = 2, padding = 2 }), { 5, 3, 19 } },
      { nn.Conv1d(3, 4, 5, { stride = 2, padding = 2 }), { 1, 3, 19 } },
      { nn.Conv1d(6, 5, 7), { 4, 6, 7 } },                      -- dense
      { nn.Conv1d(16, 4, 9, { padding = 4 }), { 10, 16, 4096 } }, -- in chunks of 7 and 3
      { nn.ConvTranspose1d(3, 4, 5, { stride = 2, padding = 2, output_padding = 1 }), { 5, 3, 11 } },
      { nn.ConvTranspose1d(3, 4, 5, { stride = 2, padding = 2, output_padding = 1 }), { 1, 3, 11 } },
      { nn.ConvTranspose1d(6, 5, 7), { 4, 6, 1 } },              -- dense
      { nn.ConvTranspose1d(16, 16, 9, { padding = 4 }), { 10, 16, 4096 } },
    }
    CC.fused_relu(CC.conv1d, cases)
  end)

  it("conv_transpose1d is the adjoint of conv1d: <conv(x), r> = <x, convT(r)>", function()
    for _, c in ipairs {
      { { 3, 2, 17 }, { 4, 2, 3 }, 2, 1 },
      { { 2, 3, 20 }, { 2, 3, 5 }, 3, 2 },
      { { 4, 2, 5 }, { 3, 2, 5 }, 1, 0 },
    } do
      local x, w = ae.randn(table.unpack(c[1])), ae.randn(table.unpack(c[2]))
      local y = ae.conv1d(x, w, nil, c[3], c[4])
      local r = ae.randn(table.unpack(y:shape()))
      -- output_padding makes convT(r) as long as x again
      local op = c[1][3] - ((y:size(3) - 1) * c[3] - 2 * c[4] + c[2][3])
      local xt = ae.conv_transpose1d(r, w, nil, c[3], c[4], op)
      assert.are.same(c[1], xt:shape())
      local lhs, rhs = (y * r):sum():item(), (x * xt):sum():item()
      assert.is_true(math.abs(lhs - rhs) <= 1e-4 * (1 + math.abs(lhs)), lhs .. " vs " .. rhs)
    end
  end)

  it("records nothing under no_grad, and names its ops", function()
    local x = ae.randn(2, 1, 9)
    local m = nn.Conv1d(1, 2, 3)
    local y = ae.no_grad(function() return m(x) end)
    assert.is_false(y.requires_grad)
    assert.is_nil(y.grad_fn)
    assert.are.equal("conv1d", m(x).grad_fn)
    assert.are.equal("conv_transpose1d", nn.ConvTranspose1d(1, 2, 3)(x).grad_fn)
  end)

  it("a weight that starts requiring grad after the forward pass gets none", function()
    local x = ae.randn(2, 1, 9):requires_grad_(true)
    local w = ae.randn(2, 1, 3)
    local y = ae.conv1d(x, w)
    w:requires_grad_(true)
    y:sum():backward()
    assert.are.same({ 2, 1, 9 }, x.grad:shape())
    assert.is_nil(w.grad)
  end)

  it("handles an empty batch", function()
    assert.are.same({ 0, 3, 5 }, ae.conv1d(ae.zeros(0, 2, 10), ae.randn(3, 2, 3), ae.randn(3), 2, 1):shape())
    assert.are.same({ 0, 3, 6 }, ae.conv_transpose1d(ae.zeros(0, 2, 3), ae.randn(2, 3, 3), nil, 2, 1, 1):shape())
  end)

  it("takes sizes as integers or one-element tables", function()
    local x, w = ae.randn(2, 3, 12), ae.randn(4, 3, 3)
    assert.are.equal(0, max_diff(ae.conv1d(x, w, nil, 2, 1), ae.conv1d(x, w, nil, { 2 }, { 1 })))
    local wt = ae.randn(3, 4, 3)
    assert.are.equal(0, max_diff(ae.conv_transpose1d(x, wt, nil, 2, 1, 1),
      ae.conv_transpose1d(x, wt, nil, { 2 }, { 1 }, { 1 })))
  end)
end)

-- ---------------------------------------------------------------- bf16

-- as tests/precision_spec.lua checks conv2d: under bf16 a convolution is
-- the fp32 convolution of the bf16-rounded input and weight, up to fp32
-- accumulation over K = channels·k terms, |got - ref| <= 2·K·2^-24·conv(|x|, |w|)
local has_bf16 = C.has_bf16()
local needs = has_bf16 and it or function(name)
  pending(name .. ": bf16 is not available here (" .. ae.gemm_backend() .. ")")
end

describe("conv1d under bf16", function()
  for _, op in ipairs { "conv1d", "conv_transpose1d" } do
    needs(op .. " takes bf16-rounded input and weight, forward and backward", function()
      ae.manual_seed(6)
      local x = ae.randn(8, 16, 40):requires_grad_()
      local w = (op == "conv1d" and ae.randn(24, 16, 5) or ae.randn(16, 24, 5)):requires_grad_()
      -- K = 16·5 terms an output; the weight gradient's sums of 8·40 = 320
      -- terms bound the gradients' error
      C.bf16_conv(op, function(a, b) return ae[op](a, b, nil, 1, 2) end, x, w, 16 * 5, 320)
    end)
  end
end)

-- ---------------------------------------------------------------- errors

describe("conv1d shape rules", function()
  local fails = C.fails

  it("conv1d names the op, the shapes and the rule", function()
    local x = ae.zeros(8, 3, 100)
    fails("conv1d: input must be 3-D (N×C×L), got 3×100", function() ae.conv1d(ae.zeros(3, 100), ae.zeros(4, 3, 5)) end)
    fails("conv1d: input must be 3-D (N×C×L), got 8×3×1×100",
      function() ae.conv1d(ae.zeros(8, 3, 1, 100), ae.zeros(4, 3, 5)) end)
    fails("conv1d: weight must be 3-D (out×in×k), got 4×3×1×5",
      function() ae.conv1d(x, ae.zeros(4, 3, 1, 5)) end)
    fails("conv1d: input 8×3×100 has 3 channels, weight 4×2×5 expects 2", function() ae.conv1d(x, ae.zeros(4, 2, 5)) end)
    fails("conv1d: kernel 7 is larger than the padded input 6 (input 2×1×4, padding 1)",
      function() ae.conv1d(ae.zeros(2, 1, 4), ae.zeros(3, 1, 7), nil, 1, 1) end)
    fails("conv1d: stride must be positive, got 0", function() ae.conv1d(x, ae.zeros(4, 3, 5), nil, 0) end)
    fails("conv1d: padding must be non-negative, got -1", function() ae.conv1d(x, ae.zeros(4, 3, 5), nil, 1, -1) end)
    fails("conv1d: bias 5 should have shape 4", function() ae.conv1d(x, ae.zeros(4, 3, 5), ae.zeros(5)) end)
    fails("conv1d: stride must be an integer or a one-element table, got a table",
      function() ae.conv1d(x, ae.zeros(4, 3, 5), nil, { 2, 1 }) end)
    fails("conv1d: padding must hold an integer", function() ae.conv1d(x, ae.zeros(4, 3, 5), nil, 1, { 0.5 }) end)
    fails("stride must be an integer", function() ae.conv1d(x, ae.zeros(4, 3, 5), nil, 1.5) end)
    fails("conv1d: input 2×3×0 has an empty channel or spatial dimension",
      function() ae.conv1d(ae.zeros(2, 3, 0), ae.zeros(1, 3, 1)) end)
    fails("conv1d: weight 0×3×3 is empty", function() ae.conv1d(x, ae.zeros(0, 3, 3)) end)
  end)

  it("conv_transpose1d names the op, the shapes and the rule", function()
    local x = ae.zeros(2, 16, 25)
    fails("conv_transpose1d: input must be 3-D (N×C×L), got 2×16×25×1",
      function() ae.conv_transpose1d(ae.zeros(2, 16, 25, 1), ae.zeros(16, 8, 5)) end)
    fails("conv_transpose1d: weight must be 3-D (in×out×k), got 16×8",
      function() ae.conv_transpose1d(x, ae.zeros(16, 8)) end)
    fails("conv_transpose1d: input 2×16×25 has 16 channels, weight 8×16×5 expects 8",
      function() ae.conv_transpose1d(x, ae.zeros(8, 16, 5)) end)
    fails("conv_transpose1d: output_padding 2 must be non-negative and smaller than the stride 2",
      function() ae.conv_transpose1d(x, ae.zeros(16, 8, 5), nil, 2, 2, 2) end)
    fails("conv_transpose1d: output_padding 1 must be non-negative and smaller than the stride 1",
      function() ae.conv_transpose1d(x, ae.zeros(16, 8, 5), nil, 1, 0, 1) end)
    fails("conv_transpose1d: output would be -1, padding 2 is too large for input 1×1×1 and weight 1×1×3",
      function() ae.conv_transpose1d(ae.zeros(1, 1, 1), ae.zeros(1, 1, 3), nil, 1, 2) end)
    fails("conv_transpose1d: stride must be positive, got -1",
      function() ae.conv_transpose1d(x, ae.zeros(16, 8, 5), nil, -1) end)
    fails("conv_transpose1d: bias 16 should have shape 8",
      function() ae.conv_transpose1d(x, ae.zeros(16, 8, 5), ae.zeros(16)) end)
  end)

  it("the modules check their arguments when built", function()
    fails("Conv1d: in_channels must be at least 1, got 0", function() nn.Conv1d(0, 16, 3) end)
    fails("Conv1d: kernel_size must be an integer or a one-element table, got nil", function() nn.Conv1d(1, 16) end)
    fails("Conv1d: kernel_size must be an integer or a one-element table, got a table",
      function() nn.Conv1d(1, 16, { 3, 3 }) end)
    fails("Conv1d: stride must be at least 1, got 0", function() nn.Conv1d(1, 16, 3, { stride = 0 }) end)
    fails("Conv1d: padding must be at least 0, got -1", function() nn.Conv1d(1, 16, 3, { padding = -1 }) end)
    fails("Conv1d: kernel_size must hold an integer, got 2.5", function() nn.Conv1d(1, 16, 2.5) end)
    fails("Conv1d: unknown option 'output_padding'", function() nn.Conv1d(1, 16, 3, { output_padding = 1 }) end)
    fails("ConvTranspose1d: output_padding (2,) must be smaller than the stride (2,)",
      function() nn.ConvTranspose1d(1, 16, 3, { stride = 2, output_padding = 2 }) end)
    fails("ConvTranspose1d: bias must be true or false", function() nn.ConvTranspose1d(1, 16, 3, { bias = 1 }) end)
    -- the error points at the script that built the layer
    local _, err = pcall(function() nn.Conv1d(0, 1, 1) end)
    assert.truthy(tostring(err):find("conv1d_spec.lua:", 1, true), tostring(err))
  end)

  it("a Sequential names the failing layer", function()
    local m = nn.Sequential { nn.Conv1d(1, 4, 3), nn.ReLU(), nn.Conv1d(3, 2, 3) }
    fails("2 (Conv1d): ", function() m(ae.zeros(2, 1, 9)) end)
    fails("conv1d: input 2×4×7 has 4 channels, weight 2×3×3 expects 3", function() m(ae.zeros(2, 1, 9)) end)
    -- a 2-D batch given to a 1-D layer
    fails("0 (Conv1d): conv1d: input must be 3-D (N×C×L), got 2×1×9×9", function() m(ae.zeros(2, 1, 9, 9)) end)
  end)
end)

-- ---------------------------------------------------------------- modules

describe("conv1d modules", function()
  it("have PyTorch's parameter names and orientations", function()
    local m = nn.Sequential { nn.Conv1d(3, 16, 5), nn.ReLU(), nn.ConvTranspose1d(16, 2, 4, { bias = false }) }
    local names, shapes = {}, {}
    for path, p in m:named_parameters() do
      names[#names + 1] = path
      shapes[#shapes + 1] = table.concat(p:shape(), "x")
    end
    assert.are.same({ "0/weight", "0/bias", "2/weight" }, names)
    assert.are.same({ "16x3x5", "16", "16x2x4" }, shapes)
  end)

  it("initialise as PyTorch does: U(±1/√fan_in), fan_in from the weight's second dimension", function()
    ae.manual_seed(2)
    CC.init_bounds {
      { nn.Conv1d(8, 20, 5), 8 * 5 },
      { nn.ConvTranspose1d(20, 8, 5), 8 * 5 }, -- out_channels·k
      { nn.ConvTranspose1d(8, 30, 3), 30 * 3 },
    }
    assert.is_nil(nn.Conv1d(1, 2, 3, { bias = false }).bias)
    assert.are.equal(2, #nn.ConvTranspose1d(1, 2, 3):parameters())
  end)

  it("print like PyTorch", function()
    -- PyTorch's own strings (but for bias=false, which aerun's Conv2d
    -- prints in Lua's spelling too)
    assert.are.equal("Conv1d(1, 16, kernel_size=(3,), stride=(2,), padding=(1,))",
      tostring(nn.Conv1d(1, 16, 3, { stride = 2, padding = 1 })))
    assert.are.equal("Conv1d(32, 64, kernel_size=(7,), stride=(1,))", tostring(nn.Conv1d(32, 64, 7)))
    assert.are.equal("Conv1d(1, 16, kernel_size=(5,), stride=(1,), bias=false)",
      tostring(nn.Conv1d(1, 16, { 5 }, { bias = false })))
    assert.are.equal("ConvTranspose1d(32, 16, kernel_size=(3,), stride=(2,), padding=(1,), output_padding=(1,))",
      tostring(nn.ConvTranspose1d(32, 16, 3, { stride = 2, padding = 1, output_padding = 1 })))
    assert.are.equal("ConvTranspose1d(4, 2, kernel_size=(3,), stride=(2,))", tostring(nn.ConvTranspose1d(4, 2, 3, 2)))
  end)

  it("record their arguments under PyTorch's names and rebuild from them", function()
    local m = nn.ConvTranspose1d(32, 16, 3, { stride = 2, padding = 1, output_padding = 1 })
    assert.are.same({ "in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding",
      "bias" }, m._config_keys)
    assert.are.same({ in_channels = 32, out_channels = 16, kernel_size = { 3 }, stride = { 2 },
      padding = { 1 }, output_padding = { 1 }, bias = true }, m._config)
    for _, built in ipairs {
      nn.ConvTranspose1d(m._config),
      nn.ConvTranspose1d(32, 16, { 3 }, { 2 }, { 1 }, { 1 }, true),
      nn.ConvTranspose1d(32, 16, 3, 2, 1, 1),
    } do
      assert.are.same(m._config, built._config)
      assert.are.same(m.weight:shape(), built.weight:shape())
    end
    local c = nn.Conv1d(1, 16, 5, { stride = 2, bias = false })
    assert.are.same({ "in_channels", "out_channels", "kernel_size", "stride", "padding", "bias" }, c._config_keys)
    assert.are.same(c._config, nn.Conv1d(c._config)._config)
  end)

  it("nn.build rebuilds them from the architecture's JSON, and a checkpoint reloads them", function()
    local json = require("aerun.checkpoint").json
    ae.manual_seed(8)
    local m = nn.Sequential {
      nn.Conv1d(2, 4, 5, { stride = 2, padding = 2, bias = false }), nn.ReLU(),
      nn.ConvTranspose1d(4, 2, 5, { stride = 2, padding = 2, output_padding = 1 }),
    }
    local built = nn.build(json.decode(json.encode(m:architecture())))
    assert.are.equal(tostring(m), tostring(built))
    for i = 1, #m do assert.are.same(m[i]._config, built[i]._config) end
    local x = ae.randn(3, 2, 10)
    assert.are.same({ 3, 2, 10 }, built(x):shape())
    local dir = process.tmpdir()
    local path = dir .. "/c1.h5"
    ae.checkpoint.save(path, { model = m })
    local back = ae.checkpoint.model(path)
    os.execute("rm -rf " .. process.quote(dir))
    assert.are.equal(0, max_diff(m(x), back(x)))
  end)

  it("train: a few Adam steps lower the reconstruction loss", function()
    ae.manual_seed(4)
    local m = ae.models.conv1d_ae { channels = 2, length = 32, hidden = { 8, 4 } }
    local opt = ae.optim.Adam(m:parameters(), { lr = 1e-2 })
    -- two noisy sines of different frequency per series
    local v = {}
    for n = 1, 6 do
      v[n] = { {}, {} }
      for t = 1, 32 do
        v[n][1][t] = math.sin(0.4 * t + n)
        v[n][2][t] = math.cos(0.2 * t - n)
      end
    end
    local x = ae.tensor(v) + ae.randn(6, 2, 32) * 0.1
    local first, last
    for i = 1, 30 do
      opt:zero_grad()
      local loss = ae.loss.mse(m(x), x)
      loss:backward()
      opt:step()
      if i == 1 then first = loss:item() end
      last = loss:item()
    end
    assert.is_true(last < 0.5 * first, ("loss went from %g to %g"):format(first, last))
  end)
end)

-- ---------------------------------------------------------------- the model

describe("models.conv1d_ae", function()
  it("maps N×C×L to N×C×L for several C, L, kernels and depths", function()
    ae.manual_seed(1)
    for _, c in ipairs { { 1, 1 }, { 1, 2 }, { 3, 50 }, { 2, 33 }, { 5, 128 }, { 4, 7 } } do
      for _, k in ipairs { 2, 3, 4, 5, 7 } do
        for _, hidden in ipairs { { 8 }, { 8, 4, 3 } } do
          for _, code in ipairs { false, 6 } do
            local m = ae.models.conv1d_ae { channels = c[1], length = c[2], kernel = k, hidden = hidden,
              code = code or nil }
            local x = ae.randn(2, c[1], c[2])
            local z = m:encode(x)
            if code then assert.are.same({ 2, code }, z:shape()) else assert.are.equal(hidden[#hidden], z:size(2)) end
            assert.are.same({ 2, c[1], c[2] }, m:decode(z):shape())
          end
        end
      end
    end
  end)

  it("halves the length per layer with the defaults, and mirrors the encoder", function()
    local m = ae.models.conv1d_ae { channels = 3, length = 100 }
    assert.are.same({ 4, 16, 25 }, m:encode(ae.randn(4, 3, 100)):shape())
    assert.are.equal("Conv1d(3, 32, kernel_size=(5,), stride=(2,), padding=(2,))", tostring(m.encoder[1]))
    assert.are.equal("ConvTranspose1d(32, 3, kernel_size=(5,), stride=(2,), padding=(2,), output_padding=(1,))",
      tostring(m.decoder[#m.decoder]))
    -- linear output by default (real-valued series); sigmoid on request
    assert.are.equal("ConvTranspose1d", m.decoder[#m.decoder]._type)
    local s = ae.models.conv1d_ae { channels = 3, length = 100, output = "sigmoid" }
    assert.are.equal("Sigmoid", s.decoder[#s.decoder]._type)
  end)

  it("refuses what it cannot build", function()
    local fails = C.fails
    fails("conv1d_ae: length must be a positive integer, got nil", function() ae.models.conv1d_ae { channels = 3 } end)
    fails("conv1d_ae: channels must be a positive integer, got 0",
      function() ae.models.conv1d_ae { channels = 0, length = 10 } end)
    fails("conv1d_ae: kernel must be a positive integer, got 2.5",
      function() ae.models.conv1d_ae { channels = 1, length = 10, kernel = 2.5 } end)
    fails("conv1d_ae: hidden must be a non-empty list of channel counts, got {}",
      function() ae.models.conv1d_ae { channels = 1, length = 10, hidden = {} } end)
    fails("conv1d_ae: hidden[2] must be a positive integer",
      function() ae.models.conv1d_ae { channels = 1, length = 10, hidden = { 4, -1 } } end)
    fails("conv1d_ae: unknown option 'size'", function() ae.models.conv1d_ae { channels = 1, length = 10, size = 3 } end)
    fails("conv1d_ae: output must be \"sigmoid\" or \"linear\"",
      function() ae.models.conv1d_ae { channels = 1, length = 10, output = "tanh" } end)
  end)
end)
