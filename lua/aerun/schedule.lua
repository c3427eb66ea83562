-- aerun.schedule: values that change with the epoch (ae.schedule): a KL
-- weight warmed up from 0 to 1, a noise level that decays, a learning rate
-- for opt:set_lr.  A schedule is a plain function(epoch) -> value, so any
-- Lua function is one too; the constructors below build the common ones.
-- Epochs count from 1: schedule(1) is the first epoch's value.  Epochs may
-- be fractional (epoch - 1 + batch/batches) for per-batch schedules.
--
--   local beta = ae.schedule.linear(0, 1, 10)    -- 0 at epoch 1, 1 from epoch 10 on
--   for epoch = 1, cfg.epochs do local b = beta(epoch) ... end

--- Values that change with the epoch: `ae.schedule`.  A schedule is a
-- function(epoch) → value (any Lua function is one); epochs count from 1
-- and may be fractional for per-batch schedules.
-- @module aerun.schedule

--- v at every epoch.
-- @param v a number
-- @return a schedule
-- @raise when v is not a finite number
-- @usage assert(ae.schedule.constant(3)(10) == 3)
-- @function constant

--- a at epoch 1, b at epoch n, a straight line between, b after (a KL warm-up is linear(0, 1, n)).
-- @param a
-- @param b
-- @param n an integer ≥ 1
-- @return a schedule
-- @usage local beta = ae.schedule.linear(0, 1, 11); assert(beta(6) == 0.5 and beta(20) == 1)
-- @function linear

--- From a at epoch 1 to b at epoch n along half a cosine, b after.
-- @param a
-- @param b
-- @param n an integer ≥ 1
-- @return a schedule
-- @usage local lr = ae.schedule.cosine(1, 0, 3); assert(math.abs(lr(2) - 0.5) < 1e-12)
-- @function cosine

--- a·gamma^(epoch - 1).
-- @param a
-- @param gamma
-- @return a schedule
-- @usage assert(ae.schedule.exponential(1, 0.5)(3) == 0.25)
-- @function exponential

--- Piecewise constant: `{value = a, gamma = 0.1, every = 10}`, `{value = a,
-- gamma =, milestones = {...}}` or `{values = {...}, milestones = {...}}`
-- (a milestone is the first epoch of the next value).
-- @param spec a table
-- @return a schedule
-- @raise on milestones that are not increasing integers ≥ 2
-- @usage local s = ae.schedule.step { values = { 1, 0.1 }, milestones = { 3 } }; assert(s(2) == 1 and s(3) == 0.1)
-- @function step

--- A knob's value at an epoch: s is a number (a constant), a function(epoch) or a callable table.
-- @param s
-- @param epoch
-- @return a number
-- @usage assert(ae.schedule.value(2, 5) == 2 and ae.schedule.value(function(e) return e end, 5) == 5)
-- @function value

local guard = require "aerun.guard"

local schedule = {}

local function is_number(v) return type(v) == "number" and v == v end

local function check_number(name, what, v)
  if not is_number(v) then
    error(string.format("schedule.%s: %s must be a number, got %s", name, what, guard.value(v)))
  end
  return v
end

local function check_count(name, what, v)
  if not (is_number(v) and v == math.floor(v) and v >= 1 and v < 2 ^ 53) then
    error(string.format("schedule.%s: %s must be an integer >= 1, got %s", name, what, guard.value(v)))
  end
  return math.tointeger(v)
end

local function check_epoch(name, epoch)
  if not is_number(epoch) then
    error(string.format("schedule.%s: epoch must be a number, got %s", name, guard.value(epoch)))
  end
  if epoch < 1 then
    error(string.format("schedule.%s: epochs count from 1, got %s", name, tostring(epoch)))
  end
end

-- the schedule: value(epoch) behind the check of the epoch.  A script
-- calls it directly, outside any function of the module, so it is guarded
-- on its own, under its constructor's name
local function make(name, value)
  return guard.wrap("schedule." .. name, function(epoch)
    check_epoch(name, epoch)
    return value(epoch)
  end)
end

-- progress from 0 at epoch 1 to 1 at epoch n, held at 1 after; a one-epoch
-- ramp is at its end from the start
local function progress(epoch, n)
  if n == 1 then return 1 end
  local t = (epoch - 1) / (n - 1)
  return t < 1 and t or 1
end

-- constant(v): v at every epoch
function schedule.constant(v)
  check_number("constant", "v", v)
  return make("constant", function() return v end)
end

-- a ramp from a at epoch 1 to b at epoch n, b after: between(t) is the
-- value at progress t in [0, 1]
local function ramp(name, a, b, n, between)
  check_number(name, "a", a)
  check_number(name, "b", b)
  n = check_count(name, "n", n)
  return make(name, function(epoch) return between(progress(epoch, n)) end)
end

