-- aerun.nn_conv: the convolutional layers of ae.nn, as in PyTorch:
--
--   nn.Conv2d(in_channels, out_channels, kernel_size, {stride = 1, padding = 0, bias = true})
--   nn.ConvTranspose2d(in_channels, out_channels, kernel_size,
--                      {stride = 1, padding = 0, output_padding = 0, bias = true})
--   nn.Conv1d(in_channels, out_channels, kernel_size, {stride = 1, padding = 0, bias = true})
--   nn.ConvTranspose1d(in_channels, out_channels, kernel_size,
--                      {stride = 1, padding = 0, output_padding = 0, bias = true})
--   nn.MaxPool2d(kernel_size, {stride = kernel_size, padding = 0})
--   nn.Upsample{scale_factor = 2, mode = "nearest"}
--
-- Sizes are numbers or {h, w} pairs (numbers or {n} for the 1-D layers,
-- which keep them as {n}, as PyTorch keeps (n,)).  The options may also come
-- positionally in PyTorch's order (Conv2d(1, 16, 3, 2, 1)) or all as one
-- table named like the constructor's arguments (Conv2d{in_channels = 1,
-- ...}, which is how a model is rebuilt from its architecture JSON).
-- Weights are in PyTorch's orientation and initialised as PyTorch does.

--- @module aerun.nn

--- A 2-D convolution over N×C×H×W, PyTorch's weight orientation (out×in×kh×kw) and initialisation.
-- Sizes are numbers or {h, w}; the options may also come positionally in PyTorch's order.
-- @param in_channels
-- @param out_channels
-- @param kernel_size
-- @param[opt] opts `{stride = 1, padding = 0, bias = true}`
-- @return a module
-- @raise when a size is not a positive integer or an option is unknown
-- @usage local c = nn.Conv2d(1, 16, 3, { stride = 2, padding = 1 }); assert(c(ae.rand(2, 1, 28, 28)):size(3) == 14)
-- @function Conv2d

--- A transposed 2-D convolution, weight in×out×kh×kw as PyTorch's.
-- @param in_channels
-- @param out_channels
-- @param kernel_size
-- @param[opt] opts `{stride = 1, padding = 0, output_padding = 0, bias = true}`
-- @return a module
-- @raise as Conv2d
-- @usage local d = nn.ConvTranspose2d(16, 1, 3, { stride = 2, padding = 1, output_padding = 1 }); assert(d(ae.rand(2, 16, 14, 14)):size(3) == 28)
-- @function ConvTranspose2d

--- A 1-D convolution over N×C×L (time series, signals), PyTorch's weight orientation (out×in×k) and initialisation.
-- Sizes are integers or one-element tables; the options may also come positionally in PyTorch's order.
-- It is conv2d at height 1 on the same data, with the same fast paths.
-- @param in_channels
-- @param out_channels
-- @param kernel_size
-- @param[opt] opts `{stride = 1, padding = 0, bias = true}`
-- @return a module
-- @raise when a size is not a positive integer or an option is unknown
-- @usage local c = nn.Conv1d(3, 16, 5, { stride = 2, padding = 2 }); assert(c(ae.rand(4, 3, 100)):size(3) == 50)
-- @function Conv1d

--- A transposed 1-D convolution, weight in×out×k as PyTorch's; output length (L - 1)·stride - 2·padding + k + output_padding.
-- @param in_channels
-- @param out_channels
-- @param kernel_size
-- @param[opt] opts `{stride = 1, padding = 0, output_padding = 0, bias = true}`
-- @return a module
-- @raise as Conv1d, and when output_padding is not smaller than the stride
-- @usage local d = nn.ConvTranspose1d(16, 3, 5, { stride = 2, padding = 2, output_padding = 1 }); assert(d(ae.rand(4, 16, 50)):size(3) == 100)
-- @function ConvTranspose1d

--- Max pooling.
-- @param kernel_size a number or {h, w}
-- @param[opt] opts `{stride = kernel_size, padding = 0}`
-- @return a module
-- @usage assert(nn.MaxPool2d(2)(ae.rand(1, 1, 4, 4)):size(4) == 2)
-- @function MaxPool2d

