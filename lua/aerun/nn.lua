-- aerun.nn: modules in PyTorch's shape (ae.nn).
--
-- A module is a table whose metatable is its class.  Assigning a module or
-- a parameter (a leaf tensor that requires grad) to a new field registers it
-- under that name, in order, which is how module paths such as
-- "encoder/0/weight" come about.  Every module keeps its type name and the
-- constructor's arguments (_config) so that a model can be described as
-- JSON and rebuilt without the script that made it.
local core = require "aerun.core"
local guard = require "aerun.guard"

local nn = {}

local tensor_mt = debug.getregistry()["aerun.Tensor"]
local function is_tensor(v) return getmetatable(v) == tensor_mt end

local function is_module(v)
  local mt = type(v) == "table" and getmetatable(v)
  return mt and rawget(mt, "__module") == true or false
end
nn.is_module = is_module

local Module = {}
nn.Module = Module

-- field assignment: remember modules and parameters by name, in order
local function register(self, k, v)
  if type(k) == "string" and k:sub(1, 1) ~= "_" then
    if is_module(v) then
      local c = rawget(self, "_children")
      c[#c + 1] = k
    elseif is_tensor(v) and v.requires_grad and v.is_leaf then
      local p = rawget(self, "_params")
      p[#p + 1] = k
    end
  end
  rawset(self, k, v)
end

-- a class: its own metatable for instances (metamethods are not inherited)
local function class(name, parent)
  local cls = {}
  cls.__name = name
  cls.__module = true
  cls.__index = cls
  cls.__newindex = register
  cls.__call = function(self, ...) return self:forward(...) end
  cls.__tostring = function(self) return self:repr() end
  return setmetatable(cls, {
    __index = parent,
    __call = function(c, ...) return c:new(...) end,
  })
end

-- user modules: local VAE = nn.Module:extend("VAE"); function VAE:init(...) end
function Module:extend(name)
  if type(name) ~= "string" then error("Module:extend: expects a class name") end
  return class(name, self)
end

function Module:new(...)
  local self = setmetatable({
    _type = self.__name, _params = {}, _buffers = {}, _children = {}, training = true,
  }, self)
  if self.init then self:init(...) end
  return self
end

function Module:init() end

function Module:forward()
  error(self._type .. ": forward is not defined")
end

-- self[name] = t, with name added once to the list self[field]
local function enlist(self, field, name, t)
  rawset(self, name, t)
  local list = self[field]
  for _, n in ipairs(list) do if n == name then return t end end
  list[#list + 1] = name
  return t
end

function Module:register_parameter(name, t)
  if not is_tensor(t) then error("register_parameter: tensor expected for " .. tostring(name)) end
  t:requires_grad_(true)
  return enlist(self, "_params", name, t)
end

-- state that is saved but not trained (BatchNorm's running statistics)
function Module:register_buffer(name, t) return enlist(self, "_buffers", name, t) end

local function walk(self, prefix, visit)
  visit(self, prefix)
  for _, name in ipairs(self._children) do
    walk(self[name], prefix .. name .. "/", visit)
  end
end

-- array of {path, module}, the root first with path ""
function Module:named_modules()
  local out = {}
  walk(self, "", function(m, prefix)
    out[#out + 1] = { prefix:sub(1, -2), m }
  end)
  return out
end

local function named(self, field)
  local names, values = {}, {}
  walk(self, "", function(m, prefix)
    for _, n in ipairs(m[field]) do
      names[#names + 1] = prefix .. n
      values[#values + 1] = m[n]
    end
  end)
  return names, values
end

-- an iterator over named(self, field): path, tensor
local function iterate(self, field)
  local names, values = named(self, field)
  local i = 0
  return function()
    i = i + 1
    if names[i] then return names[i], values[i] end
  end
end

-- for path, p in model:named_parameters() do ... end   (paths like "0/weight")
function Module:named_parameters() return iterate(self, "_params") end

function Module:parameters()
  local _, values = named(self, "_params")
  return values
end

function Module:named_buffers() return iterate(self, "_buffers") end

-- PyTorch's state_dict keys: the module path joined with "."
function Module:state_dict()
  local sd = {}
  for field in pairs { _params = true, _buffers = true } do
    local names, values = named(self, field)
    for i, n in ipairs(names) do sd[n:gsub("/", ".")] = values[i] end
  end
  return sd
end

function Module:children()
  local out = {}
  for i, name in ipairs(self._children) do out[i] = self[name] end
  return out
end

function Module:train(mode)
  if mode == nil then mode = true end
  walk(self, "", function(m) rawset(m, "training", mode) end)
  return self
end

function Module:eval() return self:train(false) end

function Module:zero_grad()
  for _, p in ipairs(self:parameters()) do p.grad = nil end
end

function Module:num_parameters()
  local n = 0
  for _, p in ipairs(self:parameters()) do n = n + p:numel() end
  return n
end

-- "Linear(in_features=784, out_features=400, bias=true)", nested as PyTorch prints
function Module:extra_repr()
  local cfg, keys = self._config or {}, self._config_keys or {}
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. tostring(cfg[k]) end
  return table.concat(parts, ", ")
end

function Module:repr(indent)
  indent = indent or ""
  if #self._children == 0 then return self._type .. "(" .. self:extra_repr() .. ")" end
  local lines = { self._type .. "(" }
  for _, name in ipairs(self._children) do
    lines[#lines + 1] = indent .. "  (" .. name .. "): " .. self[name]:repr(indent .. "  ")
  end
  lines[#lines + 1] = indent .. ")"
  return table.concat(lines, "\n")
end

-- built-in modules record their constructor arguments by name
local function configure(self, keys, values)
  rawset(self, "_config_keys", keys)
  rawset(self, "_config", values)
end

local function check_count(fname, v, name)
  if math.type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) then
    error(string.format("%s: %s must be an integer, got %s", fname, name, tostring(v)))
  end
  if v < 1 then error(string.format("%s: %s must be at least 1, got %s", fname, name, tostring(v))) end
  return math.tointeger(v)
end

-- U(-bound, bound), PyTorch's default for Linear and Conv weights and biases
local function uniform(bound, ...)
  return (core.rand(...) * (2 * bound) + (-bound)):requires_grad_(true)
end
nn.uniform_init = uniform

local Linear = class("Linear", Module)
nn.Linear = Linear

function Linear:init(in_features, out_features, opts)
  local bias = true
  if type(opts) == "table" then bias = opts.bias ~= false elseif opts == false then bias = false end
  in_features = check_count("Linear", in_features, "in_features")
  out_features = check_count("Linear", out_features, "out_features")
  configure(self, { "in_features", "out_features", "bias" },
    { in_features = in_features, out_features = out_features, bias = bias })
  -- kaiming_uniform(a = √5) as in PyTorch reduces to 1/√fan_in
  local bound = 1 / math.sqrt(in_features)
  self.weight = uniform(bound, out_features, in_features)
  if bias then self.bias = uniform(bound, out_features) end
end

function Linear:forward(x)
  return core.linear(x, self.weight, self.bias)
end

-- modules that apply one tensor method, with optional named arguments
local function activation(name, method, keys, defaults)
  local cls = class(name, Module)
  nn[name] = cls
  function cls:init(...)
    local values, args = {}, { ... }
    for i, k in ipairs(keys or {}) do
      local v = args[i]
      if v == nil then v = defaults[k] end
      if type(v) ~= "number" then
        error(string.format("%s: %s must be a number, got %s", name, k, type(v)))
      end
      values[k] = v
    end
    configure(self, keys or {}, values)
  end
  function cls:forward(x)
    local cfg = self._config
    if not keys then return x[method](x) end
    local a = {}
    for i, k in ipairs(keys) do a[i] = cfg[k] end
    return x[method](x, table.unpack(a, 1, #keys))
  end
  return cls
end

activation("ReLU", "relu")
activation("Sigmoid", "sigmoid")
activation("Tanh", "tanh")
activation("LeakyReLU", "leaky_relu", { "negative_slope" }, { negative_slope = 0.01 })
activation("ELU", "elu", { "alpha" }, { alpha = 1.0 })
activation("Softplus", "softplus", { "beta", "threshold" }, { beta = 1.0, threshold = 20.0 })

local Identity = class("Identity", Module)
nn.Identity = Identity
function Identity:forward(x) return x end

-- Flatten keeps the batch dimension and flattens the rest
local Flatten = class("Flatten", Module)
nn.Flatten = Flatten
function Flatten:forward(x) return x:reshape(x:size(1), -1) end

-- Reshape(1, 28, 28): each sample to the given shape, the batch kept
local Reshape = class("Reshape", Module)
nn.Reshape = Reshape
function Reshape:init(...)
  local shape = { ... }
  if type(shape[1]) == "table" then shape = shape[1] end
  if #shape == 0 then error("Reshape: expects the shape of one sample") end
  for i, s in ipairs(shape) do
    if math.type(s) ~= "integer" and s ~= -1 then
      error("Reshape: size " .. i .. " must be an integer, got " .. tostring(s))
    end
  end
  configure(self, { "shape" }, { shape = shape })
end
function Reshape.extra_repr(self) return "shape={" .. table.concat(self._config.shape, ", ") .. "}" end
function Reshape:forward(x)
  return x:reshape(x:size(1), table.unpack(self._config.shape))
end

-- Sequential{ m1, m2, ... }: children named "0", "1", ... as in PyTorch;
-- seq[1] is the first module (Lua counts from 1, the names from 0)
local Sequential = class("Sequential", Module)
nn.Sequential = Sequential
Sequential.__index = function(self, k)
  if type(k) == "number" then return rawget(self, tostring(k - 1)) end
  return Sequential[k]
end
Sequential.__len = function(self) return #self._children end

function Sequential:init(modules, ...)
  if is_module(modules) then modules = { modules, ... } end
  if type(modules) ~= "table" then error("Sequential: expects a list of modules") end
  for i, m in ipairs(modules) do self:add(m, i) end
  configure(self, {}, {})
end

function Sequential:add(m, i)
  if not is_module(m) then
    error(string.format("Sequential: element %d is %s, not a module", i or #self._children + 1,
      type(m)))
  end
  self[tostring(#self._children)] = m
  return self
end
-- Sequential's own __index hides it from guard.module as a class; add is
-- the method a script calls that raises errors of its own (forward passes
-- on its layers' errors, which their own boundaries placed)
Sequential.add = guard.wrap("Sequential", Sequential.add)

-- A convolution followed by a plain nn.ReLU runs as one op, the ReLU
-- fused into the pass that writes the layer's output (a pass over the
-- activations fewer each way; the same numbers).  Only the library's own
-- classes, with neither forward replaced.
local function fuses_relu(m, after)
  local mt = getmetatable(m)
  return after ~= nil and (mt == nn.Conv2d or mt == nn.ConvTranspose2d) and getmetatable(after) == nn.ReLU
    and rawget(m, "forward") == nil and rawget(m, "forward_relu") == nil and rawget(after, "forward") == nil
end

function Sequential:forward(x)
  local children, i = self._children, 1
  while i <= #children do
    local name = children[i]
    local m, after = self[name], children[i + 1] and self[children[i + 1]]
    local fused = fuses_relu(m, after)
    local ok, y
    if fused then
      ok, y = pcall(m.forward_relu, m, x)
    else
      ok, y = pcall(m, x)
    end
    if not ok then
      -- name the failing layer, as Torch7 did, keeping the inner message
      error(string.format("%s (%s): %s", name, m._type, tostring(guard.strip(y))), 0)
    end
    x = y
    i = i + (fused and 2 or 1)
  end
  return x
end

-- AutoEncoder(encoder, decoder): the pair, with encode and decode, and
-- paths "encoder/..." and "decoder/..." for its parameters
local AutoEncoder = class("AutoEncoder", Module)
nn.AutoEncoder = AutoEncoder

function AutoEncoder:init(encoder, decoder)
  if not is_module(encoder) or not is_module(decoder) then
    error("AutoEncoder: expects an encoder and a decoder module")
  end
  self.encoder = encoder
  self.decoder = decoder
  configure(self, {}, {})
end

function AutoEncoder:encode(x) return self.encoder(x) end
function AutoEncoder:decode(z) return self.decoder(z) end
function AutoEncoder:forward(x) return self.decoder(self.encoder(x)) end

-- VAE(encoder, mu, logvar, decoder): x → encoder → h; mu(h), logvar(h);
-- z = mu + e^(logvar/2)·ε; decoder(z).  forward returns the
-- reconstruction, mu and logvar, and always samples, as PyTorch's VAE
-- example does (its test loss is measured that way).
local VAE = class("VAE", Module)
nn.VAE = VAE

function VAE:init(encoder, mu, logvar, decoder)
  for i, m in ipairs { encoder, mu, logvar, decoder } do
    if not is_module(m) then error("VAE: argument " .. i .. " must be a module") end
  end
  self.encoder, self.mu, self.logvar, self.decoder = encoder, mu, logvar, decoder
  configure(self, {}, {})
end

function VAE:encode(x)
  local h = self.encoder(x)
  return self.mu(h), self.logvar(h)
end

function VAE:decode(z) return self.decoder(z) end

function VAE:forward(x)
  local mu, logvar = self:encode(x)
  return self.decoder(core.reparameterize(mu, logvar)), mu, logvar
end

-- n samples from the prior N(0, I) through the decoder
function VAE:sample(n)
  local d = self.mu._config and self.mu._config.out_features
  if not d then error("VAE:sample: the mu layer must be a Linear to know the latent size") end
  return self.decoder(core.randn(n, d))
end

VAE.from_config = function(_, children)
  local by = {}
  for _, c in ipairs(children) do by[c.name] = c.module end
  return VAE(by.encoder, by.mu, by.logvar, by.decoder)
end

-- nn.mlp({784, 128, 64}, {activation = nn.ReLU, last = nn.Sigmoid}): Linear
-- layers between consecutive sizes, the activation after each, and `last`
-- (default: the activation; false for none) after the final one
function nn.mlp(sizes, opts)
  opts = opts or {}
  if type(sizes) ~= "table" or #sizes < 2 then error("mlp: expects at least two layer sizes") end
  local act = opts.activation or nn.ReLU
  local last = opts.last
  if last == nil then last = act end
  local layers = {}
  for i = 1, #sizes - 1 do
    layers[#layers + 1] = nn.Linear(sizes[i], sizes[i + 1])
    local a = i < #sizes - 1 and act or last
    if a then layers[#layers + 1] = a() end
  end
  return nn.Sequential(layers)
end

-- a tensor that should be trained, as nn.Parameter in PyTorch
function nn.Parameter(t)
  return t:requires_grad_(true)
end

-- The architecture as plain data (for JSON): every module's type, its
-- constructor arguments by name, and its children in order.
function Module:architecture()
  local children = {}
  for i, name in ipairs(self._children) do
    children[i] = { name = name, module = self[name]:architecture() }
  end
  local config = {}
  for k, v in pairs(self._config or {}) do config[k] = v end
  return { type = self._type, config = config, config_keys = self._config_keys or {},
    children = children }
end

-- a stand-in for a module type defined in a script: it holds the children
-- and parameters so weights load, but its forward lives in that script
local Container = class("Container", Module)
nn.Container = Container
function Container:forward()
  error(string.format("%s: this module was rebuilt from a checkpoint without the script that "
    .. "defines its forward; call its children, or register the class with nn.register", self._type))
end

local registered = {}

-- lets nn.build rebuild a user-defined class: Cls.from_config(config, children)
-- must return an instance (children: array of {name =, module =}).  Every
-- built-in class defines from_config the same way.
function nn.register(cls)
  registered[cls.__name] = cls
  return cls
end

-- rebuilds a module from Module:architecture()'s data; built-in types are
-- constructed from their arguments, unknown ones become Containers
function nn.build(arch)
  if type(arch) ~= "table" or type(arch.type) ~= "string" then
    error("nn.build: an architecture needs a type")
  end
  local children = {}
  for i, c in ipairs(arch.children or {}) do
    if type(c) ~= "table" or type(c.name) ~= "string" or type(c.module) ~= "table" then
      error(string.format("nn.build: child %d of %s needs a name and a module", i, arch.type))
    end
    children[i] = { name = c.name, module = nn.build(c.module) }
  end
  local cls = registered[arch.type] or nn[arch.type]
  if type(cls) == "table" and rawget(cls, "__module") and rawget(cls, "from_config") then
    return cls.from_config(arch.config or {}, children)
  end
  local m = Container:new()
  rawset(m, "_type", arch.type)
  for _, c in ipairs(children) do m[c.name] = c.module end
  return m
end

Linear.from_config = function(c)
  return Linear(c.in_features, c.out_features, { bias = c.bias })
end
for _, name in ipairs { "ReLU", "Sigmoid", "Tanh", "Identity", "Flatten" } do
  nn[name].from_config = function() return nn[name]() end
end
nn.LeakyReLU.from_config = function(c) return nn.LeakyReLU(c.negative_slope) end
nn.ELU.from_config = function(c) return nn.ELU(c.alpha) end
nn.Softplus.from_config = function(c) return nn.Softplus(c.beta, c.threshold) end
Reshape.from_config = function(c) return Reshape(table.unpack(c.shape)) end
Sequential.from_config = function(_, children)
  local list = {}
  for i, c in ipairs(children) do list[i] = c.module end
  return Sequential(list)
end
AutoEncoder.from_config = function(_, children)
  local by = {}
  for _, c in ipairs(children) do by[c.name] = c.module end
  return AutoEncoder(by.encoder, by.decoder)
end

-- what the module files that add layers (nn_conv, nn_norm) build on
nn._class = class
nn._configure = configure
nn._check_count = check_count
nn.Module = Module

require "aerun.nn_conv" (nn)
require "aerun.nn_norm" (nn)

return guard.module("ae.nn", nn)
