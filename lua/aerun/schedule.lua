-- aerun.schedule: values that change with training (ae.schedule): a KL
-- weight warmed up from 0 to 1, a noise level that decays, a learning rate
-- for opt:set_lr, a penalty weight λ.  One system for all of them, per
-- epoch or per optimizer step; ae.optim.lr_scheduler's PyTorch names are
-- thin wrappers over it.
--
-- A schedule is a callable table with a field `per` ("epoch" or "step"):
-- s(1) is the value of the first epoch (or step), s(k) of the k-th.  A
-- per-epoch schedule also takes fractional epochs (epoch - 1 + batch /
-- batches); a per-step one, and a recurrence (chain), whole units only.
-- Any Lua function(epoch) works wherever a per-epoch schedule does.
--
--   local beta = ae.schedule.linear(0, 1, 2000, {per = "step"})   -- KL warm-up over 2000 steps
--   local lr = ae.schedule.warmup(500, ae.schedule.cosine(1e-3, 1e-5, 9500, {per = "step"}))
--   opt:set_lr(ae.schedule.value(lr, epoch, step))    -- per step: s(step); per epoch: s(epoch)
--
-- A schedule that follows a recurrence (ae.schedule.chain, what PyTorch's
-- chainable lr_schedulers are) also has a field `chain`, function(k, v) ->
-- the value at unit k given the value v at unit k - 1; the lr_scheduler
-- wrappers apply it to the optimizer's current rate, as PyTorch does.

--- Values that change with training: `ae.schedule`.  A schedule is a
-- callable table with a field `per` ("epoch", the default, or "step"):
-- `s(1)` is the first epoch's (or step's) value.  Per-epoch schedules take
-- fractional epochs too; any Lua function(epoch) works where a per-epoch
-- schedule does.  Every constructor takes an optional last argument
-- `opts = {per = "epoch" | "step"}`.
-- @module aerun.schedule

--- v at every unit.
-- @param v a number
-- @param[opt] opts `{per = "epoch" | "step"}`
-- @return a schedule
-- @raise when v is not a number
-- @usage assert(ae.schedule.constant(3)(10) == 3)
-- @function constant

--- a at unit 1, b at unit n, a straight line between, b after (a KL warm-up is linear(0, 1, n)).
-- @param a
-- @param b
-- @param n an integer ≥ 1
-- @param[opt] opts `{per = "epoch" | "step"}`
-- @return a schedule
-- @usage local beta = ae.schedule.linear(0, 1, 11); assert(beta(6) == 0.5 and beta(20) == 1)
-- local kl = ae.schedule.linear(0, 1, 2001, { per = "step" }); assert(kl.per == "step" and kl(1001) == 0.5)
-- @function linear

--- From a at unit 1 to b at unit n along half a cosine, b after.
-- @param a
-- @param b
-- @param n an integer ≥ 1
-- @param[opt] opts `{per = "epoch" | "step"}`
-- @return a schedule
-- @usage local lr = ae.schedule.cosine(1, 0, 3); assert(math.abs(lr(2) - 0.5) < 1e-12)
-- @function cosine

--- a·gamma^(unit - 1).
-- @param a
-- @param gamma
-- @param[opt] opts `{per = "epoch" | "step"}`
-- @return a schedule
-- @usage assert(ae.schedule.exponential(1, 0.5)(3) == 0.25)
-- @function exponential

--- Piecewise constant: `{value = a, gamma = 0.1, every = 10}`, `{value = a,
-- gamma =, milestones = {...}}` or `{values = {...}, milestones = {...}}`
-- (a milestone is the first unit of the next value).
-- @param spec a table
-- @param[opt] opts `{per = "epoch" | "step"}`
-- @return a schedule
-- @raise on milestones that are not increasing integers ≥ 2
-- @usage local s = ae.schedule.step { values = { 1, 0.1 }, milestones = { 3 } }; assert(s(2) == 1 and s(3) == 0.1)
-- @function step

