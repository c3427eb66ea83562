-- seq_ae_mnist against PyTorch: the LSTM sequence autoencoder (hidden 128,
-- code 32, MNIST read as 28 rows of 28, Adam 1e-3, batch 128) trained for
-- the same number of epochs with seeds 1-3 by experiments/seq_ae_mnist.lua
-- and by the same model on torch.nn.LSTM (bench/torch_bench.py lstm).  The
-- test MSEs' means must differ by no more than the larger of the two
-- sides' seed spreads (what make bench calls "same").  make test-long runs
-- it (about five minutes on two cores); skipped, with the reason, without
-- python3-torch.
local process = require "tests.helpers.process"
local json = require "aerun.json"

local PYTHON = "/usr/bin/python3"
local SEEDS, EPOCHS = { 1, 2, 3 }, 2

local function has_torch()
  local _, ok = process.sh(PYTHON .. " -c 'import torch' 2>/dev/null")
  return ok
end

local function spread(l) return math.max(table.unpack(l)) - math.min(table.unpack(l)) end
local function mean(l)
  local s = 0
  for _, v in ipairs(l) do s = s + v / #l end
  return s
end

describe("seq_ae_mnist against PyTorch", function()
  local dir = process.tmpdir()
  teardown(function() process.sh("rm -rf " .. process.quote(dir)) end)
  local data = os.getenv("AERUN_DATA") or process.root .. "/data"

  local test = has_torch() and it or function(what) pending(what .. ": skipped, python3-torch is not installed") end
  test("the LSTM autoencoder's test MSE after " .. EPOCHS .. " epochs matches torch.nn.LSTM's", function()
    local a, t = {}, {}
    for _, seed in ipairs(SEEDS) do
      local out, ok = process.sh(string.format("cd %s && AERUN_DATA=%s %s %s/experiments/seq_ae_mnist.lua "
        .. "--epochs=%d --seed=%d --quiet --no-checkpoint", process.quote(dir), process.quote(data),
        process.quote(process.aerun), process.quote(process.root), EPOCHS, seed))
      assert.is_true(ok, out)
      a[#a + 1] = json.decode(assert(out:match("result (%b{})%s*$"), out)).test_mse
      out, ok = process.sh(string.format("cd %s && %s bench/torch_bench.py lstm 2 --hidden=128 --epochs=%d --seed=%d "
        .. "--data=%s/mnist", process.quote(process.root), PYTHON, EPOCHS, seed, process.quote(data)))
      assert.is_true(ok, out)
      t[#t + 1] = json.decode(assert(out:match("(%b{})%s*$"), out)).test_loss
    end
    local report = string.format("seq_ae_mnist test MSE: aerun %s (mean %.6g), torch %s (mean %.6g), %+.2f%%",
      table.concat(a, " "), mean(a), table.concat(t, " "), mean(t), 100 * (mean(a) - mean(t)) / mean(t))
    print("\n" .. report)
    assert.is_true(math.abs(mean(a) - mean(t)) <= math.max(spread(a), spread(t)), report)
  end)
end)
