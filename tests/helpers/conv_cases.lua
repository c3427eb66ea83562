-- tests/helpers/conv_cases.lua: what conv_spec.lua (the 2-D convolutions)
-- and conv1d_spec.lua (the 1-D ones) check alike, for either family: a
-- golden layer case of PyTorch's through the op or the module, the finite
-- differences of both ops, the fused
-- ReLU against the two ops, a batch in column-matrix chunks against its
-- halves, PyTorch's initial bounds.  The specs keep their cases, sizes and
-- tolerances; the comparisons are plain asserts with messages, and the
-- one busted function used (it) is passed in, so this is a plain module.
local ae = require "aerun"
local C = require "tests.helpers.check"
local gc = require "tests.helpers.gradcheck"
local nn = ae.nn

local M = {}

local flatten, shape_of = C.flatten, C.shape_of

-- the op family: name, ops and module classes
M.conv2d = { name = "conv2d", name_t = "conv_transpose2d", op = ae.conv2d, op_t = ae.conv_transpose2d,
  module = nn.Conv2d, module_t = nn.ConvTranspose2d }
M.conv1d = { name = "conv1d", name_t = "conv_transpose1d", op = ae.conv1d, op_t = ae.conv_transpose1d,
  module = nn.Conv1d, module_t = nn.ConvTranspose1d }

local function same_shape(what, want, got)
  assert(table.concat(want, "x") == table.concat(got, "x"),
    ("%s: shape %s, expected %s"):format(what, table.concat(got, "x"), table.concat(want, "x")))
end