--- A recurrence, PyTorch's chainable form: a at unit 1, then
-- `next(k, v)` at unit k ≥ 2 from the value v at unit k - 1 (whole units
-- only).  The schedule's field `chain(k, v)` is that step (a at k = 1);
-- the lr_scheduler wrappers apply it to the optimizer's current rate.
-- @param a the first value
-- @param next function(k, v) -> the value at unit k
-- @param[opt] opts `{per = "epoch" | "step"}`
-- @return a schedule
-- @raise when next returns something other than a number
-- @usage local s = ae.schedule.chain(1, function(k, v) return v * 0.5 end); assert(s(3) == 0.25 and s.chain(4, 8) == 4)
-- @function chain

--- A Lua function as a schedule with a unit: `fn(f, {per = "step"})` is
-- f(step) for schedule.value.
-- @param f function(unit) -> a number
-- @param[opt] opts `{per = "epoch" | "step"}`
-- @return a schedule
-- @usage local s = ae.schedule.fn(function(k) return 1 / k end, { per = "step" }); assert(ae.schedule.value(s, 1, 4) == 0.25)
-- @function fn

--- A linear warm-up before a schedule: over units 1..n the value rises
-- along a straight line from `after(1)·start_factor` (at unit 1) towards
-- `after(1)`, reached at unit n + 1; from there on it is after shifted by
-- n (unit n + k has after(k)).  Exactly: `after(1)·(f + (1 - f)·(k - 1)/n)`
-- for k ≤ n, which is PyTorch's LinearLR(start_factor = f, end_factor = 1,
-- total_iters = n) in its closed form, followed by after as SequentialLR
-- with milestone n does.  `start_factor` defaults to 0 (the first value is
-- 0) and may be anything in [0, 1]; `per` defaults to after's unit.
-- @param n an integer ≥ 1, the warm-up's length
-- @param after a number, a schedule or a function
-- @param[opt] opts `{per =, start_factor = 0}`
-- @return a schedule
-- @raise when start_factor is outside [0, 1], or per differs from after's
-- @usage local lr = ae.schedule.warmup(4, ae.schedule.constant(1, { per = "step" }))
-- assert(lr.per == "step" and lr(1) == 0 and lr(3) == 0.5 and lr(5) == 1)
-- @function warmup

