-- Progress output of a run (lua/aerun/experiment.lua): on a terminal a bar
-- redrawn in place with \r (samples/s, loss, ETA), at most a few times a
-- second; without a terminal one plain line per epoch; --quiet only the
-- result line.  The terminal is a pseudo-terminal made by script(1).
local process = require "tests.helpers.process"
local root, aerun, sh = process.root, process.aerun, process.sh

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))

local script = root .. "/experiments/ae_mnist.lua"
local env = string.format("cd %q && export OPENBLAS_NUM_THREADS=1 AERUN_DATA=%q;", dir, root .. "/data")

local function lines(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do out[#out + 1] = line end
  return out
end

local function count(text, pattern)
  return select(2, text:gsub(pattern, ""))
end

describe("progress", function()
  it("without a terminal: one plain line per epoch, then the result", function()
    local out, ok = sh(string.format("%s %q %q --epochs=3 --limit=2000 --no-checkpoint | cat", env, aerun, script))
    assert.is_true(ok, out)
    assert.is_nil(out:find("\r", 1, true), "a carriage return in piped output")
    assert.is_nil(out:find("\27", 1, true), "an escape sequence in piped output")
    local l = lines(out)
    assert.are.equal(4, #l, out)
    for e = 1, 3 do
      -- the epoch's time, with evaluation's share when it is 0.05 s or more
      local line = l[e]:gsub("s %(eval [%d.]+s%)", "s")
      assert.matches("^epoch " .. e .. "/3  train_loss [%d.e+-]+  test_loss [%d.e+-]+  [%d.]+s  %d+ samples/s$", line)
    end
    assert.matches("^result {", l[4])
  end)

  it("--quiet: only the result line", function()
    local out, ok = sh(string.format("%s %q %q --epochs=2 --limit=1000 --no-checkpoint --quiet | cat", env, aerun, script))
    assert.is_true(ok, out)
    local l = lines(out)
    assert.are.equal(1, #l, out)
    assert.matches("^result {.*}$", l[1])
  end)

  it("on a terminal: a bar redrawn in place, then the epoch's line", function()
    if not sh("command -v script"):find("script") then
      pending("script(1) is not installed (Debian package bsdutils)")
      return
    end
    -- 10,000 samples in batches of 32 take long enough for several redraws
    local cmd = string.format("%q %q --epochs=2 --limit=10000 --batch_size=32 --no-checkpoint", aerun, script)
    local out, ok = sh(string.format("%s script -qec %q /dev/null", env, cmd))
    assert.is_true(ok, out)
    local draws = count(out, "\r\27%[Kepoch %d/2 %[")
    assert.is_true(draws >= 2, out)
    -- a bar: progress, batches done of the total, loss, speed, ETA
    assert.matches("\r\27%[Kepoch 1/2 %[=* *%] %d+/313  loss [%d.e+-]+  %d+ samples/s  ETA %d+m?%d*s", out)
    -- each epoch's bar ends full and is replaced by the epoch's line
    assert.matches("epoch 1/2 %[=+%] 313/313", out)
    assert.matches("\r\27%[Kepoch 1/2  train_loss", out)
    assert.matches("\r\27%[Kepoch 2/2  train_loss", out)
    assert.matches("result {", out)
    -- at most five redraws a second, plus the closing one of each epoch
    local seconds = 0
    for s in out:gmatch("test_loss [%d.e+-]+  ([%d.]+)s") do seconds = seconds + tonumber(s) end
    assert.is_true(draws <= math.ceil(seconds * 5) + 4, draws .. " redraws in " .. seconds .. " s")
  end)

  it("on a terminal with --quiet: only the result line, no bar", function()
    if not sh("command -v script"):find("script") then
      pending("script(1) is not installed")
      return
    end
    local cmd = string.format("%q %q --epochs=1 --limit=2000 --no-checkpoint --quiet", aerun, script)
    local out, ok = sh(string.format("%s script -qec %q /dev/null", env, cmd))
    assert.is_true(ok, out)
    assert.is_nil(out:find("\27", 1, true), out)
    local l = lines((out:gsub("\r", "")))
    assert.are.equal(1, #l, out)
    assert.matches("^result {", l[1])
  end)

  it("on a terminal: an evaluation over a second draws its own line, and training samples/s leaves it out", function()
    if not sh("command -v script"):find("script") then
      pending("script(1) is not installed")
      return
    end
    -- an epoch of 4 quick steps, then an evaluation of 12 batches that
    -- each take 0.15 s (a busy wait: what a slow model would do)
    process.write(dir .. "/slow_eval.lua", [[
      local ae = require "aerun"
      local ex = ae.experiment
      local run = ex.start("slow_eval", ex.config({ epochs = 1 }), {})
      local train = ae.data.tensor(ae.rand(400, 3))
      for _ in run:epochs() do
        for x in run:batches(train, 100) do run:step(x:mean()) end
        local m = ex.evaluate(ae.data.tensor(ae.rand(12, 3)), function(x)
          local t = ae.time()
          while ae.time() - t < 0.15 do end
          return { a = x:mean(), b = x:max() }
        end, 1)
        run:end_epoch { test_loss = m.a }
      end
      run:finish()
    ]])
    local cmd = string.format("%q slow_eval.lua", aerun)
    local out, ok = sh(string.format("%s script -qec %q /dev/null", env, cmd))
    assert.is_true(ok, out)
    assert.matches("\r\27%[Kevaluating %d+/12 batches  %d+ samples/s  ETA %d+s", out)
    assert.is_nil(out:find("evaluating 1/12", 1, true), "drawn before a second had passed")
    local seconds, eval = out:match("epoch 1/1  train_loss [%d.e+-]+  test_loss [%d.e+-]+  ([%d.]+)s %(eval ([%d.]+)s%)")
    assert.is_truthy(seconds, out)
    assert.is_true(tonumber(eval) >= 1.7, out)
    local csv = process.read_all(dir .. "/checkpoints/slow_eval/default/metrics.csv")
    local rate = process.csv_column(csv, "samples_per_second")[1]
    local s = process.csv_column(csv, "seconds")[1] - process.csv_column(csv, "eval_seconds")[1]
    assert.is_true(math.abs(rate * s - 400) < 1e-6 * 400, rate .. " samples/s over " .. s .. " s of training")
  end)

  it("cleans up", function()
    sh("rm -rf " .. dir)
  end)
end)
