-- aerun.nn: modules in PyTorch's shape (ae.nn).
--
-- A module is a table whose metatable is its class.  Assigning a module or
-- a parameter (a leaf tensor that requires grad) to a new field registers it
-- under that name, in order, which is how module paths such as
-- "encoder/0/weight" come about.  Every module keeps its type name and the
-- constructor's arguments so that a model can be described as JSON
-- (Module:architecture, saved under /model in a checkpoint) and rebuilt:
-- built-in classes by PyTorch's argument names (_config), classes defined
-- in a script as the arguments they were called with (_args).
--
-- A script's class survives a checkpoint like this (docs/modules.md):
--
--   local BetaVAE = nn.VAE:extend("BetaVAE")
--   function BetaVAE:init(latent, beta) ... end
--   nn.register(BetaVAE)          -- before ae.checkpoint.model rebuilds one
--
-- The arguments are recorded when the module is made; those that can be
-- are numbers, strings, booleans, nil, tables of these, modules (recorded
-- as their own architecture, rebuilt first) and module classes (by name).
-- Anything else (a tensor, a function) is an error when the model is
-- saved, naming the class and the argument.  nn.build calls the registered
-- class with the recorded arguments; the weights are then loaded strictly.
-- A class may define Cls.from_config(config, children) to rebuild itself
-- instead.

--- Modules in PyTorch's shape: `local nn = ae.nn`.
--
-- A module is called as a function (`model(x)`), registers the modules and
-- parameters assigned to its fields (paths such as `encoder/0/weight`, the
-- PyTorch state_dict keys joined with `/`), and prints like PyTorch.  Every
-- class is called to make an instance: `nn.Linear(784, 128)`; passing the
-- class itself where an instance is expected is an error.
-- See docs/modules.md.
-- @module aerun.nn

--- A fully connected layer y = x·Wᵀ + b, with PyTorch's initialisation.
-- @param in_features an integer ≥ 1
-- @param out_features an integer ≥ 1
-- @param[opt] opts `{bias = false}` (or `false`) for no bias
-- @return a module; parameters `weight` (out×in) and `bias` (out)
-- @raise when a size is not a positive integer
-- @usage local fc = nn.Linear(4, 2); assert(fc(ae.rand(3, 4)):size(2) == 2 and fc:num_parameters() == 10)
-- @function Linear

--- max(x, 0) as a module.
-- @return a module
-- @usage assert(nn.ReLU()(ae.tensor { -1 }):item() == 0)
-- @function ReLU

--- The logistic sigmoid as a module.
-- @return a module
-- @usage assert(nn.Sigmoid()(ae.zeros(1)):item() == 0.5)
-- @function Sigmoid

--- tanh as a module.
-- @return a module
-- @usage assert(nn.Tanh()(ae.zeros(1)):item() == 0)
-- @function Tanh

--- Leaky ReLU as a module.
-- @param[opt=0.01] negative_slope a number
-- @return a module
-- @raise when the slope is not a number
-- @usage assert(nn.LeakyReLU(0.5)(ae.tensor { -2 }):item() == -1)
-- @function LeakyReLU

--- ELU as a module.
-- @param[opt=1] alpha a number
-- @return a module
-- @usage assert(nn.ELU()(ae.tensor { 2 }):item() == 2)
-- @function ELU

--- Softplus as a module.
-- @param[opt=1] beta a number
-- @param[opt=20] threshold a number
-- @return a module
-- @usage assert(nn.Softplus()(ae.tensor { 30 }):item() == 30)
-- @function Softplus

--- Passes its input through.
-- @return a module
-- @usage assert(nn.Identity()(ae.ones(2)):sum():item() == 2)
-- @function Identity

--- Flattens every sample, keeping the batch dimension: N×... → N×D.
-- @return a module
-- @usage assert(nn.Flatten()(ae.zeros(2, 3, 4)):size(2) == 12)
-- @function Flatten

--- Reshapes every sample, keeping the batch dimension.
-- @param ... the sample's shape (integers, one may be -1), or one table
-- @return a module
-- @raise when no size is given or a size is not an integer
-- @usage assert(nn.Reshape(1, 28, 28)(ae.zeros(2, 784)):dim() == 4)
-- @function Reshape

