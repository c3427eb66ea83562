-- aerun.optim: optimizers with PyTorch's names, defaults and update rules
-- (ae.optim): SGD, Adam, AdamW, RMSprop; clip_grad_norm; learning-rate
-- schedulers (ae.optim.lr_scheduler).  The update of each parameter is one
-- C call (runtime/ops/optim.c); the state tensors live here, keyed by the
-- parameter's position in the list the optimizer was given, and
-- opt:state_dict() / opt:load_state_dict(sd) save and restore them with
-- PyTorch's slot names (momentum_buffer, exp_avg, exp_avg_sq, square_avg,
-- grad_avg, step).
--
-- A learning-rate schedule is either an ae.schedule applied each epoch or
-- step,
--     local lr = ae.schedule.cosine(1e-3, 1e-5, cfg.epochs)
--     for epoch = 1, cfg.epochs do opt:set_lr(lr(epoch)) ... end
-- or a PyTorch-style scheduler (a thin wrapper over an ae.schedule) stepped
-- after each epoch or batch,
--     local sched = ae.optim.lr_scheduler.StepLR(opt, {step_size = 10, gamma = 0.5})
--     for epoch = 1, cfg.epochs do ... sched:step() end
-- ReduceLROnPlateau steps with a metric: sched:step(test_loss).

--- Optimizers with PyTorch's names, defaults and exact update rules: `ae.optim`.
--
-- An optimizer takes the list `model:parameters()` (or one tensor) and a
-- table of hyperparameters; unknown keys and out-of-range values are
-- errors naming the key.  With `opt.skip_nonfinite = true` (runs with
-- `--on-nan=skip` set it) a step whose gradients hold a NaN or an infinity
-- changes nothing and returns false.
-- @module aerun.optim

--- Stochastic gradient descent.
-- @param params a list of tensors that require grad
-- @param opts `{lr =, momentum = 0, dampening = 0, weight_decay = 0, nesterov = false}` (lr required)
-- @return an Optimizer
-- @raise when the list is empty or holds a non-parameter, lr is missing, or a value is out of range
-- @usage local w = ae.ones(2):requires_grad_(); local opt = ae.optim.SGD({ w }, { lr = 0.5 })
-- w:sum():backward(); opt:step(); assert(w:sum():item() == 1)
-- @function SGD

--- Adam.
-- @param params a list of tensors that require grad
-- @param[opt] opts `{lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 0}`
-- @return an Optimizer
-- @raise as SGD
-- @usage local m = nn.Linear(4, 1); local opt = ae.optim.Adam(m:parameters(), { lr = 1e-2 })
-- opt:zero_grad(); m(ae.rand(8, 4)):pow(2):mean():backward(); opt:step()
-- @function Adam

--- Adam with decoupled weight decay (default 1e-2), PyTorch's AdamW.
-- @param params a list of tensors that require grad
-- @param[opt] opts as Adam
-- @return an Optimizer
-- @usage local opt = ae.optim.AdamW(nn.Linear(2, 2):parameters()); assert(opt.weight_decay == 1e-2)
-- @function AdamW

--- RMSprop.
-- @param params a list of tensors that require grad
-- @param[opt] opts `{lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0, centered = false}`
-- @return an Optimizer
-- @usage local opt = ae.optim.RMSprop(nn.Linear(2, 2):parameters(), { centered = true }); assert(opt.centered)
-- @function RMSprop

