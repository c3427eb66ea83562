-- ae.schedule: each constructor's value at chosen epochs (worked out by
-- hand from the definitions), the step forms, per-step and per-epoch
-- schedules through schedule.value, warm-ups, sequences and recurrences,
-- and errors.  (The lr_scheduler wrappers and warmup against PyTorch:
-- tests/optim_spec.lua with tests/golden/sched_golden.lua.)
require "aerun"   -- registers the compiled-in Lua modules
local schedule = require "aerun.schedule"

local function close(want, got, tol)
  tol = tol or 1e-12
  assert(math.abs(want - got) <= tol * math.max(1, math.abs(want)),
    ("expected %.17g, got %.17g"):format(want, got))
end

local function error_of(f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error")
  return tostring(err)
end

describe("ae.schedule", function()
  it("constant", function()
    local s = schedule.constant(0.3)
    assert.are.equal(0.3, s(1))
    assert.are.equal(0.3, s(1000))
  end)

  it("linear: a at epoch 1, b at epoch n, straight between, held after", function()
    local s = schedule.linear(0, 1, 11)
    assert.are.equal(0, s(1))
    close(0.1, s(2))
    close(0.5, s(6))
    assert.are.equal(1, s(11))
    assert.are.equal(1, s(50))
    close(0.05, s(1.5))   -- fractional epochs for per-batch schedules
    local down = schedule.linear(1e-3, 1e-4, 4)
    assert.are.equal(1e-3, down(1))
    close(1e-3 - 3e-4, down(2))
    assert.are.equal(1e-4, down(4))
    -- a one-epoch ramp is at its end from the start
    assert.are.equal(2, schedule.linear(1, 2, 1)(1))
  end)

  it("cosine: half a cosine from a to b, b after", function()
    local s = schedule.cosine(1, 0, 5)
    assert.are.equal(1, s(1))
    close((1 + math.cos(math.pi / 4)) / 2, s(2))
    close(0.5, s(3))
    close((1 + math.cos(3 * math.pi / 4)) / 2, s(4))
    close(0, s(5))
    assert.are.equal(0, s(9))
    local up = schedule.cosine(0.1, 0.3, 3)
    close(0.2, up(2))
  end)

  it("exponential: a·gamma^(epoch - 1)", function()
    local s = schedule.exponential(2, 0.5)
    assert.are.equal(2, s(1))
    assert.are.equal(1, s(2))
    assert.are.equal(0.125, s(5))
  end)

  it("step every n epochs", function()
    local s = schedule.step { value = 1, gamma = 0.1, every = 10 }
    assert.are.equal(1, s(1))
    assert.are.equal(1, s(10))
    close(0.1, s(11))
    close(0.1, s(20))
    close(0.01, s(21))
    local half = schedule.step { value = 8, gamma = 0.5, every = 1 }
    assert.are.equal(4, half(2))
    assert.are.equal(0.1, schedule.step { value = 1, every = 2 }(3))   -- gamma defaults to 0.1
  end)

  it("step at milestones, with gamma or with explicit values", function()
    local s = schedule.step { value = 1, gamma = 0.5, milestones = { 3, 6 } }
    assert.are.equal(1, s(2))
    assert.are.equal(0.5, s(3))
    assert.are.equal(0.5, s(5))
    assert.are.equal(0.25, s(6))
    assert.are.equal(0.25, s(100))
    local v = schedule.step { values = { 0.1, 0.01, 0.001 }, milestones = { 5, 8 } }
    assert.are.equal(0.1, v(4))
    assert.are.equal(0.01, v(5))
    assert.are.equal(0.01, v(7))
    assert.are.equal(0.001, v(8))
  end)

  it("value: numbers are constants, functions and callable tables are called", function()
    assert.are.equal(0.7, schedule.value(0.7, 3))
    assert.are.equal(6, schedule.value(function(e) return 2 * e end, 3))
    local callable = setmetatable({}, { __call = function(_, e) return e + 1 end })
    assert.are.equal(4, schedule.value(callable, 3))
    assert.are.equal(0.5, schedule.value(schedule.linear(0, 1, 3), 2))
    assert.matches("expects a number, a schedule or a function", error_of(schedule.value, "fast", 1))
    assert.matches("returned nil at epoch 2", error_of(schedule.value, function() end, 2))
  end)

  it("refuses epochs before 1 and bad constructor arguments", function()
    local s = schedule.linear(0, 1, 10)
    assert.matches("epochs count from 1, got 0", error_of(s, 0))
    assert.matches("epoch must be a number", error_of(s, "3"))
    assert.matches("n must be an integer >= 1, got 0", error_of(schedule.linear, 0, 1, 0))
    assert.matches("n must be an integer >= 1, got 2.5", error_of(schedule.cosine, 0, 1, 2.5))
    assert.matches("a must be a number", error_of(schedule.linear, nil, 1, 3))
    assert.matches("expects a table", error_of(schedule.step, 3))
    assert.matches("unknown key step_size", error_of(schedule.step, { value = 1, step_size = 2 }))
    assert.matches("exactly one of every", error_of(schedule.step, { value = 1 }))
    assert.matches("exactly one of every", error_of(schedule.step, { value = 1, every = 2, milestones = { 3 } }))
    assert.matches("2 milestones need 3 values, got 2",
      error_of(schedule.step, { values = { 1, 2 }, milestones = { 3, 5 } }))
    assert.matches("increase strictly", error_of(schedule.step, { value = 1, milestones = { 5, 5 } }))
    assert.matches("milestone 1 must be an integer >= 2", error_of(schedule.step, { value = 1, milestones = { 1 } }))
    assert.matches("goes with milestones only",
      error_of(schedule.step, { values = { 1, 2 }, gamma = 0.5, milestones = { 3 } }))
  end)
  it("per: every constructor takes {per = \"epoch\" | \"step\"}, epoch by default", function()
    local made = {
      schedule.constant(1, { per = "step" }), schedule.linear(0, 1, 3, { per = "step" }),
      schedule.cosine(0, 1, 3, { per = "step" }), schedule.exponential(1, 0.5, { per = "step" }),
      schedule.step({ value = 1, every = 2 }, { per = "step" }),
      schedule.chain(1, function(_, v) return v end, { per = "step" }),
      schedule.fn(function(k) return k end, { per = "step" }),
      schedule.warmup(2, 1, { per = "step" }), schedule.sequence({ 1, 2 }, { 3 }, { per = "step" }),
    }
    for i, s in ipairs(made) do
      assert.are.equal("step", s.per, "constructor " .. i)
      assert.is_true(schedule.is_schedule(s))
    end
    assert.are.equal("epoch", schedule.linear(0, 1, 3).per)
    assert.are.equal("epoch", schedule.warmup(2, 1).per)
    -- a warm-up or sequence counts what its parts count
    assert.are.equal("step", schedule.warmup(2, made[1]).per)
    assert.are.equal("step", schedule.sequence({ 0, made[2] }, { 5 }).per)
    assert.matches("per must be \"epoch\" or \"step\"", error_of(schedule.linear, 0, 1, 3, { per = "batch" }))
    assert.matches("unknown option 'pre'", error_of(schedule.constant, 1, { pre = "step" }))
    assert.matches("part after counts steps, the schedule counts epochs",
      error_of(schedule.warmup, 2, made[1], { per = "epoch" }))
    assert.matches("part 2 counts epochs, the schedule counts steps",
      error_of(schedule.sequence, { made[1], schedule.constant(1) }, { 3 }))
  end)

  it("value(s, epoch, step): a per-step schedule gets the step, anything else the epoch", function()
    local kl = schedule.linear(0, 1, 101, { per = "step" })
    local lr = schedule.linear(0, 1, 11)
    local f = function(e) return 10 * e end
    -- epoch 3, step 51 (50 steps into the run)
    assert.are.equal(0.5, schedule.value(kl, 3, 51))
    close(0.2, schedule.value(lr, 3, 51))
    assert.are.equal(30, schedule.value(f, 3, 51))
    assert.are.equal(0.25, schedule.value(0.25, 3, 51))
    -- fractional epochs for a per-epoch schedule, as before
    close(0.15, schedule.value(lr, 2.5, 51))
    -- the two-argument form is the epoch only: a per-step schedule needs the step
    assert.matches("a per%-step schedule needs the step", error_of(schedule.value, kl, 3))
    assert.matches("step must be a whole number", error_of(schedule.value, kl, 3, 2.5))
    assert.matches("steps count from 1, got 0", error_of(schedule.value, kl, 3, 0))
    assert.matches("steps count from 1, got 0", error_of(kl, 0))
  end)

  it("warmup: from after(1)·start_factor up a straight line to after(1) at n + 1, then after shifted", function()
    local after = schedule.exponential(2, 0.5)
    local w = schedule.warmup(4, after)
    assert.are.equal(0, w(1))              -- start_factor 0
    assert.are.equal(0.5, w(2))
    assert.are.equal(1, w(3))
    assert.are.equal(1.5, w(4))
    assert.are.equal(2, w(5))              -- after(1)
    assert.are.equal(1, w(6))              -- after(2)
    assert.are.equal(0.25, w(8))
    close(1.75, w(4.5))                    -- fractional epochs along the ramp
    local f = schedule.warmup(2, 1, { start_factor = 0.5 })
    assert.are.equal(0.5, f(1))
    assert.are.equal(0.75, f(2))
    assert.are.equal(1, f(3))
    assert.are.equal(1, schedule.warmup(3, 1, { start_factor = 1 })(1))
    assert.are.equal(7, schedule.warmup(1, function(e) return e + 6 end)(2))   -- a plain function as after
    assert.matches("start_factor must be a number in %[0, 1%], got 1.5",
      error_of(schedule.warmup, 2, 1, { start_factor = 1.5 }))
    assert.matches("start_factor must be a number in %[0, 1%], got %-0.1",
      error_of(schedule.warmup, 2, 1, { start_factor = -0.1 }))
    assert.matches("n must be an integer >= 1, got 0", error_of(schedule.warmup, 0, 1))
    assert.matches("after must be a number, a schedule or a function", error_of(schedule.warmup, 2, "x"))
    assert.matches("unknown option 'start'", error_of(schedule.warmup, 2, 1, { start = 0.1 }))
  end)

  it("sequence: a milestone is the first unit of the next part, which restarts at its own 1", function()
    local s = schedule.sequence({ schedule.linear(0, 1, 3), 5, schedule.exponential(8, 0.5) }, { 4, 6 })
    assert.are.equal(0, s(1))
    assert.are.equal(1, s(3))
    assert.are.equal(1, s(3.5))
    assert.are.equal(5, s(4))
    assert.are.equal(5, s(5))
    assert.are.equal(8, s(6))
    assert.are.equal(4, s(7))
    assert.are.equal(2, s(8))
    assert.matches("2 milestones need 3 parts, got 2", error_of(schedule.sequence, { 1, 2 }, { 3, 4 }))
    assert.matches("milestones must increase strictly", error_of(schedule.sequence, { 1, 2, 3 }, { 4, 4 }))
    assert.matches("milestone 1 must be an integer >= 2", error_of(schedule.sequence, { 1, 2 }, { 1 }))
    assert.matches("at least two", error_of(schedule.sequence, { 1 }, {}))
    assert.matches("part 2 returned nil", error_of(schedule.sequence({ 1, function() end }, { 2 }), 3))
  end)

  it("chain: a recurrence, replayed from the last unit asked for; its chain restarts sequences", function()
    local calls = 0
    local s = schedule.chain(1, function(k, v)
      calls = calls + 1
      return v * 0.9 + k
    end)
    assert.are.equal(1, s(1))
    local v2 = 1 * 0.9 + 2
    local v3 = v2 * 0.9 + 3
    assert.are.equal(v3, s(3))
    assert.are.equal(2, calls)
    assert.are.equal(v3 * 0.9 + 4, s(4))
    assert.are.equal(3, calls)              -- one more step, not a replay from 1
    assert.are.equal(v2, s(2))              -- earlier: replayed from 1
    assert.are.equal(1, s.chain(1, 123))    -- the first value, whatever came before
    assert.are.equal(10 * 0.9 + 5, s.chain(5, 10))
    assert.matches("epoch must be a whole number here %(a recurrence%)", error_of(s, 1.5))
    assert.matches("next returned nil at 2", error_of(schedule.chain(1, function() end), 2))
    assert.matches("next must be a function", error_of(schedule.chain, 1, 2))
    -- in a sequence or after a warm-up the chain restarts each part at its first value
    local seq = schedule.sequence({ 3, s }, { 3 })
    assert.are.equal(1, seq.chain(3, 99))
    assert.are.equal(99 * 0.9 + 2, seq.chain(4, 99))
    assert.are.equal(1, schedule.warmup(2, s).chain(3, 99))
    assert.is_nil(schedule.sequence({ 1, 2 }, { 3 }).chain)   -- closed forms only: no chain
  end)

  it("fn: a Lua function with a unit", function()
    local s = schedule.fn(function(k) return k * 2 end, { per = "step" })
    assert.are.equal(8, schedule.value(s, 1, 4))
    assert.matches("f returned the string", error_of(schedule.fn(function() return "x" end), 1))
    assert.matches("f must be a function", error_of(schedule.fn, 3))
  end)

  it("a KL warm-up per step gives a value per batch, not per epoch", function()
    -- 3 epochs of 4 batches, KL weight from 0 over the first 6 steps
    local beta = schedule.linear(0, 1, 7, { per = "step" })
    local seen, step = {}, 0
    for epoch = 1, 3 do
      for _ = 1, 4 do
        step = step + 1
        seen[#seen + 1] = schedule.value(beta, epoch, step)
      end
    end
    local distinct = {}
    for _, v in ipairs(seen) do distinct[v] = true end
    local n = 0
    for _ in pairs(distinct) do n = n + 1 end
    assert.are.equal(7, n)                  -- 0, 1/6, ..., 1
    assert.are.equal(0, seen[1])
    assert.are.equal(1, seen[7])
    assert.are.equal(1, seen[12])
  end)
end)