-- linear(a, b, n): a at epoch 1, b at epoch n, a straight line between
-- and b after (a KL warmup is linear(0, 1, n))
function schedule.linear(a, b, n)
  return ramp("linear", a, b, n, function(t) return (1 - t) * a + t * b end)
end

-- cosine(a, b, n): from a at epoch 1 to b at epoch n along half a cosine
-- (slow at both ends), b after
function schedule.cosine(a, b, n)
  return ramp("cosine", a, b, n, function(t)
    if t == 0 then return a end
    return b + (a - b) * (1 + math.cos(math.pi * t)) / 2
  end)
end

-- exponential(a, gamma): a·gamma^(epoch - 1)
function schedule.exponential(a, gamma)
  check_number("exponential", "a", a)
  check_number("exponential", "gamma", gamma)
  return make("exponential", function(epoch) return a * gamma ^ (epoch - 1) end)
end

-- how many of the sorted milestones are <= epoch
local function passed(milestones, epoch)
  local k = 0
  while k < #milestones and milestones[k + 1] <= epoch do k = k + 1 end
  return k
end

local function check_milestones(ms)
  if type(ms) ~= "table" or #ms == 0 then
    error("schedule.step: milestones must be a non-empty list of epochs")
  end
  local list = {}
  for i, m in ipairs(ms) do
    if not (is_number(m) and m == math.floor(m) and m >= 2) then
      error(string.format("schedule.step: milestone %d must be an integer epoch >= 2 (the first "
        .. "epoch of the next value), got %s", i, tostring(m)))
    end
    if i > 1 and m <= ms[i - 1] then
      error("schedule.step: milestones must increase strictly")
    end
    list[i] = m
  end
  return list
end

-- step{...}: piecewise constant, in one of three forms
--   step{value = a, gamma = 0.1, every = 10}
--       a for epochs 1-10, a·gamma for 11-20, a·gamma² for 21-30, …
--       (PyTorch's StepLR with step_size = every)
--   step{value = a, gamma = 0.1, milestones = {30, 80}}
--       a before epoch 30, a·gamma from 30, a·gamma² from 80 (MultiStepLR)
--   step{values = {1e-3, 1e-4, 1e-5}, milestones = {30, 80}}
--       values[1] before epoch 30, values[2] from 30, values[3] from 80
-- gamma defaults to 0.1.  A milestone is the first epoch of the next value.
function schedule.step(spec)
  if type(spec) ~= "table" or rawget(spec, "__module") then
    error("schedule.step: expects a table: {value=, gamma=, every=}, {value=, gamma=, milestones=} "
      .. "or {values=, milestones=}")
  end
  local known = { value = true, values = true, gamma = true, every = true, milestones = true }
  for k in pairs(spec) do
    if not known[k] then
      error(string.format("schedule.step: unknown key %s (known: every, gamma, milestones, value, values)",
        tostring(k)))
    end
  end
  if spec.values ~= nil then
    if spec.value ~= nil or spec.gamma ~= nil or spec.every ~= nil then
      error("schedule.step: values = {...} goes with milestones only (not value, gamma or every)")
    end
    if type(spec.values) ~= "table" then error("schedule.step: values must be a list of numbers") end
    local values = {}
    for i, v in ipairs(spec.values) do values[i] = check_number("step", "values[" .. i .. "]", v) end
    local ms = check_milestones(spec.milestones)
    if #values ~= #ms + 1 then
      error(string.format("schedule.step: %d milestones need %d values, got %d", #ms, #ms + 1, #values))
    end
    return make("step", function(epoch) return values[passed(ms, epoch) + 1] end)
  end
  local a = check_number("step", "value", spec.value)
  local gamma = spec.gamma == nil and 0.1 or check_number("step", "gamma", spec.gamma)
  if (spec.every == nil) == (spec.milestones == nil) then
    error("schedule.step: give exactly one of every = n and milestones = {...}")
  end
  if spec.every ~= nil then
    local every = check_count("step", "every", spec.every)
    return make("step", function(epoch) return a * gamma ^ ((epoch - 1) // every) end)
  end
  local ms = check_milestones(spec.milestones)
  return make("step", function(epoch) return a * gamma ^ passed(ms, epoch) end)
end

-- value(s, epoch): a schedule's value at epoch, where s is a number (a
-- constant), a function(epoch) or a callable table.  Lets a script take
-- "a number or a schedule" for any knob.
function schedule.value(s, epoch)
  if is_number(s) then return s end
  local mt = type(s) == "table" and getmetatable(s)
  if type(s) ~= "function" and not (mt and mt.__call) then
    error("schedule.value: expects a number or a function(epoch), got " .. guard.value(s))
  end
  local v = s(epoch)
  if not is_number(v) then
    error(string.format("schedule.value: the schedule returned %s at epoch %s, not a number",
      tostring(v), tostring(epoch)))
  end
  return v
end

return require("aerun.guard").module("ae.schedule", schedule)