--- Scales the gradients so that their joint norm is at most max_norm
-- (PyTorch's clip_grad_norm_, in float32); parameters without a gradient are skipped.
-- @param params a list of tensors (or one)
-- @param max_norm a number ≥ 0
-- @param[opt=2] norm_type a number, or math.huge / "inf" for the largest magnitude
-- @return the total norm before clipping (a number)
-- @raise when max_norm is negative or not a number
-- @usage local w = ae.ones(4):requires_grad_(); (w * 3):sum():backward()
-- assert(ae.optim.clip_grad_norm({ w }, 1) == 6 and math.abs(w.grad:pow(2):sum():item() - 1) < 1e-5)
-- @function clip_grad_norm

--- Multiplies the learning rate by gamma every step_size steps of the
-- scheduler (call :step() once per epoch, or once per batch for a per-step
-- schedule, as in PyTorch).  Like every wrapper below, it is a thin layer
-- over an ae.schedule (its field `schedule`, unit 1 = before the first
-- step) and gives PyTorch 1.13's rates to the bit.
-- @param opt an Optimizer
-- @param opts `{step_size =, gamma = 0.1}`
-- @return a Scheduler
-- @raise on a missing, unknown or out-of-range option
-- @usage local opt = ae.optim.SGD(nn.Linear(1, 1):parameters(), { lr = 1 })
-- local s = ae.optim.lr_scheduler.StepLR(opt, { step_size = 1, gamma = 0.5 }); s:step(); assert(opt.lr == 0.5)
-- @function lr_scheduler.StepLR

--- Multiplies the learning rate by gamma at each milestone (a count of steps).
-- @param opt an Optimizer
-- @param opts `{milestones = {...} (increasing), gamma = 0.1}`
-- @return a Scheduler
-- @usage local opt = ae.optim.SGD(nn.Linear(1, 1):parameters(), { lr = 1 })
-- local s = ae.optim.lr_scheduler.MultiStepLR(opt, { milestones = { 2 } }); s:step(); s:step(); assert(math.abs(opt.lr - 0.1) < 1e-12)
-- @function lr_scheduler.MultiStepLR

--- Multiplies the learning rate by gamma every step.
-- @param opt an Optimizer
-- @param opts `{gamma =}`
-- @return a Scheduler
-- @usage local opt = ae.optim.SGD(nn.Linear(1, 1):parameters(), { lr = 1 })
-- ae.optim.lr_scheduler.ExponentialLR(opt, { gamma = 0.9 }):step(); assert(opt.lr == 0.9)
-- @function lr_scheduler.ExponentialLR

--- Cosine annealing from the initial rate to eta_min over T_max steps (PyTorch's recurrence; past T_max it climbs back).
-- @param opt an Optimizer
-- @param opts `{T_max =, eta_min = 0}`
-- @return a Scheduler
-- @usage local opt = ae.optim.SGD(nn.Linear(1, 1):parameters(), { lr = 1 })
-- local s = ae.optim.lr_scheduler.CosineAnnealingLR(opt, { T_max = 2 }); s:step(); assert(math.abs(opt.lr - 0.5) < 1e-12)
-- @function lr_scheduler.CosineAnnealingLR

--- The rate times a factor that goes linearly from start_factor (at
-- construction, which sets it, as PyTorch's does) to end_factor after
-- total_iters steps, then stays: PyTorch's LinearLR, a warm-up when
-- end_factor is 1.  start_factor must be in (0, 1] (PyTorch's recurrence
-- gives NaN at 0; ae.schedule.warmup starts from 0).
-- @param opt an Optimizer
-- @param[opt] opts `{start_factor = 1/3, end_factor = 1, total_iters = 5}`
-- @return a Scheduler
-- @usage local opt = ae.optim.SGD(nn.Linear(1, 1):parameters(), { lr = 1 })
-- local s = ae.optim.lr_scheduler.LinearLR(opt, { start_factor = 0.5, total_iters = 2 }); assert(opt.lr == 0.5)
-- s:step(); assert(opt.lr == 0.75); s:step(); assert(opt.lr == 1)
-- @function lr_scheduler.LinearLR

--- The initial rate times lr_lambda(n) after n steps (lr_lambda(0) at
-- construction): PyTorch's LambdaLR.  n counts from 0 as in PyTorch, where
-- an ae.schedule counts from 1.
-- @param opt an Optimizer
-- @param opts `{lr_lambda = function(n) -> factor}`
-- @return a Scheduler
-- @raise when lr_lambda returns something other than a number
-- @usage local opt = ae.optim.SGD(nn.Linear(1, 1):parameters(), { lr = 1 })
-- local s = ae.optim.lr_scheduler.LambdaLR(opt, { lr_lambda = function(n) return 1 / (n + 1) end }); s:step(); assert(opt.lr == 0.5)
-- @function lr_scheduler.LambdaLR

--- Schedulers one after another: PyTorch's SequentialLR.  From step
-- milestones[i] on (counting steps from 0, as PyTorch), schedulers[i + 1]
-- runs from its start.  The schedulers are made on the same optimizer
-- first; only the SequentialLR is stepped.  A warm-up then cosine:
-- `SequentialLR(opt, {schedulers = {LinearLR(opt, {start_factor = 0.01,
-- total_iters = n}), CosineAnnealingLR(opt, {T_max = T})}, milestones = {n}})`
-- (or ae.schedule.warmup with opt:set_lr).
-- @param opt an Optimizer
-- @param opts `{schedulers = {...}, milestones = {...}}` (one milestone fewer than schedulers)
-- @return a Scheduler
-- @raise when a scheduler drives another optimizer, is a ReduceLROnPlateau or SequentialLR, or the counts do not fit
-- @usage local opt = ae.optim.SGD(nn.Linear(1, 1):parameters(), { lr = 1 }); local L = ae.optim.lr_scheduler
-- local s = L.SequentialLR(opt, { schedulers = { L.LinearLR(opt, { start_factor = 0.5, total_iters = 1 }),
--   L.ExponentialLR(opt, { gamma = 0.5 }) }, milestones = { 1 } })
-- assert(opt.lr == 0.5); s:step(); assert(opt.lr == 1); s:step(); assert(opt.lr == 0.5)
-- @function lr_scheduler.SequentialLR

--- Lowers the rate when a metric stops improving: PyTorch 1.13's
-- ReduceLROnPlateau, to the bit.  `s:step(metric)` once per evaluation
-- (a number or a one-element tensor, finite): a metric better than best
-- by the threshold (`rel`: below best·(1 - threshold) in min mode, above
-- best·(1 + threshold) in max mode; `abs`: best ∓ threshold) resets the
-- count of bad steps; after more than `patience` bad ones the rate becomes
-- max(lr·factor, min_lr), unless that changes it by eps or less, and
-- `cooldown` steps follow in which bad steps do not count.  Its fields
-- best, num_bad_epochs, cooldown_counter and last_epoch are PyTorch's;
-- `s:get_last_lr()`, `s:state_dict()` and `s:load_state_dict(sd)` work as
-- for the other schedulers.  It changes only what the optimizer holds, so
-- it combines with a warm-up scheduler stepped per batch.
-- @param opt an Optimizer
-- @param[opt] opts `{mode = "min", factor = 0.1, patience = 10, threshold = 1e-4, threshold_mode = "rel", cooldown = 0, min_lr = 0, eps = 1e-8}`
-- @return a ReduceLROnPlateau
-- @raise on an unknown option or a bad value (factor outside [0, 1), a negative or fractional patience or cooldown, ...), naming it; step raises on a non-finite metric
-- @usage local opt = ae.optim.SGD(nn.Linear(1, 1):parameters(), { lr = 1 })
-- local s = ae.optim.lr_scheduler.ReduceLROnPlateau(opt, { patience = 1, factor = 0.5 })
-- for _, loss in ipairs { 3, 2, 2, 2 } do s:step(loss) end; assert(opt.lr == 0.5 and s.best == 2)
-- @function lr_scheduler.ReduceLROnPlateau

--- What every optimizer has.
-- @type Optimizer

--- Clears the gradients of its parameters.
-- @usage local w = ae.ones(1):requires_grad_(); local opt = ae.optim.SGD({ w }, { lr = 1 }); w:sum():backward(); opt:zero_grad(); assert(w.grad == nil)
-- @function Optimizer:zero_grad

--- One update of every parameter that has a gradient.
-- @return false when the step was skipped (skip_nonfinite and a non-finite gradient)
-- @usage local w = ae.ones(1):requires_grad_(); local opt = ae.optim.SGD({ w }, { lr = 1 }); w:sum():backward(); opt:step(); assert(w:item() == 0)
-- @function Optimizer:step

--- Sets the learning rate.
-- @param lr a number ≥ 0
-- @raise when lr is negative or not a number
-- @usage local opt = ae.optim.Adam(nn.Linear(1, 1):parameters()); opt:set_lr(0.1); assert(opt:get_lr() == 0.1)
-- @function Optimizer:set_lr

--- The learning rate.
-- @return a number
-- @usage assert(ae.optim.Adam(nn.Linear(1, 1):parameters()):get_lr() == 1e-3)
-- @function Optimizer:get_lr

--- The hyperparameters as a table (what checkpoints save).
-- @return a table
-- @usage assert(ae.optim.Adam(nn.Linear(1, 1):parameters()):hyperparameters().eps == 1e-8)
-- @function Optimizer:hyperparameters

--- The state (PyTorch's slot names) and hyperparameters.
-- @return `{state = {...}, param_groups = {...}}`
-- @usage local sd = ae.optim.Adam(nn.Linear(1, 1):parameters()):state_dict(); assert(sd.state)
-- @function Optimizer:state_dict

--- Restores a state_dict, checking every slot's shape first.
-- @param sd a table from state_dict
-- @raise when a slot, a shape or a hyperparameter does not fit
-- @usage local m = nn.Linear(1, 1); local a = ae.optim.Adam(m:parameters()); ae.optim.Adam(m:parameters()):load_state_dict(a:state_dict())
-- @function Optimizer:load_state_dict

--- What every lr_scheduler has (ReduceLROnPlateau's step takes the metric).
-- `s.schedule` is its ae.schedule (unit k = after k - 1 steps), `s.last_epoch`
-- the count of steps, `s.base_lr` the optimizer's rate when the first
-- scheduler was attached to it (PyTorch's initial_lr).
-- @type Scheduler

--- Advances the count by one and sets the optimizer's rate: call it after
-- each epoch, or after each batch for a per-step schedule.  A recurrence
-- (all but LambdaLR) is applied to the optimizer's current rate, as
-- PyTorch's chainable form is.
-- @usage local opt = ae.optim.SGD(nn.Linear(1, 1):parameters(), { lr = 1 }); local s = ae.optim.lr_scheduler.ExponentialLR(opt, { gamma = 0.5 }); s:step(); assert(s:get_last_lr() == 0.5)
-- @function Scheduler:step

--- The learning rate the last step set.
-- @return a number
-- @usage local opt = ae.optim.SGD(nn.Linear(1, 1):parameters(), { lr = 1 }); assert(ae.optim.lr_scheduler.StepLR(opt, { step_size = 2 }):get_last_lr() == 1)
-- @function Scheduler:get_last_lr

--- The scheduler's state: `{type, version = 2, last_epoch, base_lr, last_lr}`
-- (version 1, without last_lr, is still read), numbers only (JSON-ready).
-- @return a table
-- @usage local opt = ae.optim.SGD(nn.Linear(1, 1):parameters(), { lr = 1 }); assert(ae.optim.lr_scheduler.StepLR(opt, { step_size = 2 }):state_dict())
-- @function Scheduler:state_dict

--- Restores a scheduler's state_dict and sets the optimizer's rate to the
-- one saved, so that the next step continues exactly.
-- @param sd a table
-- @raise when sd is another scheduler's state or holds a bad value
-- @usage local opt = ae.optim.SGD(nn.Linear(1, 1):parameters(), { lr = 1 }); local s = ae.optim.lr_scheduler.StepLR(opt, { step_size = 2 }); s:load_state_dict(s:state_dict())
-- @function Scheduler:load_state_dict

local core = require "aerun.core"

local optim = {}

local tensor_mt = debug.getregistry()["aerun.Tensor"]

local function is_tensor(v) return getmetatable(v) == tensor_mt end
local function is_number(v) return type(v) == "number" and v == v end
local function nonneg(v) return is_number(v) and v >= 0 and v < math.huge end
local function unit(v) return is_number(v) and v >= 0 and v < 1 end
local function boolean(v) return type(v) == "boolean" end
local function shape_str(t) return table.concat(t:shape(), "×") end

local guard = require "aerun.guard"

-- a module's class (nn.Linear), not a module: only classes hold __module
local function is_module_class(v) return type(v) == "table" and rawget(v, "__module") == true end
local function is_module(v)
  local mt = type(v) == "table" and getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__module") == true
end

-- params: a list of tensors, one tensor, or a module, whose parameters
-- (model:parameters()) are what a script means: Adam(model, {...}) is
-- Adam(model:parameters(), {...})
local function check_params(name, params)
  if is_tensor(params) then params = { params } end
  if is_module(params) then params = params:parameters() end
  if is_module_class(params) then
    error(string.format("%s: expects a model or its parameters, got %s: %s (make the model, then pass it)", name,
      guard.value(params), guard.hint(params)), 3)
  end
  if type(params) ~= "table" then
    error(name .. ": expects a model or a list of parameters (model:parameters()), got " .. guard.value(params), 3)
  end
  if #params == 0 then error(name .. ": the parameter list is empty", 3) end
  local list = {}
  for i, p in ipairs(params) do
    if not is_tensor(p) then
      error(string.format("%s: parameter %d is %s, not a tensor", name, i, guard.value(p)), 3)
    end
    if not p.requires_grad then
      error(string.format("%s: parameter %d does not require grad", name, i), 3)
    end
    list[i] = p
  end
  return list
end

-- Each optimizer class lists its hyperparameters as {key, default, check}
-- (a nil default means required); the constructor and load_state_dict
-- both go through hyperparameters(), so a restored optimizer is checked
-- exactly as a new one.
local function known_keys(spec)
  local names = {}
  for _, h in ipairs(spec) do names[#names + 1] = h[1] end
  table.sort(names)
  return names
end

-- values for every hyperparameter from opts (or current when given),
-- checked; errors at `level` above the caller
local function hyperparameters(name, spec, opts, current, level)
  if opts ~= nil and type(opts) ~= "table" then error(name .. ": options must be a table", level + 1) end
  opts = opts or {}
  local byname = {}
  for _, h in ipairs(spec) do byname[h[1]] = h end
  for k in pairs(opts) do
    if not byname[k] then
      error(string.format("%s: unknown option %s (known: %s)", name, tostring(k),
        table.concat(known_keys(spec), ", ")), level + 1)
    end
  end
  local out = {}
  for _, h in ipairs(spec) do
    local key, default, check = h[1], h[2], h[3]
    local v = opts[key]
    if v == nil and current then v = current[key] end
    if v == nil then v = default end
    if v == nil then error(string.format("%s: option %s is required", name, key), level + 1) end
    if not check(v) then
      error(string.format("%s: invalid %s: %s", name, key, type(v) == "table" and "{...}" or guard.value(v)),
        level + 1)
    end
    out[key] = type(v) == "table" and { table.unpack(v) } or v
  end
  return out
end

local Optimizer = {}
Optimizer.__index = Optimizer

local function new_class(name, spec)
  local cls = setmetatable({ type = name, spec = spec }, { __index = Optimizer })
  cls.__index = cls
  return cls
end

-- called from the public constructors (not as a tail call, so that error
-- levels count the constructor's frame and point at the script)
local function construct(cls, params, opts)
  local self = setmetatable({ params = check_params(cls.type, params), state = {}, step_count = 0 }, cls)
  local h = hyperparameters(cls.type, cls.spec, opts, nil, 3)
  if cls.validate then cls.validate(h, 3) end
  for k, v in pairs(h) do self[k] = v end
  return self
end

-- with opt.skip_nonfinite set (a run with --on-nan=skip sets it), a step
-- whose gradients hold a NaN or an infinity changes nothing and returns
-- false; opt.skipped counts such steps
function Optimizer:skips_step()
  if not self.skip_nonfinite then return false end
  for _, p in ipairs(self.params) do
    local g = p.grad
    if g and core.count_nonfinite(g) > 0 then
      self.skipped = (self.skipped or 0) + 1
      return true
    end
  end
  return false
end

-- the start of every step(): false when the step is skipped, else the
-- step is counted
function Optimizer:begin_step()
  if self:skips_step() then return false end
  self.step_count = self.step_count + 1
  return true
end

-- for p, g, st in opt:gradients(init): the parameters that have a
-- gradient, with their state, made by init(p) at a parameter's first step
function Optimizer:gradients(init)
  local i, params, state = 0, self.params, self.state
  return function()
    repeat
      i = i + 1
      local p = params[i]
      if p == nil then return nil end
      local g = p.grad
      if g then
        local st = state[i]
        if not st then
          st = init(p)
          state[i] = st
        end
        return p, g, st
      end
    until false
  end
end

function Optimizer:zero_grad()
  for _, p in ipairs(self.params) do p.grad = nil end
end

-- the learning rate, for schedules: opt:set_lr(x) (or opt.lr = x)
function Optimizer:set_lr(lr)
  if not nonneg(lr) then error("set_lr: learning rate must be a non-negative number, got " .. tostring(lr), 2) end
  self.lr = lr
end

function Optimizer:get_lr() return self.lr end

-- the hyperparameters as a plain table (JSON-ready: numbers, booleans, lists)
function Optimizer:hyperparameters()
  local h = {}
  for _, s in ipairs(self.spec) do
    local v = self[s[1]]
    h[s[1]] = type(v) == "table" and { table.unpack(v) } or v
  end
  return h
end

-- {type =, hyperparameters = {...}, step = number of opt:step() calls,
--  state = {[param index] = {slot = tensor, ...}}}: tensors are copies
-- (a snapshot), and a per-parameter step count is a 0-D tensor as in
-- PyTorch 1.13 (exact up to 2^24 steps).
function Optimizer:state_dict()
  local state = {}
  local slots = self.slots(self)
  for i, st in pairs(self.state) do
    local s, any = {}, false
    for _, slot in ipairs(slots) do
      local v = st[slot]
      if v ~= nil then
        s[slot] = slot == "step" and core.tensor(v) or v:clone()
        any = true
      end
    end
    if any then state[i] = s end
  end
  return { type = self.type, hyperparameters = self:hyperparameters(), step = self.step_count, state = state }
end

local function whole(v) return is_number(v) and v >= 0 and v == math.floor(v) and v < 2 ^ 53 end

-- a per-parameter step count given as a number or a one-element tensor
local function load_count(v, what)
  if is_tensor(v) then
    if v:numel() ~= 1 then
      error(string.format("load_state_dict: %s must hold one number, got shape %s", what, shape_str(v)), 3)
    end
    v = v:item()
  end
  if not whole(v) then
    error(string.format("load_state_dict: %s must be a non-negative integer, got %s", what, tostring(v)), 3)
  end
  return math.tointeger(v)
end

-- Restores what state_dict returned: hyperparameters (as PyTorch does; call
-- set_lr afterwards to override; keys absent from sd keep their values),
-- the step count and every state slot (copied), checked against this
-- optimizer's type and its parameters' shapes.  A per-parameter step may be
-- a number or a one-element tensor.  Nothing changes unless all is valid.
function Optimizer:load_state_dict(sd)
  local name = "load_state_dict"
  if type(sd) ~= "table" then error(name .. ": expects the table opt:state_dict() returns", 2) end
  if sd.type ~= self.type then
    error(string.format("%s: the state is for a %s optimizer, this one is %s", name, tostring(sd.type), self.type), 2)
  end
  local h = hyperparameters(name .. " (" .. self.type .. " hyperparameters)", self.spec,
    sd.hyperparameters, self:hyperparameters(), 2)
  if self.validate then self.validate(h, 2) end
  local step_count = sd.step == nil and 0 or sd.step
  if not whole(step_count) then
    error(name .. ": step must be a non-negative integer, got " .. tostring(sd.step), 2)
  end
  if sd.state ~= nil and type(sd.state) ~= "table" then error(name .. ": state must be a table", 2) end
  local slots = self.slots(h)
  local wanted = {}
  for _, s in ipairs(slots) do wanted[s] = true end
  local state = {}
  for i, entry in pairs(sd.state or {}) do
    if not (is_number(i) and i == math.floor(i) and i >= 1 and i <= #self.params) then
      error(string.format("%s: state key %s is not a parameter index (1..%d)", name, tostring(i), #self.params), 2)
    end
    i = math.tointeger(i)
    local p = self.params[i]
    if type(entry) ~= "table" then error(string.format("%s: state[%d] must be a table of slots", name, i), 2) end
    for slot in pairs(entry) do
      if not wanted[slot] then
        error(string.format("%s: state[%d] has slot %s, which %s with these hyperparameters does not use "
          .. "(expected: %s)", name, i, tostring(slot), self.type, table.concat(slots, ", ")), 2)
      end
    end
    local st = {}
    for _, slot in ipairs(slots) do
      local v = entry[slot]
      local what = string.format("state[%d].%s", i, slot)
      if v == nil then
        error(string.format("%s: %s is missing (parameter %d has shape %s)", name, what, i, shape_str(p)), 2)
      end
      if slot == "step" then
        st.step = load_count(v, what)
      else
        if not is_tensor(v) then error(string.format("%s: %s must be a tensor, got %s", name, what, type(v)), 2) end
        if shape_str(v) ~= shape_str(p) then
          error(string.format("%s: %s has shape %s, parameter %d has shape %s", name, what, shape_str(v), i,
            shape_str(p)), 2)
        end
        st[slot] = v:detach():contiguous():clone()
      end
    end
    state[i] = st
  end
  for k, v in pairs(h) do self[k] = v end
  self.step_count = math.tointeger(step_count)
  self.state = state
end

-- SGD with momentum, dampening, Nesterov and weight decay
local SGD = new_class("SGD", {
  { "lr", nil, nonneg }, { "momentum", 0, nonneg }, { "dampening", 0, nonneg },
  { "weight_decay", 0, nonneg }, { "nesterov", false, boolean },
})
optim.SGD = function(params, opts)
  local opt = construct(SGD, params, opts)
  return opt
end

function SGD.validate(h, level)
  if h.nesterov and (h.momentum <= 0 or h.dampening ~= 0) then
    error("SGD: Nesterov momentum requires a momentum and zero dampening", level + 1)
  end
end

function SGD.slots(h) return h.momentum ~= 0 and { "momentum_buffer" } or {} end

local function empty_state() return {} end

function SGD:step()
  if not self:begin_step() then return false end
  for p, g, st in self:gradients(empty_state) do
    local first = false
    if self.momentum ~= 0 and not st.momentum_buffer then
      st.momentum_buffer = core.zeros(p:shape())
      first = true
    end
    core.sgd_step(p, g, st.momentum_buffer, self.lr, self.momentum, self.dampening,
      self.weight_decay, self.nesterov, first)
  end
end

-- Adam and AdamW (decoupled weight decay: p ← p·(1 - lr·wd) before the
-- Adam update, PyTorch's default weight_decay 1e-2)
local function betas(b) return type(b) == "table" and #b == 2 and unit(b[1]) and unit(b[2]) end
local function not_amsgrad(v) return v == false end

local function adam_class(name, default_wd)
  local cls = new_class(name, {
    { "lr", 1e-3, nonneg }, { "betas", { 0.9, 0.999 }, betas }, { "eps", 1e-8, nonneg },
    { "weight_decay", default_wd, nonneg }, { "amsgrad", false, not_amsgrad },
  })
  cls.decoupled = name == "AdamW"
  function cls.slots() return { "step", "exp_avg", "exp_avg_sq" } end
  -- every parameter in one C call (one pass, shared by the runtime's
  -- threads); it makes state[i] = {step, exp_avg, exp_avg_sq} at a
  -- parameter's first step, as the loop over core.adam_step would
  function cls:step()
    if not self:begin_step() then return false end
    core.adam_step_all(self.params, self.state, self.lr, self.betas[1], self.betas[2], self.eps,
      self.weight_decay, self.decoupled)
  end
  return cls
end

local Adam, AdamW = adam_class("Adam", 0), adam_class("AdamW", 1e-2)
optim.Adam = function(params, opts)
  local opt = construct(Adam, params, opts)
  return opt
end
optim.AdamW = function(params, opts)
  local opt = construct(AdamW, params, opts)
  return opt
end

-- RMSprop with PyTorch's rule: square_avg ← α·square_avg + (1-α)·g²;
-- centered subtracts grad_avg² (grad_avg ← α·grad_avg + (1-α)·g);
-- avg = sqrt(·) + eps; with momentum buf ← μ·buf + g/avg, p ← p - lr·buf,
-- else p ← p - lr·g/avg.  Weight decay adds wd·p to g first.
local function alpha(v) return is_number(v) and v >= 0 and v <= 1 end
local RMSprop = new_class("RMSprop", {
  { "lr", 1e-2, nonneg }, { "alpha", 0.99, alpha }, { "eps", 1e-8, nonneg },
  { "weight_decay", 0, nonneg }, { "momentum", 0, nonneg }, { "centered", false, boolean },
})
optim.RMSprop = function(params, opts)
  local opt = construct(RMSprop, params, opts)
  return opt
end

function RMSprop.slots(h)
  local s = { "step", "square_avg" }
  if h.momentum > 0 then s[#s + 1] = "momentum_buffer" end
  if h.centered then s[#s + 1] = "grad_avg" end
  return s
end

local function rmsprop_state(p) return { step = 0, square_avg = core.zeros(p:shape()) } end

function RMSprop:step()
  if not self:begin_step() then return false end
  for p, g, st in self:gradients(rmsprop_state) do
    -- slots appear when a hyperparameter that needs them is switched on
    if self.momentum > 0 and not st.momentum_buffer then st.momentum_buffer = core.zeros(p:shape()) end
    if self.centered and not st.grad_avg then st.grad_avg = core.zeros(p:shape()) end
    st.step = st.step + 1
    core.rmsprop_step(p, g, st.square_avg, st.grad_avg, st.momentum_buffer, self.lr, self.alpha,
      self.eps, self.weight_decay, self.momentum, self.centered)
  end
end

-- x rounded to float32, the type of PyTorch's tensors: a float32 sum,
-- product or quotient is the double one rounded once
local function f32(x) return (string.unpack("f", string.pack("f", x))) end

-- clip_grad_norm(params, max_norm[, norm_type = 2]): the norm of all the
-- gradients together (as one vector; norm_type may be math.huge or "inf"
-- for the largest magnitude), returned as a number; when it exceeds
-- max_norm every gradient is scaled by max_norm / (total + 1e-6), as
-- PyTorch's clip_grad_norm_.  Parameters without a gradient are skipped.
-- The arithmetic is PyTorch's, in float32: the norm of the per-tensor
-- norms (torch.norm(torch.stack(norms))), then reciprocal(total + 1e-6) *
-- max_norm.  Gradients are scaled only when that is below 1 (PyTorch
-- multiplies by min(coef, 1), the same numbers) so a NaN total leaves them.
function optim.clip_grad_norm(params, max_norm, norm_type)
  local name = "clip_grad_norm"
  if is_tensor(params) then params = { params } end
  if is_module(params) then params = params:parameters() end
  if type(params) ~= "table" then error(name .. ": expects a model or a list of parameters, got " .. guard.value(params), 2) end
  if not nonneg(max_norm) then error(name .. ": max_norm must be a non-negative number, got " .. guard.value(max_norm), 2) end
  if norm_type == nil then norm_type = 2 end
  if norm_type == "inf" then norm_type = math.huge end
  if not (is_number(norm_type) and norm_type > 0) then
    error(name .. ": norm_type must be a positive number or \"inf\", got " .. guard.value(norm_type), 2)
  end
  local grads = {}
  for i, p in ipairs(params) do
    if not is_tensor(p) then error(string.format("%s: parameter %d is not a tensor", name, i), 2) end
    grads[#grads + 1] = p.grad
  end
  if #grads == 0 then return 0 end
  local total = 0
  if norm_type == math.huge then
    for _, g in ipairs(grads) do
      local n = core.grad_norm(g, norm_type)
      if n > total or n ~= n then total = n end
      if total ~= total then break end
    end
  else
    local norms = {}
    for i, g in ipairs(grads) do norms[i] = core.grad_norm(g, norm_type) end
    total = core.grad_norm(core.tensor(norms), norm_type)
  end
  local coef = f32(f32(1 / f32(total + f32(1e-6))) * f32(max_norm))
  if coef < 1 then
    for _, g in ipairs(grads) do core.grad_scale_(g, coef) end
  end
  return total
end

-- Learning-rate schedulers in PyTorch's form: made from an optimizer
-- (whose current lr becomes base_lr), sched:step() after each epoch sets
-- opt.lr to the lr at last_epoch (base_lr before the first step).
-- The schedulers are thin wrappers over ae.schedule: each holds a schedule
-- of its count (scheduler.schedule, unit 1 = before the first step, PyTorch's
-- last_epoch 0) and its :step() advances the count and sets the optimizer's
-- rate.  PyTorch's get_lr() is chainable: each lr is computed from the
-- optimizer's current one (lr·gamma, a cosine ratio), which differs in the
-- last bits of a double from the closed form base_lr·gamma^epoch
-- (0.1·0.9·0.9·0.9 is not 0.1·0.9^3).  Those schedules are therefore
-- ae.schedule.chain recurrences with PyTorch's formulas, and :step()
-- applies the chain to the optimizer's current rate as PyTorch does, so
-- the lr is PyTorch's to the bit (also after an opt:set_lr or a
-- ReduceLROnPlateau in between).  The base rate is the optimizer's
-- initial_lr, set by the first scheduler attached to it (PyTorch's too).
local schedule = require "aerun.schedule"

local lr_scheduler = {}
optim.lr_scheduler = lr_scheduler

local Scheduler = {}
Scheduler.__index = Scheduler

local function check_optimizer(name, opt)
  if type(opt) ~= "table" or type(opt.set_lr) ~= "function" then
    error(name .. ": expects an optimizer as its first argument, got " .. guard.value(opt), 3)
  end
end

-- PyTorch's initial_lr: the rate when the first scheduler was attached
local function base_of(opt)
  local base = rawget(opt, "initial_lr")
  if base == nil then
    base = opt.lr
    rawset(opt, "initial_lr", base)
  end
  return base
end

-- the rate at the schedule's unit k: the chain from the optimizer's
-- current rate when the schedule is a recurrence
local function rate_at(s, k, current)
  if s.chain then return s.chain(k, current) end
  return s(k)
end

function Scheduler:step(...)
  if select("#", ...) > 0 then
    error(self.type .. ":step takes no argument (PyTorch's step(epoch) is deprecated; "
      .. "ReduceLROnPlateau:step takes the metric)", 2)
  end
  self.last_epoch = self.last_epoch + 1
  local lr = rate_at(self.schedule, self.last_epoch + 1, self.optimizer.lr)
  self.optimizer:set_lr(lr)
  self.last_lr = lr
end

function Scheduler:get_last_lr() return self.last_lr end

-- version 2 adds last_lr (the rate the last step set); a version 1 state
-- (type, last_epoch, base_lr) is still read: its rate is the schedule's
function Scheduler:state_dict()
  return { type = self.type, version = 2, last_epoch = self.last_epoch, base_lr = self.base_lr,
    last_lr = self.last_lr }
end

local function check_state(self, sd)
  if type(sd) ~= "table" or sd.type ~= self.type then
    error(string.format("load_state_dict: expects a %s state, got %s", self.type,
      type(sd) == "table" and tostring(sd.type) or type(sd)), 3)
  end
  if not whole(sd.last_epoch) then error("load_state_dict: last_epoch must be a non-negative integer", 3) end
  if sd.last_lr ~= nil and not nonneg(sd.last_lr) then
    error("load_state_dict: last_lr must be a non-negative number", 3)
  end
end

function Scheduler:load_state_dict(sd)
  check_state(self, sd)
  if not nonneg(sd.base_lr) then error("load_state_dict: base_lr must be a non-negative number", 2) end
  self.last_epoch, self.base_lr = math.tointeger(sd.last_epoch), sd.base_lr
  self.schedule = self:build(self.base_lr)
  self.last_lr = sd.last_lr or self.schedule(self.last_epoch + 1)
  self.optimizer:set_lr(self.last_lr)
end

-- a class: spec lists its options as for optimizers; build(self, base[,
-- first]) makes its schedule from the base rate (first: the value at unit
-- 1 when SequentialLR restarts it, PyTorch's closed form at last_epoch 0,
-- when that differs from the chain's)
local function scheduler(name, spec, build, extra)
  local cls = setmetatable({ type = name, build = build }, Scheduler)
  cls.__index = cls
  for k, v in pairs(extra or {}) do cls[k] = v end
  lr_scheduler[name] = function(opt, opts)
    check_optimizer(name, opt)
    local self = setmetatable(hyperparameters(name, spec, opts, nil, 2), cls)
    self.optimizer = opt
    if cls.validate then cls.validate(self, 2) end
    self.base_lr, self.last_epoch = base_of(opt), 0
    self.schedule = self:build(self.base_lr)
    -- PyTorch's constructor takes a first step to last_epoch 0
    self.last_lr = self.schedule(1)
    opt:set_lr(self.last_lr)
    return self
  end
  return cls
end

local function positive(v) return is_number(v) and v > 0 and v < math.huge end
local function count(v) return whole(v) and v >= 1 end
local function milestones(v)
  if type(v) ~= "table" or #v == 0 then return false end
  for i, m in ipairs(v) do
    if not count(m) or (i > 1 and m <= v[i - 1]) then return false end
  end
  return true
end
local function factor(v) return is_number(v) and v >= 0 and v <= 1 end

-- StepLR{step_size, gamma = 0.1}: times gamma every step_size epochs
-- (base_lr·gamma^floor(epoch / step_size))
scheduler("StepLR", { { "step_size", nil, count }, { "gamma", 0.1, nonneg } }, function(self, base)
  local size, gamma = self.step_size, self.gamma
  return schedule.chain(base, function(k, lr) return (k - 1) % size == 0 and lr * gamma or lr end)
end)

-- MultiStepLR{milestones = {...}, gamma = 0.1}: times gamma at each milestone
scheduler("MultiStepLR", { { "milestones", nil, milestones }, { "gamma", 0.1, nonneg } }, function(self, base)
  local at, gamma = {}, self.gamma
  for _, m in ipairs(self.milestones) do at[m] = true end
  return schedule.chain(base, function(k, lr) return at[k - 1] and lr * gamma or lr end)
end)

-- ExponentialLR{gamma}: times gamma every epoch (base_lr·gamma^epoch)
scheduler("ExponentialLR", { { "gamma", nil, nonneg } }, function(self, base)
  local gamma = self.gamma
  return schedule.chain(base, function(_, lr) return lr * gamma end)
end)

-- CosineAnnealingLR{T_max, eta_min = 0}: eta_min + (base_lr - eta_min)·(1 + cos(π·epoch/T_max))/2,
-- by PyTorch's recurrence (past T_max it climbs back, as PyTorch's)
scheduler("CosineAnnealingLR", { { "T_max", nil, count }, { "eta_min", 0, nonneg } }, function(self, base, first)
  local T, eta = self.T_max, self.eta_min
  return schedule.chain(first or base, function(k, lr)
    local e = k - 1
    if (e - 1 - T) % (2 * T) == 0 then return lr + (base - eta) * (1 - math.cos(math.pi / T)) / 2 end
    return (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T)) * (lr - eta) + eta
  end)
end, {
  -- the closed form at last_epoch 0, where SequentialLR restarts it
  restart = function(self, base)
    local eta = self.eta_min
    return eta + (base - eta) * (1 + math.cos(math.pi * 0 / self.T_max)) / 2
  end,
})

-- LinearLR{start_factor = 1/3, end_factor = 1, total_iters = 5}: the rate
-- times a factor going linearly from start_factor (epoch 0) to end_factor
-- (epoch total_iters), by PyTorch's recurrence
scheduler("LinearLR", { { "start_factor", 1 / 3, function(v) return factor(v) and v > 0 end },
  { "end_factor", 1, factor }, { "total_iters", 5, count } }, function(self, base)
  local s, e_f, T = self.start_factor, self.end_factor, self.total_iters
  return schedule.chain(base * s, function(k, lr)
    local e = k - 1
    if e > T then return lr end
    return lr * (1 + (e_f - s) / (T * s + (e - 1) * (e_f - s)))
  end)
end)

-- LambdaLR{lr_lambda = f}: base_lr·f(n) after n steps (f(0) at the start)
scheduler("LambdaLR", { { "lr_lambda", nil, function(v) return type(v) == "function" end } }, function(self, base)
  local f = self.lr_lambda
  return schedule.fn(function(k)
    local m = f(k - 1)
    if not is_number(m) then
      error(string.format("LambdaLR: lr_lambda(%d) returned %s, not a number", k - 1, guard.value(m)), 0)
    end
    return base * m
  end)
end)

-- SequentialLR{schedulers = {s1, s2, ...}, milestones = {...}}: PyTorch's
-- SequentialLR: from step milestones[i] on, schedulers[i + 1] from its
-- start (its closed form at 0), then its own chain.  The schedule is an
-- ae.schedule.sequence (whose milestones count from 1: m + 1).
local function schedulers(v) return type(v) == "table" and #v >= 2 end
scheduler("SequentialLR", { { "schedulers", nil, schedulers }, { "milestones", nil, milestones } },
  function(self, base)
    local parts, ms = {}, {}
    for i, sub in ipairs(self.schedulers) do
      parts[i] = i == 1 and sub:build(base) or sub:build(base, sub.restart and sub:restart(base))
    end
    for i, m in ipairs(self.milestones) do ms[i] = m + 1 end
    return schedule.sequence(parts, ms)
  end, {
    validate = function(self, level)
      if #self.milestones ~= #self.schedulers - 1 then
        error(string.format("SequentialLR: %d schedulers need %d milestones, got %d", #self.schedulers,
          #self.schedulers - 1, #self.milestones), level + 1)
      end
      for i, s in ipairs(self.schedulers) do
        local what = type(s) == "table" and s.type
        if what == "ReduceLROnPlateau" or what == "SequentialLR" then
          error(string.format("SequentialLR: schedulers[%d] is a %s, which has no schedule to sequence", i, what),
            level + 1)
        end
        if not (type(s) == "table" and getmetatable(getmetatable(s) or {}) == Scheduler) then
          error(string.format("SequentialLR: schedulers[%d] is %s, not an lr_scheduler", i, guard.value(s)), level + 1)
        end
        if s.optimizer ~= self.optimizer then
          error(string.format("SequentialLR: schedulers[%d] drives another optimizer", i), level + 1)
        end
      end
    end,
  })

-- ReduceLROnPlateau{mode = "min", factor = 0.1, patience = 10, threshold =
-- 1e-4, threshold_mode = "rel", cooldown = 0, min_lr = 0, eps = 1e-8}:
-- PyTorch 1.13's, step(metric) once per evaluation.  Not a schedule: the
-- rate depends on the metrics.
local Plateau = { type = "ReduceLROnPlateau" }
Plateau.__index = Plateau

local plateau_spec = {
  { "mode", "min", function(v) return v == "min" or v == "max" end },
  { "factor", 0.1, function(v) return is_number(v) and v >= 0 and v < 1 end },
  { "patience", 10, whole },
  { "threshold", 1e-4, nonneg },
  { "threshold_mode", "rel", function(v) return v == "rel" or v == "abs" end },
  { "cooldown", 0, whole },
  { "min_lr", 0, nonneg },
  { "eps", 1e-8, nonneg },
}
local plateau_doc = {
  mode = "\"min\" or \"max\"", factor = "a number in [0, 1)", patience = "an integer >= 0",
  threshold = "a finite number >= 0", threshold_mode = "\"rel\" or \"abs\"", cooldown = "an integer >= 0",
  min_lr = "a finite number >= 0", eps = "a finite number >= 0",
}

-- PyTorch's message names the option; ours says what it must be too
local function plateau_options(opts, level)
  local ok, h = pcall(hyperparameters, "ReduceLROnPlateau", plateau_spec, opts, nil, 1)
  if not ok then
    local key = type(h) == "string" and h:match("invalid ([%w_]+):")
    if key then h = h .. " (" .. key .. " must be " .. plateau_doc[key] .. ")" end
    error(guard.strip(h), level + 1)
  end
  return h
end

function lr_scheduler.ReduceLROnPlateau(opt, opts)
  check_optimizer("ReduceLROnPlateau", opt)
  local self = setmetatable(plateau_options(opts, 2), Plateau)
  self.optimizer, self.last_epoch = opt, 0
  self.best, self.num_bad_epochs, self.cooldown_counter = self.mode == "min" and math.huge or -math.huge, 0, 0
  self.last_lr = opt.lr
  return self
end

-- PyTorch's is_better, with its rounding (best·(1 - threshold))
local function is_better(self, a, best)
  local min, rel = self.mode == "min", self.threshold_mode == "rel"
  if min and rel then return a < best * (1 - self.threshold) end
  if min then return a < best - self.threshold end
  if rel then return a > best * (self.threshold + 1) end
  return a > best + self.threshold
end

function Plateau:step(metric)
  local current = metric
  if is_tensor(metric) then
    if metric:numel() ~= 1 then
      error("ReduceLROnPlateau:step: metric must be a number or a one-element tensor, got a tensor "
        .. shape_str(metric), 2)
    end
    current = metric:item()
  end
  if not (is_number(current) and current > -math.huge and current < math.huge) then
    error("ReduceLROnPlateau:step: metric must be a finite number, got " .. guard.value(current), 2)
  end
  self.last_epoch = self.last_epoch + 1
  if is_better(self, current, self.best) then
    self.best, self.num_bad_epochs = current, 0
  else
    self.num_bad_epochs = self.num_bad_epochs + 1
  end
  if self.cooldown_counter > 0 then
    self.cooldown_counter = self.cooldown_counter - 1
    self.num_bad_epochs = 0   -- bad epochs in cooldown do not count
  end
  if self.num_bad_epochs > self.patience then
    local old = self.optimizer.lr
    local new = math.max(old * self.factor, self.min_lr)
    if old - new > self.eps then self.optimizer:set_lr(new) end
    self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
  end
  self.last_lr = self.optimizer.lr
end

function Plateau:get_last_lr() return self.last_lr end

function Plateau:state_dict()
  local sd = { type = self.type, version = 2, last_epoch = self.last_epoch, best = self.best,
    num_bad_epochs = self.num_bad_epochs, cooldown_counter = self.cooldown_counter, last_lr = self.last_lr }
  for _, h in ipairs(plateau_spec) do sd[h[1]] = self[h[1]] end
  return sd
end

function Plateau:load_state_dict(sd)
  check_state(self, sd)
  local h = {}
  for _, o in ipairs(plateau_spec) do h[o[1]] = sd[o[1]] end
  h = plateau_options(h, 2)
  local best = sd.best
  if not (is_number(best) and (best < math.huge or h.mode == "min") and (best > -math.huge or h.mode == "max")) then
    error("load_state_dict: best must be a number (+inf in min mode, -inf in max mode before any metric)", 2)
  end
  for _, key in ipairs { "num_bad_epochs", "cooldown_counter" } do
    if not whole(sd[key]) then error("load_state_dict: " .. key .. " must be a non-negative integer", 2) end
  end
  for k, v in pairs(h) do self[k] = v end
  self.last_epoch, self.best = math.tointeger(sd.last_epoch), best
  self.num_bad_epochs, self.cooldown_counter = math.tointeger(sd.num_bad_epochs), math.tointeger(sd.cooldown_counter)
  -- the rate itself is the optimizer's (PyTorch's load leaves it too)
  if sd.last_lr ~= nil then self.last_lr = sd.last_lr end
end

return require("aerun.guard").module("ae.optim", optim)