--- Schedules one after another, PyTorch's SequentialLR: a milestone is
-- the first unit of the next schedule, which restarts at its own 1.
-- (PyTorch counts from 0: its milestone m is milestone m + 1 here.)
-- @param parts a list of schedules, numbers or functions (one more than milestones)
-- @param milestones increasing integers ≥ 2
-- @param[opt] opts `{per =}` (defaults to the parts' unit; they must agree)
-- @return a schedule
-- @raise when the counts do not fit, or the parts' units differ
-- @usage local s = ae.schedule.sequence({ 1, ae.schedule.exponential(2, 0.5) }, { 3 })
-- assert(s(2) == 1 and s(3) == 2 and s(4) == 1)
-- @function sequence

--- A knob's value: s is a number (a constant), a schedule or a
-- function(epoch).  A per-step schedule gets `step`, anything else
-- `epoch`; the two-argument form (epoch only) refuses a per-step schedule.
-- @param s
-- @param epoch
-- @param[opt] step the optimizer step, counting from 1
-- @return a number
-- @raise when s is a per-step schedule and step is missing, or s returns something other than a number
-- @usage assert(ae.schedule.value(2, 5) == 2 and ae.schedule.value(function(e) return e end, 5) == 5)
-- assert(ae.schedule.value(ae.schedule.linear(0, 1, 3, { per = "step" }), 1, 2) == 0.5)
-- @function value

--- Whether v is a schedule made by this module (a callable table with `per`).
-- @param v
-- @return a boolean
-- @usage assert(ae.schedule.is_schedule(ae.schedule.constant(1)) and not ae.schedule.is_schedule(print))
-- @function is_schedule

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

-- opts of a constructor: nil or a table of known keys; per is "epoch" or
-- "step" (nil: the caller's default)
local function options(name, opts, known)
  known = known or { per = true }
  opts = guard.options("schedule." .. name, opts, known)
  if opts.per ~= nil and opts.per ~= "epoch" and opts.per ~= "step" then
    error(string.format("schedule.%s: per must be \"epoch\" or \"step\", got %s", name, guard.value(opts.per)))
  end
  return opts
end

-- Schedules are callable tables.  Each constructor has its own metatable,
-- whose __call is guarded under the constructor's name: a script calls a
-- schedule directly, outside any function of the module.
local metas, is_meta = {}, {}

local function call(s, x)
  local unit = s.per
  if not is_number(x) then
    error(string.format("schedule.%s: %s must be a number, got %s", s.name, unit, guard.value(x)))
  end
  if x < 1 then error(string.format("schedule.%s: %ss count from 1, got %s", s.name, unit, tostring(x))) end
  if x == math.huge then error(string.format("schedule.%s: %s must be finite", s.name, unit)) end
  if x ~= math.floor(x) and (unit == "step" or s._whole) then
    error(string.format("schedule.%s: %s must be a whole number here (%s), got %s", s.name, unit,
      unit == "step" and "a per-step schedule" or "a recurrence", tostring(x)))
  end
  return s._at(x)
end

local function make(name, per, at, fields)
  local mt = metas[name]
  if not mt then
    mt = { __call = guard.wrap("schedule." .. name, call, 1), __name = "ae.schedule",
      __tostring = function(s) return "schedule." .. s.name .. " (per " .. s.per .. ")" end }
    metas[name], is_meta[mt] = mt, true
  end
  local s = fields or {}
  s.name, s.per, s._at = name, per or "epoch", at
  return setmetatable(s, mt)
end

local function is_schedule(v) return type(v) == "table" and is_meta[getmetatable(v)] == true end

local function is_callable(v)
  if type(v) == "function" then return true end
  local mt = type(v) == "table" and getmetatable(v)
  return mt and mt.__call ~= nil or false
end

-- a part of a warm-up or sequence: value(k) and its unit (nil for a
-- number or a plain function, which fit either)
local function part_of(name, what, p)
  if is_number(p) then return function() return p end, nil end
  if is_schedule(p) then return p, p.per end
  if is_callable(p) then
    return function(k)
      local v = p(k)
      if not is_number(v) then
        error(string.format("schedule.%s: %s returned %s at %s, not a number", name, what, guard.value(v), tostring(k)))
      end
      return v
    end, nil
  end
  error(string.format("schedule.%s: %s must be a number, a schedule or a function, got %s", name, what, guard.value(p)))
end

-- progress from 0 at unit 1 to 1 at unit n, held at 1 after; a one-unit
-- ramp is at its end from the start
local function progress(x, n)
  if n == 1 then return 1 end
  local t = (x - 1) / (n - 1)
  return t < 1 and t or 1
end

-- constant(v): v at every unit
function schedule.constant(v, opts)
  check_number("constant", "v", v)
  opts = options("constant", opts)
  return make("constant", opts.per, function() return v end)
end

-- a ramp from a at unit 1 to b at unit n, b after: between(t) is the
-- value at progress t in [0, 1]
local function ramp(name, a, b, n, opts, between)
  check_number(name, "a", a)
  check_number(name, "b", b)
  n = check_count(name, "n", n)
  opts = options(name, opts)
  return make(name, opts.per, function(x) return between(progress(x, n)) end)
end

-- linear(a, b, n): a at unit 1, b at unit n, a straight line between and
-- b after (a KL warm-up is linear(0, 1, n))
function schedule.linear(a, b, n, opts)
  return ramp("linear", a, b, n, opts, function(t) return (1 - t) * a + t * b end)
end

-- cosine(a, b, n): from a at unit 1 to b at unit n along half a cosine
-- (slow at both ends), b after
function schedule.cosine(a, b, n, opts)
  return ramp("cosine", a, b, n, opts, function(t)
    if t == 0 then return a end
    return b + (a - b) * (1 + math.cos(math.pi * t)) / 2
  end)
end

-- exponential(a, gamma): a·gamma^(unit - 1)
function schedule.exponential(a, gamma, opts)
  check_number("exponential", "a", a)
  check_number("exponential", "gamma", gamma)
  opts = options("exponential", opts)
  return make("exponential", opts.per, function(x) return a * gamma ^ (x - 1) end)
end

-- how many of the sorted milestones are <= x
local function passed(milestones, x)
  local k = 0
  while k < #milestones and milestones[k + 1] <= x do k = k + 1 end
  return k
end

local function check_milestones(name, ms)
  if type(ms) ~= "table" or #ms == 0 then
    error(string.format("schedule.%s: milestones must be a non-empty list of units", name))
  end
  local list = {}
  for i, m in ipairs(ms) do
    if not (is_number(m) and m == math.floor(m) and m >= 2 and m < 2 ^ 53) then
      error(string.format("schedule.%s: milestone %d must be an integer >= 2 (the first "
        .. "epoch or step of the next value), got %s", name, i, tostring(m)))
    end
    if i > 1 and m <= ms[i - 1] then
      error(string.format("schedule.%s: milestones must increase strictly", name))
    end
    list[i] = math.tointeger(m)
  end
  return list
end

-- step{...}: piecewise constant, in one of three forms
--   step{value = a, gamma = 0.1, every = 10}
--       a for units 1-10, a·gamma for 11-20, a·gamma² for 21-30, …
--   step{value = a, gamma = 0.1, milestones = {30, 80}}
--       a before unit 30, a·gamma from 30, a·gamma² from 80
--   step{values = {1e-3, 1e-4, 1e-5}, milestones = {30, 80}}
--       values[1] before unit 30, values[2] from 30, values[3] from 80
-- gamma defaults to 0.1.  A milestone is the first unit of the next value.
function schedule.step(spec, opts)
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
  opts = options("step", opts)
  if spec.values ~= nil then
    if spec.value ~= nil or spec.gamma ~= nil or spec.every ~= nil then
      error("schedule.step: values = {...} goes with milestones only (not value, gamma or every)")
    end
    if type(spec.values) ~= "table" then error("schedule.step: values must be a list of numbers") end
    local values = {}
    for i, v in ipairs(spec.values) do values[i] = check_number("step", "values[" .. i .. "]", v) end
    local ms = check_milestones("step", spec.milestones)
    if #values ~= #ms + 1 then
      error(string.format("schedule.step: %d milestones need %d values, got %d", #ms, #ms + 1, #values))
    end
    return make("step", opts.per, function(x) return values[passed(ms, x) + 1] end)
  end
  local a = check_number("step", "value", spec.value)
  local gamma = spec.gamma == nil and 0.1 or check_number("step", "gamma", spec.gamma)
  if (spec.every == nil) == (spec.milestones == nil) then
    error("schedule.step: give exactly one of every = n and milestones = {...}")
  end
  if spec.every ~= nil then
    local every = check_count("step", "every", spec.every)
    return make("step", opts.per, function(x) return a * gamma ^ ((x - 1) // every) end)
  end
  local ms = check_milestones("step", spec.milestones)
  return make("step", opts.per, function(x) return a * gamma ^ passed(ms, x) end)
end

-- chain(a, next): a at unit 1, next(k, v) at unit k from v at k - 1.  The
-- value at k replays the recurrence from the last unit asked for (from 1
-- when k is earlier), so a loop over k costs one step each.
function schedule.chain(a, next_value, opts)
  check_number("chain", "a", a)
  if not is_callable(next_value) then
    error("schedule.chain: next must be a function(k, v), got " .. guard.value(next_value))
  end
  opts = options("chain", opts)
  local function chain(k, v)
    if k == 1 then return a end
    local r = next_value(k, v)
    if not is_number(r) then
      error(string.format("schedule.chain: next returned %s at %s, not a number", guard.value(r), tostring(k)))
    end
    return r
  end
  local memo_k, memo_v = 1, a
  local function at(k)
    if k < memo_k then memo_k, memo_v = 1, a end
    for j = math.tointeger(memo_k) + 1, math.tointeger(k) do memo_v = chain(j, memo_v) end
    memo_k = k
    return memo_v
  end
  return make("chain", opts.per, at, { chain = chain, _whole = true })
end

-- fn(f): a function as a schedule with a unit
function schedule.fn(f, opts)
  if not is_callable(f) then error("schedule.fn: f must be a function(unit), got " .. guard.value(f)) end
  opts = options("fn", opts)
  local value = part_of("fn", "f", f)
  return make("fn", opts.per, value)
end

-- the unit of a warm-up or sequence: opts.per, else the parts' own
local function unit_of(name, per, units)
  for i, u in pairs(units) do
    if per == nil then per = u end
    if u ~= per then
      error(string.format("schedule.%s: part %s counts %ss, the schedule counts %ss (per)", name, tostring(i), u, per))
    end
  end
  return per
end

-- sequence(parts, milestones): parts[i] from milestone i - 1 on, counting
-- from its own 1; its chain restarts each part at its first value (as
-- SequentialLR's step(0) does) and applies the part's own chain after
function schedule.sequence(parts, milestones, opts)
  if type(parts) ~= "table" or is_schedule(parts) or #parts < 2 then
    error("schedule.sequence: parts must be a list of at least two schedules, numbers or functions")
  end
  local ms = check_milestones("sequence", milestones)
  if #parts ~= #ms + 1 then
    error(string.format("schedule.sequence: %d milestones need %d parts, got %d", #ms, #ms + 1, #parts))
  end
  opts = options("sequence", opts)
  local values, units, chains = {}, {}, {}
  for i, p in ipairs(parts) do
    values[i], units[i] = part_of("sequence", "part " .. i, p)
    chains[i] = is_schedule(p) and p.chain or nil
  end
  local per = unit_of("sequence", opts.per, units)
  local function locate(x)
    local i = passed(ms, x) + 1
    return i, x - (i == 1 and 1 or ms[i - 1]) + 1
  end
  local fields = {}
  if next(chains) then
    fields.chain = function(k, v)
      local i, j = locate(k)
      if j == 1 or not chains[i] then return values[i](j) end
      return chains[i](j, v)
    end
  end
  return make("sequence", per, function(x)
    local i, j = locate(x)
    return values[i](j)
  end, fields)
end

-- warmup(n, after): after(1)·(f + (1 - f)·(k - 1)/n) for k <= n, after(k - n) from n + 1
function schedule.warmup(n, after, opts)
  n = check_count("warmup", "n", n)
  local value, unit = part_of("warmup", "after", after)
  opts = options("warmup", opts, { per = true, start_factor = true })
  local f = opts.start_factor == nil and 0 or opts.start_factor
  if not (is_number(f) and f >= 0 and f <= 1) then
    error("schedule.warmup: start_factor must be a number in [0, 1], got " .. guard.value(f))
  end
  local per = unit_of("warmup", opts.per, { after = unit })
  local function ramp_at(x) return value(1) * (f + (1 - f) * (x - 1) / n) end
  local fields = {}
  local chain = is_schedule(after) and after.chain
  if chain then
    fields.chain = function(k, v)
      if k <= n then return ramp_at(k) end
      return chain(k - n, v)
    end
  end
  return make("warmup", per, function(x)
    if x < n + 1 then return ramp_at(x) end
    return value(x - n)
  end, fields)
end

-- value(s, epoch[, step]): a knob's value, where s is a number (a
-- constant), a schedule or a function(epoch).  Lets a script take "a
-- number or a schedule" for any knob.
function schedule.value(s, epoch, step)
  if is_number(s) then return s end
  if not is_callable(s) then
    error("schedule.value: expects a number, a schedule or a function(epoch), got " .. guard.value(s))
  end
  local x, unit = epoch, "epoch"
  if is_schedule(s) and s.per == "step" then
    if step == nil then
      error("schedule.value: a per-step schedule needs the step: schedule.value(s, epoch, step)")
    end
    x, unit = step, "step"
  end
  local v = s(x)
  if not is_number(v) then
    error(string.format("schedule.value: the schedule returned %s at %s %s, not a number",
      tostring(v), unit, tostring(x)))
  end
  return v
end

-- is_schedule(v): true for what the constructors above return
schedule.is_schedule = is_schedule

return require("aerun.guard").module("ae.schedule", schedule)
