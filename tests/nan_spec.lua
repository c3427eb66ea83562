-- Numerical faults in a run (lua/aerun/experiment.lua, Run:step): a loss
-- that becomes NaN or infinite stops the run with a message naming the
-- epoch, the step and the first tensor that went non-finite, and keeps the
-- last good checkpoint (--on-nan=stop, the default); --on-nan=skip skips
-- such steps and goes on.  Anomaly detection is on in runs by default;
-- --detect-anomaly=false turns it off and the message says how to get the
-- tensor back.
local ae = require "aerun"

local process = require "tests.helpers.process"
local root, aerun, quote, sh = process.root, process.aerun, process.quote, process.sh

-- a new directory, removed when the test ends
local function tmpdir()
  local dir = process.tmpdir()
  finally(function() os.execute("rm -rf " .. quote(dir)) end)
  return dir
end

-- a small AE on 256 MNIST images, 4 batches an epoch; at the step given
-- by --poison (the n-th batch of the run) its loss takes log(0) on the way
local SCRIPT = [[
local ae = require "aerun"
local ex = ae.experiment
local cfg = ex.config { epochs = 3, batch_size = 64, lr = 1e-3, poison = 0, seed = 1 }
ae.manual_seed(cfg.seed)
local train = ex.dataset("mnist", "train", { limit = 256 })
local model = ae.models.mlp_ae({ 784, 16 })
local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
local run = ex.start("nan", cfg, { model = model, optimizer = opt })
local batches = 0
for _ in run:epochs() do
  for x in run:batches(train) do
    batches = batches + 1
    opt:zero_grad()
    local recon = model(x)
    if batches == cfg.poison then
      recon = (recon * 0):log()   -- POISON
    end
    local l = ae.loss.mse(recon, x)
    l:backward()
    opt:step()
    run:step(l)
  end
  run:end_epoch {}
end
run:finish { steps = run.step_count }
]]

local POISON_LINE
do
  local n = 0
  for l in SCRIPT:gmatch("([^\n]*)\n") do
    n = n + 1
    if l:find("POISON", 1, true) then POISON_LINE = n end
  end
end

local function setup()
  local dir = tmpdir()
  local f = assert(io.open(dir .. "/nan.lua", "w"))
  f:write(SCRIPT)
  f:close()
  return dir
end

local function run(dir, args)
  return sh(string.format("cd %s && AERUN_DATA=%s %s nan.lua --quiet %s </dev/null", quote(dir),
    quote(root .. "/data"), quote(aerun), args))
end

-- every parameter of the model in a checkpoint is finite
local function assert_finite(path, what)
  local model = ae.checkpoint.model(path)
  for name, p in model:named_parameters() do
    assert.are.equal(0, (ae.count_nonfinite(p)), name .. " " .. what)
  end
end

describe("a loss that goes non-finite", function()
  it("stops the run naming epoch, step and the first non-finite tensor, and keeps the last checkpoint", function()
    local dir = setup()
    -- step 6 is the second of epoch 2: epoch 1's checkpoint exists by then
    local out, ok, code = run(dir, "--poison=6")
    assert.is_not_true(ok, out)
    assert.are.equal(1, code, out)
    assert.matches("loss became %-?[a-z]+ at epoch 2, step 6", out)
    assert.matches("first non%-finite tensor: the output of log %(64×784%)", out)
    assert.matches("at nan%.lua:" .. POISON_LINE, out)
    assert.matches("the last good checkpoint is checkpoints/nan/poison=6/checkpoint%.h5", out)
    assert.matches("%-%-on%-nan=skip", out)
    -- the checkpoint is epoch 1's, loadable, with finite parameters
    local ck = ae.h5.open(dir .. "/checkpoints/nan/poison=6/checkpoint.h5", "r")
    local epoch = ck:attrs("train").epoch
    ck:close()
    assert.are.equal(1, epoch)
    assert_finite(dir .. "/checkpoints/nan/poison=6/checkpoint.h5", "is not finite in the kept checkpoint")
  end)

  it("with --detect-anomaly=false still names epoch and step, and says how to find the tensor", function()
    local dir = setup()
    local out, ok = run(dir, "--poison=2 --detect-anomaly=false")
    assert.is_not_true(ok, out)
    assert.matches("loss became %-?[a-z]+ at epoch 1, step 2 %(%-%-detect%-anomaly names the first non%-finite tensor%)",
      out)
    assert.not_matches("the output of log", out)
  end)

  it("--on-nan=skip skips the step without updating, says so, and finishes the run", function()
    local dir = setup()
    local out, ok = run(dir, "--poison=3 --on-nan=skip")
    assert.is_true(ok, out)
    assert.matches("warning: loss is %-?[a-z]+ at epoch 1, step 3; first non%-finite tensor: the output of log", out)
    assert.matches("step skipped\n", out)
    -- 12 batches, one skipped: 11 steps, and the optimizer left the
    -- parameters alone at the skipped one, so the run trained on
    assert.matches('"steps":11', out)
    assert_finite(dir .. "/checkpoints/nan/poison=3/checkpoint.h5", "went non-finite in a skipped step")
  end)

  it("an optimizer with skip_nonfinite leaves parameters and state alone when a gradient is not finite", function()
    local w = ae.tensor { 1, 2 }:requires_grad_()
    local opt = ae.optim.Adam({ w }, { lr = 0.1 })
    opt.skip_nonfinite = true
    w.grad = ae.tensor { 1, 0 / 0 }
    assert.is_false(opt:step())
    assert.are.same({ 1, 2 }, w:totable())
    assert.are.equal(0, opt.step_count)
    assert.are.equal(1, opt.skipped)
    w.grad = ae.tensor { 1, 1 }
    assert.is_not_false(opt:step())
    assert.are.equal(1, opt.step_count)
    assert.is_true(w:totable()[1] < 1)
    -- without the flag the update runs, NaN and all
    opt.skip_nonfinite = nil
    w.grad = ae.tensor { math.huge, 0 }
    opt:step()
    assert.are.equal(1, ae.count_nonfinite(w))
  end)
end)

describe("ae.count_nonfinite", function()
  it("counts NaN and ±inf and gives the first one's index, views included", function()
    assert.are.same({ 0 }, { (ae.count_nonfinite(ae.tensor { 1, 2, 3 })) })
    local n, first = ae.count_nonfinite(ae.tensor { { 1, 0 / 0 }, { math.huge, -math.huge } })
    assert.are.equal(3, n)
    assert.are.equal(2, first)
    local t = ae.tensor { { 1, 0 / 0 }, { 3, 4 } }:t()   -- non-contiguous: 1, 3, nan, 4
    n, first = ae.count_nonfinite(t)
    assert.are.equal(1, n)
    assert.are.equal(3, first)
    assert.has_error(function() ae.count_nonfinite("x") end)
  end)
end)
