-- aerun.optim: optimizers with PyTorch's names, defaults and update rules
-- (ae.optim).  The update of each parameter is one C call; the state
-- tensors (momentum_buffer, exp_avg, exp_avg_sq) live here, keyed by the
-- parameter's position, so a checkpoint can save and restore them.
local core = require "aerun.core"

local optim = {}

local tensor_mt = debug.getregistry()["aerun.Tensor"]

local function check_params(name, params)
  if type(params) ~= "table" then
    error(name .. ": expects a list of parameters (model:parameters()), got " .. type(params), 3)
  end
  if #params == 0 then error(name .. ": the parameter list is empty", 3) end
  for i, p in ipairs(params) do
    if getmetatable(p) ~= tensor_mt then
      error(string.format("%s: parameter %d is %s, not a tensor", name, i, type(p)), 3)
    end
    if not p.requires_grad then
      error(string.format("%s: parameter %d does not require grad", name, i), 3)
    end
  end
  local list = {}
  for i, p in ipairs(params) do list[i] = p end
  return list
end

local function option(name, opts, key, default, check)
  local v = opts[key]
  if v == nil then v = default end
  if v == nil then error(string.format("%s: option %s is required", name, key), 4) end
  if check and not check(v) then
    error(string.format("%s: invalid %s: %s", name, key, tostring(v)), 4)
  end
  return v
end

local function nonneg(v) return type(v) == "number" and v >= 0 end
local function unit(v) return type(v) == "number" and v >= 0 and v < 1 end

local function check_options(name, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error(name .. ": options must be a table", 3) end
  for k in pairs(opts) do
    if not known[k] then
      local names = {}
      for n in pairs(known) do names[#names + 1] = n end
      table.sort(names)
      error(string.format("%s: unknown option %s (known: %s)", name, tostring(k), table.concat(names, ", ")), 3)
    end
  end
  return opts
end

local Optimizer = {}
Optimizer.__index = Optimizer

function Optimizer:zero_grad()
  for _, p in ipairs(self.params) do p.grad = nil end
end

-- the learning rate, for schedules: opt:set_lr(x) or opt.lr = x
function Optimizer:set_lr(lr)
  if not nonneg(lr) then error("set_lr: learning rate must be a non-negative number", 2) end
  self.lr = lr
end

-- SGD with momentum, dampening, Nesterov and weight decay
local SGD = setmetatable({}, { __index = Optimizer })
SGD.__index = SGD
SGD.type = "SGD"

function optim.SGD(params, opts)
  opts = check_options("SGD", opts,
    { lr = true, momentum = true, dampening = true, nesterov = true, weight_decay = true })
  local self = setmetatable({ params = check_params("SGD", params), state = {} }, SGD)
  self.lr = option("SGD", opts, "lr", nil, nonneg)
  self.momentum = option("SGD", opts, "momentum", 0, nonneg)
  self.dampening = option("SGD", opts, "dampening", 0, nonneg)
  self.weight_decay = option("SGD", opts, "weight_decay", 0, nonneg)
  self.nesterov = option("SGD", opts, "nesterov", false, function(v) return type(v) == "boolean" end)
  if self.nesterov and (self.momentum <= 0 or self.dampening ~= 0) then
    error("SGD: Nesterov momentum requires a momentum and zero dampening", 2)
  end
  return self
end

function SGD:hyperparameters()
  return { lr = self.lr, momentum = self.momentum, dampening = self.dampening,
    weight_decay = self.weight_decay, nesterov = self.nesterov }
end

function SGD:step()
  for i, p in ipairs(self.params) do
    local g = p.grad
    if g then
      local st = self.state[i]
      local first = false
      if not st then
        st = {}
        self.state[i] = st
      end
      if self.momentum ~= 0 and not st.momentum_buffer then
        st.momentum_buffer = core.zeros(p:shape())
        first = true
      end
      core.sgd_step(p, g, st.momentum_buffer, self.lr, self.momentum, self.dampening,
        self.weight_decay, self.nesterov, first)
    end
  end
end

-- Adam and AdamW (decoupled weight decay)
local Adam = setmetatable({}, { __index = Optimizer })
Adam.__index = Adam

local function adam(name, decoupled, default_wd)
  return function(params, opts)
    opts = check_options(name, opts,
      { lr = true, betas = true, eps = true, weight_decay = true, amsgrad = true })
    if opts.amsgrad then error(name .. ": amsgrad is not supported", 2) end
    local self = setmetatable({ params = check_params(name, params), state = {}, type = name,
      decoupled = decoupled }, Adam)
    self.lr = option(name, opts, "lr", 1e-3, nonneg)
    local betas = option(name, opts, "betas", { 0.9, 0.999 }, function(b)
      return type(b) == "table" and unit(b[1]) and unit(b[2])
    end)
    self.betas = { betas[1], betas[2] }
    self.eps = option(name, opts, "eps", 1e-8, nonneg)
    self.weight_decay = option(name, opts, "weight_decay", default_wd, nonneg)
    return self
  end
end

optim.Adam = adam("Adam", false, 0)
optim.AdamW = adam("AdamW", true, 1e-2)

function Adam:hyperparameters()
  return { lr = self.lr, betas = { self.betas[1], self.betas[2] }, eps = self.eps,
    weight_decay = self.weight_decay }
end

function Adam:step()
  local b1, b2 = self.betas[1], self.betas[2]
  for i, p in ipairs(self.params) do
    local g = p.grad
    if g then
      local st = self.state[i]
      if not st then
        local shape = p:shape()
        st = { step = 0, exp_avg = core.zeros(shape), exp_avg_sq = core.zeros(shape) }
        self.state[i] = st
      end
      st.step = st.step + 1
      core.adam_step(p, g, st.exp_avg, st.exp_avg_sq, st.step, self.lr, b1, b2, self.eps,
        self.weight_decay, self.decoupled)
    end
  end
end

return optim