--- Nearest-neighbour upsampling.
-- @param opts `{scale_factor = 2, mode = "nearest"}`
-- @return a module
-- @raise on another mode or a non-integer factor
-- @usage assert(nn.Upsample { scale_factor = 2 }(ae.rand(1, 1, 3, 3)):size(3) == 6)
-- @function Upsample

--- @type Conv2d

--- The convolution with a ReLU fused into its output pass (what
-- nn.Sequential runs for a Conv2d followed by nn.ReLU); the same numbers as
-- `relu(conv(x))`.
-- @param x input N×C×H×W
-- @return a tensor
-- @usage local c = nn.Conv2d(1, 2, 3); local x = ae.rand(1, 1, 5, 5); assert((c:forward_relu(x) - c(x):relu()):abs():max() == 0)
-- @function Conv2d:forward_relu

--- @type ConvTranspose2d

--- The transposed convolution with a ReLU fused into its output pass.
-- @param x input N×C×H×W
-- @return a tensor
-- @usage local d = nn.ConvTranspose2d(2, 1, 3); local z = ae.rand(1, 2, 4, 4); assert((d:forward_relu(z) - d(z):relu()):abs():max() == 0)
-- @function ConvTranspose2d:forward_relu

--- @type Conv1d

--- The 1-D convolution with a ReLU fused into its output pass (what
-- nn.Sequential runs for a Conv1d followed by nn.ReLU).
-- @param x input N×C×L
-- @return a tensor
-- @usage local c = nn.Conv1d(1, 2, 3); local x = ae.rand(2, 1, 9); assert((c:forward_relu(x) - c(x):relu()):abs():max() == 0)
-- @function Conv1d:forward_relu

--- @type ConvTranspose1d

--- The transposed 1-D convolution with a ReLU fused into its output pass.
-- @param x input N×C×L
-- @return a tensor
-- @usage local d = nn.ConvTranspose1d(2, 1, 3); local z = ae.rand(2, 2, 6); assert((d:forward_relu(z) - d(z):relu()):abs():max() == 0)
-- @function ConvTranspose1d:forward_relu

local core = require "aerun.core"

-- "Conv2d: ...": the message names the layer; aerun.guard raises it again
-- at the line of the script that built it
local function reject(layer, fmt, ...)
  error(layer .. ": " .. string.format(fmt, ...))
end

local function is_int(v)
  return math.type(v) == "integer" or (type(v) == "number" and v == math.floor(v) and v == v
    and math.abs(v) < 2 ^ 53)
end

-- a size as an {h, w} pair of integers >= min
local function pair(layer, name, v, min)
  local p
  if type(v) == "number" then
    p = { v, v }
  elseif type(v) == "table" and #v == 2 and type(v[1]) == "number" and type(v[2]) == "number" then
    p = { v[1], v[2] }
  else
    reject(layer, "%s must be an integer or an {h, w} pair, got %s", name, require("aerun.guard").value(v))
  end
  for i = 1, 2 do
    if not is_int(p[i]) then reject(layer, "%s must hold integers, got %s", name, require("aerun.guard").value(p[i])) end
    if p[i] < min then reject(layer, "%s must be at least %d, got %s", name, min, tostring(p[i])) end
    p[i] = math.tointeger(p[i])
  end
  return p
end

-- a 1-D size as {n}, an integer >= min, from n or {n}
local function single(layer, name, v, min)
  local n
  if type(v) == "number" then
    n = v
  elseif type(v) == "table" and #v == 1 and getmetatable(v) == nil then
    n = v[1]
  else
    reject(layer, "%s must be an integer or a one-element table, got %s", name, require("aerun.guard").value(v))
  end
  if not is_int(n) then reject(layer, "%s must hold an integer, got %s", name, require("aerun.guard").value(n)) end
  if n < min then reject(layer, "%s must be at least %d, got %s", name, min, tostring(n)) end
  return { math.tointeger(n) }
end

