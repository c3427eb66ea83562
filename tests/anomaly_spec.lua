-- Anomaly detection (runtime/core/anomaly.c, runtime/lua/anomaly.c): with
-- ae.detect_anomaly(true), the first tensor holding a NaN or an infinity,
-- among the results handed to the script and the gradients backward
-- computes, is recorded with the op that made it, its shape, and the
-- script's file:line; ae.anomaly() returns it.
local ae = require "aerun"
local nn = ae.nn

local THIS = debug.getinfo(1, "S").short_src

-- the line of the caller, to compare with a record's location
local function line() return debug.getinfo(2, "l").currentline end

describe("ae.detect_anomaly", function()
  after_each(function() ae.detect_anomaly(false) end)

  it("is off by default and records nothing then", function()
    assert.is_false(ae.detect_anomaly(false))
    local _ = ae.tensor { 0 }:log()
    assert.is_nil(ae.anomaly())
    assert.is_false(ae.detect_anomaly(true))
    assert.is_true(ae.detect_anomaly(true))
  end)

  it("names the first non-finite result: op, shape, count, first index and value, file:line", function()
    ae.detect_anomaly(true)
    local x = ae.tensor { { 1, 0, 2 }, { 0, 3, 4 } }
    local l = line() + 1
    local y = x:log()
    local a = ae.anomaly()
    assert.is_not_nil(a)
    assert.are.equal("output", a.what)
    assert.are.equal("log", a.op)
    assert.are.same({ 2, 3 }, a.shape)
    assert.are.equal(2, a.count)
    assert.are.equal(2, a.index)
    assert.are.equal(-math.huge, a.value)
    assert.are.equal(THIS .. ":" .. l, a.where)
    assert.matches("the output of log %(2×3%): 2 of 6 values non%-finite, the first %-inf at element 2", a.message)
    -- the first stays the first
    local _ = y * 0
    assert.are.equal("log", ae.anomaly().op)
    ae.clear_anomaly()
    assert.is_nil(ae.anomaly())
    local _ = ae.tensor { -1 }:sqrt()
    assert.are.equal("sqrt", ae.anomaly().op)
    assert.is_true(ae.anomaly().value ~= ae.anomaly().value)
  end)

  it("names the backward that made a gradient non-finite", function()
    ae.detect_anomaly(true)
    local w = ae.tensor { 1, 0, 4 }:requires_grad_()
    local loss = w:sqrt():sum()   -- finite forward, d/dw sqrt(w) = inf at 0
    assert.is_nil(ae.anomaly())
    local l = line() + 1
    loss:backward()
    local a = ae.anomaly()
    assert.are.equal("gradient", a.what)
    assert.are.equal("sqrt", a.op)
    assert.are.same({ 3 }, a.shape)
    assert.are.equal(math.huge, a.value)
    assert.are.equal(THIS .. ":" .. l .. " in backward", a.where)
    assert.matches("the gradient computed by the backward of sqrt for an input", a.message)
  end)

  it("reports a NaN born inside a module at the script's line, with the library's line beside it", function()
    ae.detect_anomaly(true)
    ae.manual_seed(1)
    local m = nn.Sequential { nn.Linear(3, 2), nn.Sigmoid() }
    ae.no_grad(function() m[1].weight:fill_(math.huge) end)
    ae.clear_anomaly()   -- the infinite weight itself is the script's doing
    local x = ae.tensor { { 1, -1, 0 } }
    local l = line() + 1
    local _ = m(x)
    local a = ae.anomaly()
    assert.are.equal("linear", a.op)
    assert.matches("^" .. THIS:gsub("%p", "%%%0") .. ":" .. l .. " %(in lua/aerun/nn.lua:%d+%)$", a.where)
  end)

  it("finds where a training step first went non-finite", function()
    ae.detect_anomaly(true)
    ae.manual_seed(2)
    local model = ae.models.vae(6, 5, 2)
    local opt = ae.optim.SGD(model:parameters(), { lr = 1 })
    local x = ae.rand(4, 6)
    -- log(0) in a loss written by hand: BCE without its clamp
    local recon = model(x)
    local loss = -(x * (recon * 0):log()):sum()
    assert.are.equal("log", ae.anomaly().op)
    ae.clear_anomaly()
    opt:zero_grad()
    local ok = pcall(function() loss:backward() end)
    assert.is_true(ok)
    local a = ae.anomaly()
    assert.is_not_nil(a, "a NaN gradient went unnoticed")
    assert.are.equal("gradient", a.what)
  end)
end)
