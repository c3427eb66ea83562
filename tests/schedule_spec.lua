-- ae.schedule: each constructor's value at chosen epochs (worked out by
-- hand from the definitions), the step forms, schedule.value, and errors.
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
    assert.matches("expects a number or a function", error_of(schedule.value, "fast", 1))
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
    assert.matches("milestone 1 must be an integer epoch >= 2", error_of(schedule.step, { value = 1, milestones = { 1 } }))
    assert.matches("goes with milestones only",
      error_of(schedule.step, { values = { 1, 2 }, gamma = 0.5, milestones = { 3 } }))
  end)
end)