local function count(layer, name, v)
  if not is_int(v) then reject(layer, "%s must be an integer, got %s", name, require("aerun.guard").value(v)) end
  if v < 1 then reject(layer, "%s must be at least 1, got %s", name, tostring(v)) end
  return math.tointeger(v)
end

-- sizes as PyTorch prints its tuples: (3, 3), and (3,) for one
local function shown(p)
  if #p == 1 then return "(" .. p[1] .. ",)" end
  return "(" .. p[1] .. ", " .. p[2] .. ")"
end
local function is_zero(p)
  for _, v in ipairs(p) do if v ~= 0 then return false end end
  return true
end

return function(nn)
  local class, configure, uniform, arguments = nn._class, nn._configure, nn.uniform_init, nn._arguments

  -- Conv2d, ConvTranspose2d, Conv1d and ConvTranspose1d share everything
  -- but the weight's orientation, the output_padding, the sizes' form
  -- ({h, w} pairs or {n}) and the op
  local function conv_layer(name, transposed, dims)
    local size = dims == 1 and single or pair
    local cls = class(name, nn.Module)
    nn[name] = cls
    local names = { "in_channels", "out_channels", "kernel_size", "stride", "padding", "bias" }
    if transposed then
      table.insert(names, 6, "output_padding")
    end

    function cls:init(...)
      local a = arguments(name, names, table.pack(...), 2)
      local cfg = {
        in_channels = count(name, "in_channels", a.in_channels),
        out_channels = count(name, "out_channels", a.out_channels),
        kernel_size = size(name, "kernel_size", a.kernel_size, 1),
        stride = size(name, "stride", a.stride or 1, 1),
        padding = size(name, "padding", a.padding or 0, 0),
        bias = a.bias ~= false,
      }
      if transposed then
        local op = size(name, "output_padding", a.output_padding or 0, 0)
        for i = 1, dims do
          if op[i] >= cfg.stride[i] then
            reject(name, "output_padding %s must be smaller than the stride %s", shown(op),
              shown(cfg.stride))
          end
        end
        cfg.output_padding = op
      end
      if a.bias ~= nil and type(a.bias) ~= "boolean" then
        reject(name, "bias must be true or false, got %s", require("aerun.guard").value(a.bias))
      end
      configure(self, names, cfg)
      -- kaiming_uniform(a = √5), as PyTorch does, is U(±1/√fan_in) where
      -- fan_in counts the weight's second dimension times the kernel: the
      -- input channels for Conv2d, the output channels for ConvTranspose2d
      local k = cfg.kernel_size
      local first, second = cfg.out_channels, cfg.in_channels
      if transposed then first, second = second, first end
      local fan_in = second
      for _, v in ipairs(k) do fan_in = fan_in * v end
      local bound = 1 / math.sqrt(fan_in)
      self.weight = uniform(bound, first, second, table.unpack(k))
      if cfg.bias then self.bias = uniform(bound, cfg.out_channels) end
    end

    function cls:extra_repr()
      local c = self._config
      local s = string.format("%d, %d, kernel_size=%s, stride=%s", c.in_channels, c.out_channels,
        shown(c.kernel_size), shown(c.stride))
      if not is_zero(c.padding) then s = s .. ", padding=" .. shown(c.padding) end
      if transposed and not is_zero(c.output_padding) then
        s = s .. ", output_padding=" .. shown(c.output_padding)
      end
      if not c.bias then s = s .. ", bias=false" end
      return s
    end

    -- nn.build's constructor from the architecture's config (JSON gives
    -- the pairs back as arrays)
    cls.from_config = function(c)
      return cls(c.in_channels, c.out_channels, c.kernel_size, { stride = c.stride, padding = c.padding,
        output_padding = transposed and c.output_padding or nil, bias = c.bias })
    end

    -- forward_relu(x) is relu(forward(x)) as one op, the ReLU fused into
    -- the pass that writes the output (nn.Sequential uses it)
    if transposed then
      local op = dims == 1 and core.conv_transpose1d or core.conv_transpose2d
      function cls:forward(x)
        local c = self._config
        return op(x, self.weight, self.bias, c.stride, c.padding, c.output_padding)
      end
      function cls:forward_relu(x)
        local c = self._config
        return op(x, self.weight, self.bias, c.stride, c.padding, c.output_padding, true)
      end
    else
      local op = dims == 1 and core.conv1d or core.conv2d
      function cls:forward(x)
        local c = self._config
        return op(x, self.weight, self.bias, c.stride, c.padding)
      end
      function cls:forward_relu(x)
        local c = self._config
        return op(x, self.weight, self.bias, c.stride, c.padding, true)
      end
    end
  end

  conv_layer("Conv2d", false, 2)
  conv_layer("ConvTranspose2d", true, 2)
  conv_layer("Conv1d", false, 1)
  conv_layer("ConvTranspose1d", true, 1)

  local MaxPool2d = class("MaxPool2d", nn.Module)
  nn.MaxPool2d = MaxPool2d

  function MaxPool2d:init(...)
    local a = arguments("MaxPool2d", { "kernel_size", "stride", "padding" }, table.pack(...), 2)
    local k = pair("MaxPool2d", "kernel_size", a.kernel_size, 1)
    local cfg = {
      kernel_size = k,
      stride = a.stride and pair("MaxPool2d", "stride", a.stride, 1) or { k[1], k[2] },
      padding = pair("MaxPool2d", "padding", a.padding or 0, 0),
    }
    for i = 1, 2 do
      if 2 * cfg.padding[i] > k[i] then
        reject("MaxPool2d", "padding %s must be at most half the kernel_size %s", shown(cfg.padding),
          shown(k))
      end
    end
    configure(self, { "kernel_size", "stride", "padding" }, cfg)
  end

  -- PyTorch prints the sizes as they were given: 2 when square, (2, 3) otherwise
  local function size(p) return p[1] == p[2] and tostring(p[1]) or shown(p) end

  function MaxPool2d:extra_repr()
    local c = self._config
    return string.format("kernel_size=%s, stride=%s, padding=%s, dilation=1, ceil_mode=false",
      size(c.kernel_size), size(c.stride), size(c.padding))
  end

  function MaxPool2d:forward(x)
    local c = self._config
    return core.max_pool2d(x, c.kernel_size, c.stride, c.padding)
  end

  MaxPool2d.from_config = function(c)
    return MaxPool2d(c.kernel_size, { stride = c.stride, padding = c.padding })
  end

  local Upsample = class("Upsample", nn.Module)
  nn.Upsample = Upsample

  function Upsample:init(opts)
    if type(opts) == "number" then opts = { scale_factor = opts } end
    if type(opts) ~= "table" or rawget(opts, "__module") then
      reject("Upsample", "expects {scale_factor = n, mode = \"nearest\"}, got %s", require("aerun.guard").value(opts))
    end
    for k in pairs(opts) do
      if k ~= "scale_factor" and k ~= "mode" then
        reject("Upsample", "unknown option '%s' (only scale_factor and mode are supported)", tostring(k))
      end
    end
    local mode = opts.mode or "nearest"
    if mode ~= "nearest" then reject("Upsample", "mode '%s' is not supported, only \"nearest\"", tostring(mode)) end
    if opts.scale_factor == nil then reject("Upsample", "scale_factor is required") end
    local s = pair("Upsample", "scale_factor", opts.scale_factor, 1)
    configure(self, { "scale_factor", "mode" },
      { scale_factor = s[1] == s[2] and s[1] or s, mode = mode })
  end

  function Upsample:extra_repr()
    local s = self._config.scale_factor
    local shown_s = type(s) == "number" and string.format("%.1f", s)
      or string.format("(%.1f, %.1f)", s[1], s[2])
    return "scale_factor=" .. shown_s .. ", mode=" .. self._config.mode
  end

  function Upsample:forward(x)
    return core.upsample_nearest(x, self._config.scale_factor)
  end

  Upsample.from_config = function(c) return Upsample { scale_factor = c.scale_factor, mode = c.mode } end
end