-- |got - want| <= atol + rtol·|want| elementwise; the message names the
-- worst element and how many are out
function M.close(what, got, want, tol)
  assert(got ~= nil, what .. ": got nil")
  local g = type(got) == "table" and flatten(got) or flatten(got:totable())
  local w = flatten(want)
  assert(#g == #w, ("%s: expected %d values, got %d"):format(what, #w, #g))
  local bad, worst, excess = 0, 1, -math.huge
  for k = 1, #w do
    local limit = tol.atol + tol.rtol * math.abs(w[k])
    local d = math.abs(g[k] - w[k])
    if not (d <= limit) then
      bad = bad + 1
      local e = d ~= d and math.huge or d - limit
      if e > excess then worst, excess = k, e end
    end
  end
  assert(bad == 0, ("%s: element %d expected %.9g, got %.9g; %d of %d out of tolerance")
    :format(what, worst, w[worst] or 0, g[worst] or 0, bad, #w))
end
local close = M.close

-- the largest elementwise difference of two tensors of the same size
function M.max_diff(a, b)
  local x, y = flatten(a:totable()), flatten(b:totable())
  assert(#x == #y, ("max_diff: %d values against %d"):format(#x, #y))
  local m = 0
  for i = 1, #x do m = math.max(m, math.abs(x[i] - y[i])) end
  return m
end
local max_diff = M.max_diff

-- a tensor's largest magnitude (not 0, so a bound relative to it holds)
function M.scale(t) return math.max(math.abs(t:max()), math.abs(t:min()), 1e-30) end
local scale = M.scale

-- one golden layer case c of make_golden_conv*.py (kind names the op:
-- the family's name or its transpose), through the op or the module:
-- output and every gradient, in the case's shapes, within tol
function M.golden_layer(family, c, tol, use_module)
  local x = C.leaf(c.x)
  local plain = c.kind == family.name
  local y, w, b
  if use_module then
    local opts = { stride = c.stride, padding = c.padding, bias = c.bias }
    if not plain then opts.output_padding = c.output_padding end
    local m = (plain and family.module or family.module_t)(c.in_channels, c.out_channels, c.kernel_size, opts)
    ae.no_grad(function()
      m.weight:copy_(ae.tensor(c.weight))
      if c.bias then m.bias:copy_(ae.tensor(c.b)) end
    end)
    w, b = m.weight, m.bias
    y = m(x)
  else
    w = C.leaf(c.weight)
    b = c.bias and C.leaf(c.b) or nil
    if plain then
      y = family.op(x, w, b, c.stride, c.padding)
    else
      y = family.op_t(x, w, b, c.stride, c.padding, c.output_padding)
    end
  end
  same_shape(c.name .. ": y", shape_of(c.y), y:shape())
  close(c.name .. ": y", y, c.y, tol)
  ;(y * ae.tensor(c.g)):sum():backward()
  same_shape(c.name .. ": grad x", shape_of(c.x), x.grad:shape())
  same_shape(c.name .. ": grad weight", shape_of(c.weight), w.grad:shape())
  close(c.name .. ": grad x", x.grad, c.grad_x, tol)
  close(c.name .. ": grad weight", w.grad, c.grad_weight, tol)
  if c.bias then close(c.name .. ": grad bias", b.grad, c.grad_b, tol) end
end

-- every golden layer case of layers as two tests (made with it, busted's),
-- through the op and through the module
function M.golden_layers(it, family, layers, tol)
  for _, c in ipairs(layers) do
    it(c.name, function() M.golden_layer(family, c, tol, false) end)
    it(c.name .. ", as a module", function() M.golden_layer(family, c, tol, true) end)
  end
end

-- the op and its transpose against central finite differences (tests made
-- with it): conv_cases {name, x shape, w shape, stride, padding, bias},
-- convt_cases {name, x shape, w shape, stride, padding, output_padding,
-- bias}; inputs and weights (and biases) drawn from U(-1, 1)
function M.finite_differences(it, family, conv_cases, convt_cases)
  local U, ok = gc.uniform, C.grad_ok
  for _, c in ipairs(conv_cases) do
    it(family.name .. ": " .. c[1], function()
      local x, w = U(c[2], -1, 1), U(c[3], -1, 1)
      if c[6] then
        local b = U({ c[3][1] }, -1, 1)
        ok(function(xx, ww, bb) return family.op(xx, ww, bb, c[4], c[5]) end, { x, w, b })
      else
        ok(function(xx, ww) return family.op(xx, ww, nil, c[4], c[5]) end, { x, w })
      end
    end)
  end
  for _, c in ipairs(convt_cases) do
    it(family.name_t .. ": " .. c[1], function()
      local x, w = U(c[2], -1, 1), U(c[3], -1, 1)
      if c[7] then
        local b = U({ c[3][2] }, -1, 1)
        ok(function(xx, ww, bb) return family.op_t(xx, ww, bb, c[4], c[5], c[6]) end, { x, w, b })
      else
        ok(function(xx, ww) return family.op_t(xx, ww, nil, c[4], c[5], c[6]) end, { x, w })
      end
    end)
  end
end

-- each case {conv module, input shape}: the module and a ReLU in a
-- Sequential run as one op (family.name .. "_relu" or the transpose's)
-- whose output is the two ops' to the bit and whose gradients are theirs
-- up to the order of the sums
function M.fused_relu(family, cases)
  for _, c in ipairs(cases) do
    local conv = c[1]
    local seq = nn.Sequential { conv, nn.ReLU() }
    local x0 = ae.randn(table.unpack(c[2]))
    local function run(fused)
      local x = x0:detach():requires_grad_(true)
      conv:zero_grad()
      local y = fused and seq(x) or ae.relu(conv(x))
      ae.manual_seed(9)
      local g = ae.randn(table.unpack(y:shape()))
      ;(y * g):sum():backward()
      return y:detach(), x.grad, conv.weight.grad:clone(), conv.bias.grad:clone(), y.grad_fn
    end
    local y1, gx1, gw1, gb1 = run(false)
    local y2, gx2, gw2, gb2, op = run(true)
    local want = (getmetatable(conv) == family.module and family.name or family.name_t) .. "_relu"
    assert(op == want, ("%s: ran as %s, expected %s"):format(tostring(conv), tostring(op), want))
    assert(max_diff(y1, y2) == 0, tostring(conv) .. ": the fused output differs")
    assert(max_diff(gx1, gx2) <= 1e-6 * scale(gx1), tostring(conv) .. ": grad x")
    assert(max_diff(gw1, gw2) <= 1e-6 * scale(gw1), tostring(conv) .. ": grad weight")
    -- the bias's sum runs in another order
    assert(max_diff(gb1, gb2) <= 1e-5 * scale(gb1), tostring(conv) .. ": grad bias")
  end
end

-- each case {weight, the weight dimension of the bias, f(x, w, b)} on x of
-- 2·half samples, which the column matrix takes in several chunks: output
-- and gradients are those of the two halves (the weight's and bias's sums
-- over the batch run in another grouping)
function M.batch_halves(x, half, cases)
  for _, c in ipairs(cases) do
    local w0, b0 = c[1], ae.randn(c[1]:size(c[2]))
    local function run(xx)
      local xl, w, b = xx:detach():requires_grad_(true), w0:detach():requires_grad_(true),
        b0:detach():requires_grad_(true)
      local y = c[3](xl, w, b)
      ;(y * y):sum():backward()
      return y:detach(), xl.grad, w.grad, b.grad
    end
    local y, gx, gw, gb = run(x)
    local ya, gxa, gwa, gba = run(x:narrow(1, 1, half))
    local yb, gxb, gwb, gbb = run(x:narrow(1, half + 1, half))
    assert(max_diff(y:narrow(1, 1, half), ya) <= 1e-6 * scale(y), "first half: y")
    assert(max_diff(y:narrow(1, half + 1, half), yb) <= 1e-6 * scale(y), "second half: y")
    assert(max_diff(gx:narrow(1, 1, half), gxa) <= 1e-6 * scale(gx), "first half: grad x")
    assert(max_diff(gx:narrow(1, half + 1, half), gxb) <= 1e-6 * scale(gx), "second half: grad x")
    assert(max_diff(gw, gwa + gwb) <= 1e-5 * scale(gw), "grad weight")
    assert(max_diff(gb, gba + gbb) <= 1e-5 * scale(gb), "grad bias")
  end
end

-- each case {module, fan_in}: weight and bias lie in ±1/√fan_in and,
-- where there are a hundred values or more, reach close to both ends
function M.init_bounds(cases)
  local function bounds(t)
    local lo, hi = math.huge, -math.huge
    for _, v in ipairs(flatten(t:totable())) do lo, hi = math.min(lo, v), math.max(hi, v) end
    return lo, hi
  end
  for _, c in ipairs(cases) do
    local m, bound = c[1], 1 / math.sqrt(c[2])
    for _, p in ipairs { m.weight, m.bias } do
      local lo, hi = bounds(p)
      assert(lo >= -bound and hi <= bound, ("%s outside ±%g"):format(m, bound))
      if p:numel() >= 100 then
        -- a uniform sample of hundreds reaches close to both ends
        assert(lo < -0.9 * bound and hi > 0.9 * bound, ("%s not spread to ±%g"):format(m, bound))
      end
    end
  end
end

return M
