-- gradcheck.lua: compares autograd gradients with central finite
-- differences.  The scalar checked is Σ f(inputs)·w for a fixed random w,
-- so every output element's gradient path is exercised.  Values are
-- float32, so the step is large (1e-2) and the tolerance relative.
local ae = require "aerun"

local M = {}

local function flatten(t, out)
  out = out or {}
  if type(t) == "number" then
    out[#out + 1] = t
  else
    for _, v in ipairs(t) do flatten(v, out) end
  end
  return out
end
M.flatten = flatten

local function from_flat(values, shape)
  local t = ae.tensor(values)
  if #shape == 0 then return t:reshape({}) end
  return t:reshape(shape)
end

-- f receives fresh leaf tensors built from the values; returns a tensor
local function evaluate(f, values, shapes, w)
  local inputs = {}
  for i, v in ipairs(values) do inputs[i] = from_flat(v, shapes[i]) end
  local y = f(table.unpack(inputs, 1, #values))
  return (y * w):sum():item()
end

-- inputs: list of tensors; opts.eps, opts.atol, opts.rtol, opts.only (set of indices)
-- returns true or false plus a message naming the input, the element and both values
function M.check(f, inputs, opts)
  opts = opts or {}
  local eps, atol, rtol = opts.eps or 1e-2, opts.atol or 2e-3, opts.rtol or 2e-2
  local values, shapes, leaves = {}, {}, {}
  for i, t in ipairs(inputs) do
    values[i] = flatten(t:totable())
    shapes[i] = t:shape()
    leaves[i] = from_flat(values[i], shapes[i]):requires_grad_(true)
  end
  local y = f(table.unpack(leaves, 1, #leaves))
  local w = ae.rand(table.unpack(y:shape())) + 0.5
  if y:dim() == 0 then w = ae.tensor(1.0) end
  ;(y * w):sum():backward()
  for i = 1, #inputs do
    if not opts.only or opts.only[i] then
      local g = leaves[i].grad
      if not g then return false, string.format("input %d received no gradient", i) end
      local analytic = flatten(g:totable())
      for j = 1, #values[i] do
        local keep = values[i][j]
        values[i][j] = keep + eps
        local up = evaluate(f, values, shapes, w)
        values[i][j] = keep - eps
        local down = evaluate(f, values, shapes, w)
        values[i][j] = keep
        local numeric = (up - down) / (2 * eps)
        local a = analytic[j]
        if not (math.abs(a - numeric) <= atol + rtol * math.abs(numeric)) then
          return false, string.format("input %d element %d: autograd %.6g, finite difference %.6g",
            i, j, a, numeric)
        end
      end
    end
  end
  return true
end

-- random values in [lo, hi] away from the points listed in avoid (kinks)
function M.uniform(shape, lo, hi, avoid, margin)
  margin = margin or 0.05
  local n = 1
  for _, s in ipairs(shape) do n = n * s end
  local vals = {}
  for i = 1, n do
    local v
    repeat
      v = lo + (hi - lo) * math.random()
      local ok = true
      for _, k in ipairs(avoid or {}) do
        if math.abs(v - k) < margin then ok = false end
      end
    until ok
    vals[i] = v
  end
  return from_flat(vals, shape)
end

return M
