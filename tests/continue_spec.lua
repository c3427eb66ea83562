-- Training that continues (issue 14): --epochs=N --resume after a shorter
-- run, strict and lenient --resume, no folder left by a failed start,
-- best.h5 and early stopping, steps.csv across a stop, time across
-- resumes, ex.evaluate's table.  Runs are single-threaded (the GEMMs are
-- then deterministic), so "equal" means bit for bit.
local ae = require "aerun"

local process = require "tests.helpers.process"
local root, aerun, sh, exists, quote = process.root, process.aerun, process.sh, process.exists, process.quote

local check = require "tests.helpers.check"

-- parameters and optimizer state equal bit for bit
local function assert_same_params(a, b)
  local sa = check.checkpoint_state(a)
  assert.is_nil(check.state_difference(sa, check.checkpoint_state(b)), a .. " and " .. b .. " differ")
  local n = 0
  for _ in pairs(sa) do n = n + 1 end
  assert.is_true(n >= 4)
end

-- metrics.csv as rows of name -> string, without the wall-clock columns
local timing = { seconds = true, eval_seconds = true, samples_per_second = true }
local function metrics(path)
  local text = process.read_all(path)
  local lines = {}
  for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
  local names = {}
  for n in lines[1]:gmatch("[^,]+") do names[#names + 1] = n end
  local rows = {}
  for i = 2, #lines do
    local row, j = {}, 0
    for v in (lines[i] .. ","):gmatch("([^,]*),") do
      j = j + 1
      if not timing[names[j]] then row[names[j]] = v end
    end
    rows[#rows + 1] = row
  end
  return rows, names
end

local dir
local function run(args)
  return sh(string.format("cd %s && OPENBLAS_NUM_THREADS=1 AERUN_DATA=%s %s %s/experiments/ae_mnist.lua "
    .. "--limit=300 --batch-size=100 --quiet %s", quote(dir), quote(root .. "/data"), quote(aerun), quote(root), args))
end

describe("continuing a run", function()
  setup(function() dir = process.tmpdir() end)
  teardown(function() sh("rm -rf " .. quote(dir)) end)

  it("--epochs=20 --resume after 10 epochs equals a 20-epoch run bit for bit", function()
    local out, ok = run("--epochs=10")
    assert.is_true(ok, out)
    local run_dir = dir .. "/checkpoints/ae_mnist/batch_size=100,limit=300"   -- epochs does not name the run
    assert.is_true(exists(run_dir .. "/checkpoint.h5"), out)
    local first = ae.checkpoint.info(run_dir .. "/checkpoint.h5")
    out, ok = run("--epochs=20 --resume --no-quiet")
    assert.is_true(ok, out)
    assert.matches("resumed from .-limit=300/checkpoint.h5 after epoch 10", out)
    assert.is_nil(out:find("epoch 1/20", 1, true), out)
    assert.matches("epoch 11/20", out, 1, true)
    out, ok = run("--epochs=20 --out=whole")
    assert.is_true(ok, out)
    assert_same_params(run_dir .. "/checkpoint.h5", dir .. "/whole/checkpoint.h5")
    local a, b = metrics(run_dir .. "/metrics.csv"), metrics(dir .. "/whole/metrics.csv")
    assert.are.equal(20, #a)
    assert.are.same(b, a)
    -- the run's time counts both sessions
    local result = require("aerun.json").decode(process.read_all(run_dir .. "/result.json"))
    assert.is_true(result.seconds > first.seconds, "result.seconds counts only the second session")
    assert.are.equal(20, ae.checkpoint.info(run_dir .. "/checkpoint.h5").epoch)
  end)

  it("bare --resume with nothing to resume is an error and leaves no folder", function()
    local out, ok = run("--epochs=1 --lr=0.5 --resume")
    assert.falsy(ok, out)
    assert.matches("nothing to resume: no checkpoint at checkpoints/ae_mnist/batch_size=100,limit=300,lr=0.5/checkpoint.h5", out, 1, true)
    assert.matches("--resume=auto", out, 1, true)
    assert.falsy(exists(dir .. "/checkpoints/ae_mnist/batch_size=100,limit=300,lr=0.5"))
  end)

  it("--resume=auto starts afresh when there is nothing to resume", function()
    local out, ok = run("--epochs=1 --lr=0.25 --resume=auto")
    assert.is_true(ok, out)
    assert.is_true(exists(dir .. "/checkpoints/ae_mnist/batch_size=100,limit=300,lr=0.25/checkpoint.h5"))
  end)

  it("a script that fails after ex.start and before its first epoch leaves no folder", function()
    process.write(dir .. "/fails.lua", [[
      local ae = require "aerun"
      local cfg = ae.experiment.config({ epochs = 1, x = 1 })
      local run = ae.experiment.start("fails", cfg, { model = ae.nn.Linear(2, 2) })
      assert(io.open(run.dir .. "/config.json"))
      error("the model does not fit the data")
    ]])
    local out, ok = sh(string.format("cd %s && %s fails.lua --x=2", quote(dir), quote(aerun)))
    assert.falsy(ok, out)
    assert.matches("the model does not fit the data", out, 1, true)
    assert.falsy(exists(dir .. "/checkpoints/fails"), "the failed run left a folder")
    -- a run that wrote files of its own keeps them (and its config.json)
    process.write(dir .. "/keeps.lua", [[
      local ae = require "aerun"
      local run = ae.experiment.start("keeps", ae.experiment.config({ epochs = 1 }))
      ae.experiment.write_file(run.dir .. "/notes.txt", "kept\n")
      error("stopped")
    ]])
    out, ok = sh(string.format("cd %s && %s keeps.lua", quote(dir), quote(aerun)))
    assert.falsy(ok, out)
    assert.is_true(exists(dir .. "/checkpoints/keeps/default/notes.txt"))
    assert.is_true(exists(dir .. "/checkpoints/keeps/default/config.json"))
  end)
end)

describe("--keep-best and --patience", function()
  setup(function() dir = process.tmpdir() end)
  teardown(function() sh("rm -rf " .. quote(dir)) end)

  it("best.h5 holds the best epoch's parameters", function()
    -- with --best-mode=max the best test loss is the highest, epoch 1's
    -- here (the loss falls), so best.h5 is not simply the last checkpoint
    local out, ok = run("--epochs=4 --out=max --keep-best=test_loss --best-mode=max")
    assert.is_true(ok, out)
    local rows = metrics(dir .. "/max/metrics.csv")
    local best_e, best_v = 0, -math.huge
    for e, row in ipairs(rows) do
      local v = tonumber(row.test_loss)
      if v > best_v then best_e, best_v = e, v end
    end
    assert.are.equal(1, best_e, "the test loss did not fall: the test needs another best epoch")
    assert.are.equal(best_e, ae.checkpoint.info(dir .. "/max/best.h5").epoch)
    out, ok = run("--epochs=" .. best_e .. " --out=upto")
    assert.is_true(ok, out)
    assert_same_params(dir .. "/max/best.h5", dir .. "/upto/checkpoint.h5")
    local result = require("aerun.json").decode(process.read_all(dir .. "/max/result.json"))
    assert.are.equal(best_e, result.best_epoch)
    assert.are.equal(best_v, tonumber(string.format("%.10g", result.best_test_loss)))

    -- minimising, the best is the last epoch whose loss fell
    out, ok = run("--epochs=3 --out=min --keep-best=test_loss --no-checkpoint")
    assert.is_true(ok, out)
    assert.falsy(exists(dir .. "/min/checkpoint.h5"))
    assert.are.equal(3, ae.checkpoint.info(dir .. "/min/best.h5").epoch)
    out, ok = run("--epochs=3 --out=whole3")
    assert.is_true(ok, out)
    assert_same_params(dir .. "/min/best.h5", dir .. "/whole3/checkpoint.h5")
  end)

  it("--patience stops when the watched metric has not improved, and a resume does not train on", function()
    local out, ok = run("--epochs=6 --out=patient --keep-best=test_loss --best-mode=max --patience=2")
    assert.is_true(ok, out)
    local rows = metrics(dir .. "/patient/metrics.csv")
    assert.are.equal(3, #rows)   -- epoch 1 is best; epochs 2 and 3 do not improve
    local result = require("aerun.json").decode(process.read_all(dir .. "/patient/result.json"))
    assert.is_true(result.stopped_early)
    out, ok = run("--epochs=6 --out=patient --keep-best=test_loss --best-mode=max --patience=2 --resume --no-quiet")
    assert.is_true(ok, out)
    assert.matches("early stop after epoch 3", out, 1, true)
    assert.are.equal(3, #metrics(dir .. "/patient/metrics.csv"))
  end)

  it("a watched metric the run does not record is an error naming those it does", function()
    local out, ok = run("--epochs=1 --out=typo --keep-best=test_los")
    assert.falsy(ok, out)
    assert.matches("--keep-best watches test_los, but epoch 1 recorded no test_los (it recorded ", out, 1, true)
    assert.matches("test_loss", out, 1, true)
    out, ok = run("--epochs=1 --out=mode --keep-best=test_loss --best-mode=lowest")
    assert.falsy(ok, out)
    assert.matches("--best-mode must be min or max, got lowest", out, 1, true)
  end)
end)

describe("steps.csv and time across a stop", function()
  setup(function() dir = process.tmpdir() end)
  teardown(function() sh("rm -rf " .. quote(dir)) end)

  it("--log-every=N logs every N-th step once, across a SIGTERM and a resume", function()
    local base = string.format("cd %s && OPENBLAS_NUM_THREADS=1 AERUN_DATA=%s %s %s/experiments/vae_mnist.lua "
      .. "--limit=3000 --batch-size=50 --epochs=3 --kl-warmup=50 --log-every=3 --quiet",
      quote(dir), quote(root .. "/data"), quote(aerun), quote(root))
    local pidfile = dir .. "/pid"
    assert(os.execute(string.format("(%s --out=stopped >/dev/null 2>&1 & echo $! > %s)", base, quote(pidfile))))
    local pid = assert(io.open(pidfile)):read("n")
    local t0 = ae.time()
    while not exists(dir .. "/stopped/checkpoint.h5") and ae.time() - t0 < 60 do sh("sleep 0.01") end
    sh("sleep 0.1; kill -TERM " .. pid .. "; while kill -0 " .. pid .. " 2>/dev/null; do sleep 0.02; done")
    local info = ae.checkpoint.info(dir .. "/stopped/checkpoint.h5")
    assert.is_truthy(info.partial, "the run was not stopped inside an epoch")
    assert.is_true(info.partial.seconds > 0)
    local out, ok = sh(base .. " --out=stopped --resume")
    assert.is_true(ok, out)
    out, ok = sh(base .. " --out=whole")
    assert.is_true(ok, out)
    assert_same_params(dir .. "/stopped/checkpoint.h5", dir .. "/whole/checkpoint.h5")

    -- every third step exactly once, in order, with β warming up per step
    local text = process.read_all(dir .. "/stopped/steps.csv")
    assert.are.equal(text, process.read_all(dir .. "/whole/steps.csv"))
    local header = text:match("^[^\n]+")
    assert.are.equal("step,epoch,batch,loss,lr,beta", header)
    local steps, betas = {}, {}
    for line in text:gmatch("\n([^\n]+)") do
      local step, _, _, _, _, beta = line:match("^(%d+),(%d+),(%d+),([^,]+),([^,]+),([^,]+)$")
      steps[#steps + 1], betas[#betas + 1] = tonumber(step), tonumber(beta)
    end
    assert.are.equal(3 * 60 // 3, #steps)
    for i, s in ipairs(steps) do assert.are.equal(3 * i, s) end
    -- β = step/50 for the first 50 steps (linear from 1/50 at step 1), 1 after
    for i, b in ipairs(betas) do
      local want = math.min(1, 3 * i / 50)
      assert.is_true(math.abs(b - want) <= 1e-8 * want, string.format("beta at step %d: %s, want %s", 3 * i, b, want))
    end

    -- time: the stopped epoch counts the part before the stop, and
    -- samples/s is the epoch's samples over its training seconds
    local rows = metrics(dir .. "/stopped/metrics.csv")
    assert.are.equal(3, #rows)
    local full = process.read_all(dir .. "/stopped/metrics.csv")
    local seconds = process.csv_column(full, "seconds")
    local eval = process.csv_column(full, "eval_seconds")
    local rate = process.csv_column(full, "samples_per_second")
    local e = info.epoch + 1
    assert.is_true(seconds[e] >= info.partial.seconds)
    -- 3000 training samples an epoch (--limit), to the digits csv keeps
    assert.is_true(math.abs(rate[e] * (seconds[e] - eval[e]) - 3000) < 1e-6 * 3000,
      string.format("%s samples/s over %s s", rate[e], seconds[e] - eval[e]))
  end)
end)

describe("schedulers in a run's checkpoint", function()
  setup(function() dir = process.tmpdir() end)
  teardown(function() sh("rm -rf " .. quote(dir)) end)

  it("a warm-up and ReduceLROnPlateau continue across --epochs=6 --resume as in one 6-epoch run", function()
    -- the plateau halves the rate at every epoch here (patience 0, 5%
    -- threshold); a plateau that forgot its best on resume would not
    local base = string.format("cd %s && OPENBLAS_NUM_THREADS=1 %s %s --quiet", quote(dir), quote(aerun),
      quote(root .. "/tests/files/plateau_run.lua"))
    local out, ok = sh(base .. " --epochs=3")
    assert.is_true(ok, out)
    out, ok = sh(base .. " --epochs=6 --resume")
    assert.is_true(ok, out)
    out, ok = sh(base .. " --epochs=6 --out=whole")
    assert.is_true(ok, out)
    assert_same_params(dir .. "/checkpoints/plateau_run/default/checkpoint.h5", dir .. "/whole/checkpoint.h5")
    local lrs = process.csv_column(process.read_all(dir .. "/whole/metrics.csv"), "lr")
    assert.are.same(lrs, process.csv_column(process.read_all(dir .. "/checkpoints/plateau_run/default/metrics.csv"), "lr"))
    assert.are.equal(0.02 / 32, lrs[6])
  end)
end)

describe("experiment.evaluate", function()
  it("returns a table of means from one pass, equal to one pass per metric", function()
    ae.manual_seed(3)
    local x = ae.rand(1234, 5)
    local ds = ae.data.tensor(x)
    local passes = 0
    local m = ae.experiment.evaluate(ds, function(b)
      passes = passes + 1
      return { mean = b:mean(), sq = (b * b):mean(), first = b:narrow(2, 1, 1):mean():item() }
    end, 100)
    assert.are.equal(13, passes)
    assert.are.equal(ae.experiment.evaluate(ds, function(b) return b:mean() end, 100), m.mean)
    assert.are.equal(ae.experiment.evaluate(ds, function(b) return (b * b):mean() end, 100), m.sq)
    -- the weighting by batch size: the mean over all samples (float64 sums
    -- of float32 batch means, so to float32's rounding of each batch mean)
    assert.is_true(math.abs(m.mean - x:mean():item()) < 1e-6)
    local err = select(2, pcall(ae.experiment.evaluate, ds, function() return { a = "x" } end))
    assert.matches("evaluate: loss_fn returned string for a, not a number or a tensor", err, 1, true)
  end)
end)