--- Modules applied in order; children named `0`, `1`, … as in PyTorch,
-- `seq[1]` is the first and `#seq` their count.
-- @param modules a list of module instances (or the modules as arguments)
-- @return a module
-- @raise when an element is not a module; an error inside a layer names the layer
-- @usage local seq = nn.Sequential { nn.Linear(4, 3), nn.ReLU() }; assert(#seq == 2 and seq(ae.rand(2, 4)):size(2) == 3)
-- @function Sequential

--- An encoder and a decoder; parameters under `encoder/` and `decoder/`.
-- @param encoder a module
-- @param decoder a module
-- @return a module with `encode` and `decode`
-- @raise when either is not a module
-- @usage local m = nn.AutoEncoder(nn.Linear(4, 2), nn.Linear(2, 4)); assert(m(ae.rand(3, 4)):size(2) == 4)
-- @function AutoEncoder

--- A variational autoencoder: x → encoder → h; mu(h), logvar(h);
-- z = mu + e^(logvar/2)·ε; decoder(z).  Calling it returns the
-- reconstruction, mu and logvar (it always samples, as PyTorch's example).
-- @param encoder a module
-- @param mu a module (a Linear, for `sample`)
-- @param logvar a module
-- @param decoder a module
-- @return a module with `encode`, `decode` and `sample`
-- @raise when an argument is not a module
-- @usage local v = nn.VAE(nn.Linear(4, 3), nn.Linear(3, 2), nn.Linear(3, 2), nn.Linear(2, 4))
-- local xhat, mu, logvar = v(ae.rand(5, 4)); assert(xhat:size(2) == 4 and mu:size(2) == 2)
-- @function VAE

--- Linear layers between consecutive sizes with an activation after each.
-- @param sizes a list of at least two sizes
-- @param[opt] opts `activation` (a class, default `nn.ReLU`), `last` (the
-- class after the final layer; default the activation, `false` for none)
-- @return an nn.Sequential
-- @raise when fewer than two sizes are given
-- @usage local m = nn.mlp({ 784, 128, 32 }, { last = false }); assert(#m == 3)
-- @function mlp

--- Marks a tensor as a trainable parameter (requires_grad), as `nn.Parameter`.
-- @param t a tensor
-- @return t
-- @usage assert(nn.Parameter(ae.zeros(3)).requires_grad)
-- @function Parameter

--- Whether v is a module instance.
-- @param v any value
-- @return a boolean
-- @usage assert(nn.is_module(nn.ReLU()) and not nn.is_module(nn.ReLU))
-- @function is_module

--- U(-bound, bound) values that require grad: PyTorch's default initialisation.
-- @param bound a number
-- @param ... the sizes
-- @return a tensor
-- @usage local w = nn.uniform_init(0.1, 3, 4); assert(w.requires_grad and w:max() <= 0.1)
-- @function uniform_init

--- The name of the built-in class a module's class derives from.
-- @param m a module
-- @return a class name ("VAE", "Module", ...)
-- @usage local My = nn.AutoEncoder:extend("My"); assert(nn.base(My(nn.Identity(), nn.Identity())) == "AutoEncoder")
-- @function base

--- Lets `nn.build` (and so `ae.checkpoint.model`) rebuild modules of a class
-- made with `Module:extend`, by calling it with the recorded arguments.
-- @param cls a class
-- @return cls
-- @raise when cls is not a module class
-- @usage local Net = nn.Module:extend("Net"); nn.register(Net)
-- @function register

--- The module an architecture (from `Module:architecture()`) describes, with fresh weights.
-- @param arch an architecture table
-- @param[opt] opts `as_base = true` (a script's class that replaces no
-- forward/encode/decode becomes its built-in base), `unknown = "container"`
-- (other unknown types become Containers)
-- @return a module
-- @raise on an unknown type, saying what to register
-- @usage local m = nn.build(nn.mlp({ 4, 2 }):architecture()); assert(m(ae.rand(1, 4)):size(2) == 2)
-- @function build

--- The types in an architecture that `nn.build` with the same opts cannot make.
-- @param arch an architecture table
-- @param[opt] opts as `build`
-- @return a list of `{type =, path =, script =, base =}`
-- @usage assert(#nn.unbuildable(nn.ReLU():architecture()) == 0)
-- @function unbuildable

--- A stand-in for a module type defined in a script: it holds the children
-- and parameters so that weights load, but has no forward.
-- @return a module
-- @raise when called (it cannot compute)
-- @usage local c = nn.Container(); assert(not pcall(c, ae.ones(1)))
-- @function Container

--- The base of every module.
-- @type Module

--- A subclass: `local Enc = nn.Module:extend("Enc")`; define `init` and `forward`.
-- @param name the class name
-- @return a class (call it to make a module)
-- @raise when name is not a string
-- @usage local Enc = nn.Module:extend("Enc")
-- function Enc:init(d) self.fc = nn.Linear(4, d) end
-- function Enc:forward(x) return self.fc(x):relu() end
-- assert(Enc(2)(ae.rand(3, 4)):size(2) == 2)
-- @function Module:extend

--- Makes an instance (what calling the class does): records the
-- arguments, then calls `init`.
-- @param ... the constructor's arguments
-- @return a module
-- @usage assert(nn.is_module(nn.ReLU:new()))
-- @function Module:new

--- The constructor hook a class defines; assigned modules and parameters register themselves.
-- @param ... the constructor's arguments
-- @usage local M = nn.Module:extend("M"); function M:init(n) self.w = nn.Parameter(ae.zeros(n)) end; assert(M(3):num_parameters() == 3)
-- @function Module:init

--- What calling the module computes; every class defines it.
-- @param ... inputs
-- @return outputs
-- @raise on Module itself ("forward is not defined")
-- @usage assert(nn.Linear(2, 1):forward(ae.ones(1, 2)):numel() == 1)
-- @function Module:forward

--- A class hook: `Cls.from_config(config, children)` rebuilds a module from
-- its architecture (built-in classes define it; a script's class may).
-- @param config the recorded config
-- @param children a list of `{name =, module =}`
-- @return a module
-- @usage assert(nn.Linear.from_config({ in_features = 2, out_features = 3 }):num_parameters() == 9)
-- @function Module:from_config

--- The parameters in registration order.
-- @return a list of tensors
-- @usage assert(#nn.Linear(2, 3):parameters() == 2)
-- @function Module:parameters

--- `for path, p in m:named_parameters()`: paths such as `encoder/0/weight`.
-- @return an iterator of path, tensor
-- @usage for path in nn.Linear(2, 3):named_parameters() do assert(path == "weight" or path == "bias") end
-- @function Module:named_parameters

--- `for path, b in m:named_buffers()`: non-trained state (BatchNorm's running statistics).
-- @return an iterator of path, tensor
-- @usage local n = 0; for _ in nn.BatchNorm1d(3):named_buffers() do n = n + 1 end; assert(n == 2)
-- @function Module:named_buffers

--- The module and its descendants, as `{path, module}` pairs (the module itself first, path "").
-- @return a list of `{path, module}`
-- @usage local all = nn.mlp({ 2, 3, 1 }):named_modules(); assert(all[1][1] == "" and all[2][1] == "0")
-- @function Module:named_modules

--- The direct children, in order.
-- @return a list of modules
-- @usage assert(#nn.Sequential { nn.ReLU(), nn.Tanh() }:children() == 2)
-- @function Module:children

--- Parameters and buffers by path.
-- @return a table path → tensor
-- @usage assert(nn.Linear(2, 3):state_dict().weight:size(1) == 3)
-- @function Module:state_dict

--- Registers a parameter under a name (what assigning one does).
-- @param name
-- @param t a tensor
-- @return t
-- @usage local m = nn.Identity(); m:register_parameter("w", ae.zeros(2):requires_grad_()); assert(m:num_parameters() == 2)
-- @function Module:register_parameter

--- Registers a buffer (saved, not trained) under a name.
-- @param name
-- @param t a tensor
-- @return t
-- @usage local m = nn.Identity(); m:register_buffer("stat", ae.zeros(2)); assert(m:state_dict().stat)
-- @function Module:register_buffer

--- The number of trainable values.
-- @return an integer
-- @usage assert(nn.Linear(784, 128):num_parameters() == 100480)
-- @function Module:num_parameters

--- Training mode (Dropout drops, BatchNorm uses batch statistics), for the module and its children.
-- @param[opt=true] mode
-- @return the module
-- @usage assert(nn.Dropout():train().training)
-- @function Module:train

--- Evaluation mode: `train(false)`.
-- @return the module
-- @usage assert(not nn.Dropout():eval().training)
-- @function Module:eval

--- Clears the gradients of every parameter.
-- @usage local m = nn.Linear(2, 1); m(ae.ones(1, 2)):sum():backward(); m:zero_grad(); assert(m.weight.grad == nil)
-- @function Module:zero_grad

--- The architecture as a table (saved as JSON under `/model` in a checkpoint).
-- @return `{type =, config =, children = {...}}`
-- @raise when a constructor argument of a script's class cannot be recorded
-- @usage assert(nn.Linear(2, 3):architecture().type == "Linear")
-- @function Module:architecture

--- The text inside the class name's brackets when printed, as PyTorch's.
-- @return a string
-- @usage assert(nn.Linear(2, 3):extra_repr():find("in_features=2"))
-- @function Module:extra_repr

--- The module as PyTorch prints it (what `tostring` gives).
-- @param[opt] indent
-- @return a string
-- @usage assert(nn.ReLU():repr() == "ReLU()")
-- @function Module:repr

--- @type AutoEncoder

--- The encoder's output.
-- @param x a batch
-- @return the codes
-- @usage local m = nn.AutoEncoder(nn.Linear(4, 2), nn.Linear(2, 4)); assert(m:encode(ae.rand(3, 4)):size(2) == 2)
-- @function AutoEncoder:encode

--- The decoder's output.
-- @param z codes
-- @return reconstructions
-- @usage local m = nn.AutoEncoder(nn.Linear(4, 2), nn.Linear(2, 4)); assert(m:decode(ae.rand(3, 2)):size(2) == 4)
-- @function AutoEncoder:decode

--- @type VAE

--- mu and logvar of a batch.
-- @param x a batch
-- @return mu
-- @return logvar
-- @usage local v = nn.VAE(nn.Linear(4, 3), nn.Linear(3, 2), nn.Linear(3, 2), nn.Linear(2, 4)); local mu = v:encode(ae.rand(5, 4)); assert(mu:size(2) == 2)
-- @function VAE:encode

--- The decoder's output for latent codes.
-- @param z codes
-- @return reconstructions
-- @usage local v = nn.VAE(nn.Linear(4, 3), nn.Linear(3, 2), nn.Linear(3, 2), nn.Linear(2, 4)); assert(v:decode(ae.rand(5, 2)):size(2) == 4)
-- @function VAE:decode

--- n samples from the prior N(0, I) through the decoder.
-- @param n how many
-- @return a tensor
-- @raise when the mu layer is not a Linear (the latent size is unknown)
-- @usage local v = nn.VAE(nn.Linear(4, 3), nn.Linear(3, 2), nn.Linear(3, 2), nn.Linear(2, 4)); assert(v:sample(6):size(1) == 6)
-- @function VAE:sample

--- @type Sequential

--- Appends a module.
-- @param m a module
-- @return the Sequential
-- @raise when m is not a module
-- @usage local s = nn.Sequential {}; s:add(nn.ReLU()); assert(#s == 1)
-- @function Sequential:add

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

local Module = { __name = "Module" }
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

-- the built-in classes (filled at the end of this file); every other class
-- was made by Module:extend in a script
local builtin = {}

-- plain tables among the arguments are copied as they are when the module
-- is made (a script may change them afterwards); the rest is kept as is
local function snapshot(v, seen)
  if type(v) ~= "table" or getmetatable(v) ~= nil then return v end
  if seen[v] then return seen[v] end
  local copy = {}
  seen[v] = copy
  for k, x in pairs(v) do copy[k] = snapshot(x, seen) end
  return copy
end

function Module:new(...)
  local cls = self
  self = setmetatable({
    _type = cls.__name, _params = {}, _buffers = {}, _children = {}, training = true,
  }, cls)
  if not builtin[cls] then rawset(self, "_args", snapshot(table.pack(...), {})) end
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
    error(string.format("%s: %s must be an integer, got %s", fname, name, guard.value(v)))
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
        error(string.format("%s: %s must be a number, got %s", name, k, guard.value(v)))
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
      error("Reshape: size " .. i .. " must be an integer, got " .. guard.value(s))
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
  if type(modules) ~= "table" or rawget(modules, "__module") then
    error("Sequential: expects a list of modules, got " .. guard.value(modules)
      .. (type(modules) == "table" and " (did you mean nn.Sequential{" .. guard.value(modules):match("%S+$") .. "()}?)" or ""))
  end
  for i, m in ipairs(modules) do self:add(m, i) end
  configure(self, {}, {})
end

function Sequential:add(m, i)
  if not is_module(m) then
    error("Sequential: " .. guard.not_module("element " .. (i or #self._children + 1), m))
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
  local conv = mt == nn.Conv2d or mt == nn.ConvTranspose2d or mt == nn.Conv1d or mt == nn.ConvTranspose1d
  return after ~= nil and conv and getmetatable(after) == nn.ReLU
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
  if not is_module(encoder) then error("AutoEncoder: " .. guard.not_module("the encoder (argument 1)", encoder)) end
  if not is_module(decoder) then error("AutoEncoder: " .. guard.not_module("the decoder (argument 2)", decoder)) end
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
  local args = { encoder, mu, logvar, decoder }
  for i = 1, 4 do
    local m = args[i]
    if not is_module(m) then
      local what = ({ "the encoder", "the mu layer", "the logvar layer", "the decoder" })[i]
      error("VAE: " .. guard.not_module(what .. " (argument " .. i .. ")", m))
    end
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
  for _, k in ipairs { "activation", "last" } do
    local v = rawget(opts, k)
    if is_module(v) then
      error(string.format("mlp: %s is %s; pass its class (%s = nn.%s), which makes one per layer", k,
        guard.value(v), k, v._type))
    end
  end
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

-- the class a module's class derives from: itself when built in, else the
-- nearest built-in ancestor (Module for a class extending nn.Module)
local function parent_of(cls)
  local mt = getmetatable(cls)
  return mt and type(mt.__index) == "table" and mt.__index or nil
end

local function base_of(cls)
  while cls and not builtin[cls] do cls = parent_of(cls) end
  return cls
end

-- nn.base(m): the name of the built-in class m's class derives from
function nn.base(m)
  local b = base_of(getmetatable(m))
  return b and b.__name
end

-- the methods that decide what a module computes, replaced by a script's
-- class (or on the module itself): the converter to PyTorch needs to know
local OVERRIDABLE = { "forward", "encode", "decode" }

local function overrides(m)
  local out, cls = {}, getmetatable(m)
  for _, k in ipairs(OVERRIDABLE) do
    local found = rawget(m, k) ~= nil
    local c = cls
    while not found and c and not builtin[c] do
      found = rawget(c, k) ~= nil
      c = parent_of(c)
    end
    if found then out[#out + 1] = k end
  end
  return out
end

local RECORDABLE = "numbers, strings, booleans, nil, tables of these, modules and module classes"

-- a constructor argument as JSON-ready data: scalars as they are, the rest
-- tagged: {"nil": true}, {"module": architecture}, {"class": name},
-- {"list": [...]} (keys 1..n) or {"table": [[key, value], ...]}
local record

local function refuse(where, what, hint)
  error(string.format("%s is %s, which a checkpoint cannot record (it records %s)%s", where, what, RECORDABLE,
    hint or ""), 0)
end

local function record_table(v, where, depth)
  if depth > 32 then error(where .. " is nested too deeply (a cycle?)", 0) end
  local n, count = #v, 0
  for _ in pairs(v) do count = count + 1 end
  if count == n then
    local list = {}
    for i = 1, n do list[i] = record(v[i], where .. "[" .. i .. "]", depth + 1) end
    return { list = list }
  end
  local keys = {}
  for k in pairs(v) do
    if type(k) ~= "string" and type(k) ~= "number" then
      refuse(where, "a table with a " .. type(k) .. " key")
    end
    keys[#keys + 1] = k
  end
  table.sort(keys, function(a, b)
    if type(a) ~= type(b) then return type(a) == "number" end
    return a < b
  end)
  local pairs_ = {}
  for i, k in ipairs(keys) do
    pairs_[i] = { k, record(v[k], where .. "[" .. string.format("%q", k) .. "]", depth + 1) }
  end
  return { table = pairs_ }
end

function record(v, where, depth)
  local t = type(v)
  if v == nil then return { ["nil"] = true } end
  if t == "number" or t == "string" or t == "boolean" then return v end
  if is_tensor(v) then
    refuse(where, "a tensor", "; pass its sizes instead, and make the tensor a parameter "
      .. "(nn.Parameter) or a buffer (register_buffer) so that it is saved with the weights")
  end
  if t ~= "table" then refuse(where, "a " .. t) end
  if is_module(v) then return { module = v:architecture() } end
  local mt = getmetatable(v)
  if mt == nil then return record_table(v, where, depth) end
  if rawget(v, "__module") == true then return { class = v.__name } end
  refuse(where, "a table with a metatable (an object)")
end

-- The architecture as plain data (for JSON): every module's type, its
-- constructor arguments by name, and its children in order.  A class made
-- in a script adds "base" (the built-in class it derives from), "args"
-- (its constructor's arguments, see record) and "overrides" (which of
-- forward, encode and decode it replaces).
function Module:architecture()
  local children = {}
  for i, name in ipairs(self._children) do
    children[i] = { name = name, module = self[name]:architecture() }
  end
  local config = {}
  for k, v in pairs(self._config or {}) do config[k] = v end
  local arch = { type = self._type, config = config, config_keys = self._config_keys or {},
    children = children }
  local cls = getmetatable(self)
  local saved = rawget(self, "_saved")
  if saved then
    -- a Container keeps what the file said about the class it stands for
    for k, v in pairs(saved) do arch[k] = v end
  elseif not builtin[cls] then
    local args = rawget(self, "_args") or { n = 0 }
    arch.base = base_of(cls).__name
    arch.args = {}
    for i = 1, args.n do
      arch.args[i] = record(args[i], string.format("%s: argument %d of the constructor", self._type, i), 0)
    end
  end
  local o = overrides(self)
  if #o > 0 then arch.overrides = o end
  return arch
end

-- a stand-in for a module type defined in a script: it holds the children
-- and parameters so weights load, but its forward lives in that script
-- (nn.build makes these only when asked: opts.unknown = "container")
local Container = class("Container", Module)
nn.Container = Container
function Container:forward()
  error(string.format("%s: this module was rebuilt from a checkpoint without the script that "
    .. "defines its forward; call its children, or register the class with nn.register", self._type))
end

local registered = {}

-- a class, not an instance: only classes hold __module themselves
local function is_class(v)
  return type(v) == "table" and rawget(v, "__module") == true
end

-- nn.register(Class): lets nn.build (and so ae.checkpoint.model) rebuild
-- modules of a class made with Module:extend, by calling it with the
-- arguments the module was made with.  Returns the class.
function nn.register(cls)
  if not is_class(cls) then
    error("nn.register: expects a module class (made with nn.Module:extend(name)), got " .. type(cls))
  end
  local name = cls.__name
  if builtin[cls] then return cls end
  if is_class(nn[name]) and builtin[nn[name]] then
    error(string.format("nn.register: the class name '%s' is a built-in class's; extend with another name", name))
  end
  registered[name] = cls
  return cls
end

-- the class nn.build uses for a type name: built-in or registered
local function class_named(name)
  local c = rawget(nn, name)
  if is_class(c) and builtin[c] and c ~= Container then return c end
  return registered[name]
end

-- the built-in class that can stand in for a script's class it does not
-- know (opts.as_base): its base, when the class replaces none of forward,
-- encode and decode and the base is made from config and children
local function stand_in(a)
  if a.base == nil or a.base == "Module" or (type(a.overrides) == "table" and #a.overrides > 0) then return nil end
  local b = class_named(tostring(a.base))
  return b and builtin[b] and rawget(b, "from_config") and b or nil
end

-- the types in an architecture (and its recorded arguments) that nn.build
-- (with the same opts) cannot make: array of {type =, path =, script = true
-- when the file says a script defined it, base = the built-in class that
-- could stand in with opts.as_base}, each type once
function nn.unbuildable(arch, opts)
  local as_base = type(opts) == "table" and opts.as_base
  local out, seen = {}, {}
  local visit
  local function visit_value(v, path)
    if type(v) ~= "table" then return end
    if type(v.module) == "table" then visit(v.module, path) end
    if type(v.class) == "string" and not class_named(v.class) and not seen[v.class] then
      seen[v.class] = true
      out[#out + 1] = { type = v.class, path = path, script = true }
    end
    for _, x in ipairs(type(v.list) == "table" and v.list or {}) do visit_value(x, path) end
    for _, kv in ipairs(type(v.table) == "table" and v.table or {}) do visit_value(type(kv) == "table" and kv[2], path) end
  end
  function visit(a, path)
    if type(a) ~= "table" then return end
    local t = a.type
    local by_base = false
    if type(t) == "string" and not class_named(t) then
      local b = stand_in(a)
      by_base = as_base and b ~= nil
      if not by_base and not seen[t] then
        seen[t] = true
        out[#out + 1] = { type = t, path = path, script = a.base ~= nil, base = b and b.__name }
      end
    end
    if not by_base then
      for _, x in ipairs(type(a.args) == "table" and a.args or {}) do visit_value(x, path) end
    end
    for _, c in ipairs(type(a.children) == "table" and a.children or {}) do
      if type(c) == "table" then visit(c.module, (path == "" and "" or path .. "/") .. tostring(c.name)) end
    end
  end
  visit(arch, "")
  return out
end

local function how_to_register(t)
  return string.format("load the script that defines it and call nn.register(%s) before rebuilding", t)
end

local build

-- a recorded argument back as a Lua value (modules rebuilt)
local function revive(v, where, opts)
  if type(v) ~= "table" then return v end
  if v["nil"] == true then return nil end
  if v.module ~= nil then return build(v.module, opts) end
  if v.class ~= nil then
    local c = class_named(v.class)
    if not c then
      error(string.format("%s is the class '%s', defined by a script: %s", where, tostring(v.class),
        how_to_register(v.class)), 0)
    end
    return c
  end
  local out = {}
  if type(v.list) == "table" then
    for i, x in ipairs(v.list) do out[i] = revive(x, where, opts) end
    return out
  end
  if type(v.table) == "table" then
    for _, kv in ipairs(v.table) do
      if type(kv) ~= "table" or (type(kv[1]) ~= "string" and type(kv[1]) ~= "number") then
        error(where .. ": a recorded table entry needs a key and a value", 0)
      end
      out[kv[1]] = revive(kv[2], where, opts)
    end
    return out
  end
  error(where .. ": not a recorded argument (expected nil, module, class, list or table)", 0)
end

-- nn.build(arch[, opts]): the module Module:architecture() described, with
-- fresh weights.  Built-in types are constructed from their config,
-- registered ones from from_config or the recorded arguments.  An unknown
-- type is an error saying what to register, unless opts say otherwise:
--   as_base = true        a script's class that replaces none of forward,
--                         encode and decode becomes its built-in base (an
--                         nn.VAE, ...) made from its children; it keeps its
--                         type name and recorded arguments, not its methods
--   unknown = "container" any other unknown type becomes a Container
--                         holding its children (weights load; no forward)
function build(arch, opts)
  if type(arch) ~= "table" or type(arch.type) ~= "string" then
    error("nn.build: an architecture needs a type", 0)
  end
  opts = opts or {}
  local cls = class_named(arch.type)
  local children = {}
  local function built_children()
    for i, c in ipairs(arch.children or {}) do
      if type(c) ~= "table" or type(c.name) ~= "string" or type(c.module) ~= "table" then
        error(string.format("nn.build: child %d of %s needs a name and a module", i, arch.type), 0)
      end
      children[i] = { name = c.name, module = build(c.module, opts) }
    end
    return children
  end
  if cls and rawget(cls, "from_config") then return cls.from_config(arch.config or {}, built_children()) end
  if cls and not builtin[cls] then
    if type(arch.args) ~= "table" then
      error(string.format("nn.build: %s was saved without its constructor arguments (by an aerun older than "
        .. "recording them); define %s.from_config(config, children) to rebuild it", arch.type, arch.type), 0)
    end
    local args, n = {}, 0
    for i, v in ipairs(arch.args) do
      args[i] = revive(v, string.format("%s: argument %d", arch.type, i), opts)
      n = i
    end
    return cls(table.unpack(args, 1, n))
  end
  local b = opts.as_base and stand_in(arch)
  if b then
    local m = b.from_config(arch.config or {}, built_children())
    rawset(m, "_type", arch.type)
    rawset(m, "_saved", { base = arch.base, args = arch.args, overrides = arch.overrides })
    return m
  end
  if opts.unknown == "container" then
    local m = Container:new()
    rawset(m, "_type", arch.type)
    rawset(m, "_saved", { base = arch.base, args = arch.args, overrides = arch.overrides })
    for _, c in ipairs(built_children()) do m[c.name] = c.module end
    return m
  end
  if arch.base ~= nil then
    error(string.format("nn.build: %s is a class defined by a script: %s", arch.type, how_to_register(arch.type)), 0)
  end
  error(string.format("nn.build: unknown module type '%s' (not a built-in class, none registered by that name)",
    arch.type), 0)
end
nn.build = build

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

-- a layer constructor's arguments by name, for the layers that take
-- PyTorch's arguments (names, in PyTorch's order): one named table that
-- comes alone (what _config and nn.build give back), or positional
-- arguments of which the last may be an options table, a plain table
-- without a list part at position first_option or later (so a size given
-- as {3, 5} stays positional)
local function arguments(layer, names, args, first_option)
  local function reject(fmt, ...) error(layer .. ": " .. string.format(fmt, ...)) end
  local function known(k, from)
    for j = from, #names do if names[j] == k then return true end end
    return false
  end
  local a1 = args[1]
  if type(a1) == "table" and a1[1] == nil and getmetatable(a1) == nil then
    if args.n > 1 then reject("a table of named arguments comes alone") end
    for k in pairs(a1) do
      if not known(k, 1) then reject("unknown argument '%s' (known: %s)", tostring(k), table.concat(names, ", ")) end
    end
    return a1
  end
  local out = {}
  for i = 1, args.n do
    local v = args[i]
    if i >= first_option and type(v) == "table" and v[1] == nil and getmetatable(v) == nil then
      if i < args.n then reject("the options table must come last") end
      for k, val in pairs(v) do
        if not known(k, i) then
          reject("unknown option '%s' (known: %s)", tostring(k), table.concat(names, ", ", i))
        end
        out[k] = val
      end
    elseif i > #names then
      reject("too many arguments (%d)", args.n)
    else
      out[names[i]] = v
    end
  end
  return out
end

-- what the module files that add layers (nn_conv, nn_norm, nn_rnn, nn_seq) build on
nn._class = class
nn._configure = configure
nn._check_count = check_count
nn._arguments = arguments
nn.Module = Module

require "aerun.nn_conv" (nn)
require "aerun.nn_norm" (nn)
require "aerun.nn_rnn" (nn)
require "aerun.nn_seq" (nn)

for _, v in pairs(nn) do
  if is_class(v) then builtin[v] = true end
end
builtin[Module] = true

return guard.module("ae.nn", nn)
