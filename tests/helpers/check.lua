-- tests/helpers/check.lua: what the op families' specs share: the golden
-- files, elementwise comparison with a tolerance, leaves and the message
-- of an expected error.
local ae = require "aerun"
local gc = require "tests.helpers.gradcheck"

local M = {}

local tests_dir = debug.getinfo(1, "S").source:match("^@(.*)/helpers/[^/]*$") or "tests"

-- the table of tests/golden/<name>
function M.golden(name) return dofile(tests_dir .. "/golden/" .. name) end

-- /params and /optimizer/state of a checkpoint, as tensors by dataset name
function M.checkpoint_state(path)
  local f = ae.h5.open(path, "r")
  local out = {}
  for _, group in ipairs { "params", "optimizer/state" } do
    if f:kind(group) == "group" then
      for _, name in ipairs(f:walk(group)) do out[group .. "/" .. name] = f:read(group .. "/" .. name) end
    end
  end
  f:close()
  return out
end

-- the first dataset of two checkpoint states that differs, or nil: equal
-- shapes and a largest difference of exactly 0 (parameters are finite: a
-- NaN would show as a NaN difference and fail too)
function M.state_difference(a, b)
  local names = {}
  for name in pairs(a) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local x, y = a[name], b[name]
    if y == nil then return name .. " (missing)" end
    if table.concat(x:shape(), "x") ~= table.concat(y:shape(), "x") then return name .. " (shape)" end
    local d = (x - y):abs():max()
    if d ~= 0 then return string.format("%s: largest difference %.9g", name, d) end
  end
  for name in pairs(b) do
    if a[name] == nil then return name .. " (unexpected)" end
  end
  return nil
end

M.flatten = gc.flatten

-- the shape of a nested table of numbers (a number's is {})
function M.shape_of(v)
  if type(v) == "number" then return {} end
  local s = M.shape_of(v[1])
  table.insert(s, 1, #v)
  return s
end

-- a tensor's values as a flat list (a 0-D tensor gives one)
function M.values(t)
  return t:dim() == 0 and { t:item() } or gc.flatten(t:totable())
end

-- x rounded to float32, as aerun stores it: golden values are written
-- with 9 digits, which name one float32 but not exactly
function M.f32(x) return (string.unpack("f", string.pack("f", x))) end

-- the float32 values of a file of raw little-endian float32s (what the
-- Python generators write as the expected values)
function M.f32_file(path)
  local f = assert(io.open(path, "rb"))
  local bytes = f:read("a")
  f:close()
  local out = {}
  for i = 1, #bytes, 4 do out[#out + 1] = string.unpack("<f", bytes, i) end
  return out
end

-- the distance of two float32 values in units in the last place
function M.ulps(a, b)
  if a == b then return 0 end
  if a ~= a or b ~= b then return math.huge end
  local function ordered(x)
    local i = string.unpack("<i4", string.pack("<f", x))
    return i < 0 and -2147483648 - i or i
  end
  return math.abs(ordered(a) - ordered(b))
end

local function finite(x) return x == x and x > -math.huge and x < math.huge end
M.finite = finite

-- |got - want| <= atol + rtol·|want| for every element (want: a nested
-- table, a number or a tensor); names the first element out and counts them
function M.check(what, got, want, atol, rtol)
  atol, rtol = atol or 1e-5, rtol or 1e-4
  assert(got ~= nil, what .. ": got nil")
  local g = M.values(got)
  local w = type(want) == "userdata" and M.values(want) or gc.flatten(type(want) == "number" and { want } or want)
  assert(#g == #w, ("%s: %d values, expected %d"):format(what, #g, #w))
  local bad, first = 0, nil
  for k = 1, #w do
    local diff = math.abs(g[k] - w[k])
    if not (diff <= atol + rtol * math.abs(w[k])) then
      bad = bad + 1
      first = first or k
    end
  end
  if bad > 0 then
    error(("%s element %d: expected %.9g, got %.9g; %d of %d out of tolerance")
      :format(what, first, w[first], g[first], bad, #w), 2)
  end
end

function M.all_finite(what, t)
  for k, v in ipairs(M.values(t)) do assert(finite(v), ("%s element %d is %s"):format(what, k, tostring(v))) end
end

-- whether products can run in bf16 here (oneDNN chosen, a CPU with bf16
-- units): asking for bf16 elsewhere keeps fp32
function M.has_bf16()
  local was = ae.precision("bf16")
  local on = ae.precision() == "bf16"
  ae.precision(was)
  return on
end

-- A convolution f(x, w) (x, w leaves) under bf16 autocast is the fp32
-- convolution of the bf16-rounded x and w up to fp32 accumulation over
-- the K terms of each output, |got - ref| <= 2·K·2^-24·f(|x|, |w|) (both
-- sides accumulate), a bound the unrounded fp32 result breaks somewhere.
-- Its backward, run outside autocast, gives the fp32 gradients of the
-- rounded operands with the rounded output gradient, within
-- 2·terms·2^-24 of each gradient's largest element, terms the length of
-- the longest sum (the weight gradient's, over the batch and positions).
function M.bf16_conv(what, f, x, w, K, terms)
  local EPS = 2 ^ -24
  local rx, rw = ae.round_bf16(x), ae.round_bf16(w)
  local got = ae.autocast("bf16", f, x, w)
  local ref = f(rx, rw)
  local s = f(rx:abs(), rw:abs())
  local gv, rv, sv, pv = M.values(got), M.values(ref), M.values(s), M.values(f(x:detach(), w:detach()))
  local broken = false
  for i = 1, #gv do
    local tol = 2 * K * EPS * sv[i] + 1e-30
    assert(math.abs(gv[i] - rv[i]) <= tol, string.format("%s element %d: %.9g vs %.9g", what, i, gv[i], rv[i]))
    if math.abs(pv[i] - rv[i]) > tol then broken = true end
  end
  assert(broken, what .. ": the fp32 convolution fits the bf16 bound")
  local g = ae.randn(table.unpack(got:shape()))
  ;(got * g):sum():backward()
  local rx2, rw2 = rx:clone():requires_grad_(), rw:clone():requires_grad_()
  ;(f(rx2, rw2) * ae.round_bf16(g)):sum():backward()
  for _, pair in ipairs { { x.grad, rx2.grad, "dx" }, { w.grad, rw2.grad, "dW" } } do
    local a, b = M.values(pair[1]), M.values(pair[2])
    local big = 0
    for i = 1, #b do big = math.max(big, math.abs(b[i])) end
    for i = 1, #b do
      assert(math.abs(a[i] - b[i]) <= 2 * terms * EPS * big,
        string.format("%s %s element %d: %.9g vs %.9g", what, pair[3], i, a[i], b[i]))
    end
  end
end

-- a tensor that requires grad, from nested tables
function M.leaf(v) return ae.tensor(v):requires_grad_() end

-- asserts gradcheck passes
function M.grad_ok(f, inputs, opts)
  local good, msg = gc.check(f, inputs, opts)
  assert(good, msg)
end

-- the message of the error f raises
function M.error_of(f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error")
  return tostring(err)
end

-- asserts that the message err contains each of the plain strings given
function M.mentions(err, ...)
  err = tostring(err)
  for _, s in ipairs { ... } do
    assert(err:find(s, 1, true), "the message lacks '" .. s .. "':\n" .. err)
  end
end

-- asserts f raises an error containing pattern (plain text)
function M.fails(pattern, f)
  local good, err = pcall(f)
  assert(not good, "expected an error matching " .. pattern)
  assert(tostring(err):find(pattern, 1, true), ("error %q does not contain %q"):format(tostring(err), pattern))
end

return M
