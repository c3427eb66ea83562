-- data_stream_spec.lua: an HDF5 file larger than the memory of the process
-- that trains on it.  h5py writes a gzip-chunked float32 N×64 file of
-- about 300 MB uncompressed; a child aerun process (AERUN_BIN) opens it
-- with ae.data.h5 (streamed by its size, not forced), trains a small MLP
-- autoencoder on it for one shuffled epoch, and prints its peak resident
-- memory (VmHWM in /proc/self/status) at the end.  The peak must stay below
-- the data's uncompressed size: the file was never held in memory.
-- Skipped, saying why, without /usr/bin/python3's h5py or /proc.
local process = require "tests.helpers.process"
local quote = process.quote

local PYTHON = "/usr/bin/python3"

-- under make test-asan, ASan's quarantine keeps 256 MB of freed blocks by
-- default: the child keeps 8 MB, so its RSS is its memory again
local under_asan = (os.getenv("LD_PRELOAD") or ""):match("asan") ~= nil
local child_env = under_asan and "ASAN_OPTIONS=${ASAN_OPTIONS}:quarantine_size_mb=8 " or ""

describe("a streamed HDF5 file larger than the trainer's memory", function()
  local dir
  setup(function() dir = process.tmpdir() end)
  teardown(function() os.execute("rm -rf " .. quote(dir)) end)

  it("trains one epoch to the end with a peak RSS below the data's size", function()
    if os.execute(PYTHON .. " -c 'import h5py, numpy' >/dev/null 2>&1") ~= true then
      pending("/usr/bin/python3 with h5py and numpy not installed")
      return
    end
    if not process.exists("/proc/self/status") then
      pending("no /proc/self/status to read the peak RSS from")
      return
    end
    local file = dir .. "/big.h5"
    -- 1.2 M rows × 64 float32 = 307 MB; values on a grid of 1/8 so that
    -- gzip level 1 compresses them fast; written in slices, so python's own
    -- memory stays small too
    local out, ok = process.sh(string.format([[%s -c '
import sys, h5py, numpy as np
n, d, step = 1200000, 64, 100000
rng = np.random.default_rng(0)
with h5py.File(sys.argv[1], "w") as f:
    x = f.create_dataset("train/x", (n, d), dtype="f4", chunks=(2048, d), compression="gzip", compression_opts=1)
    for a in range(0, n, step):
        x[a:a + step] = np.round(rng.normal(0, 2, (step, d)) * 8) / 8
' %s]], PYTHON, quote(file)))
    assert.is_true(ok, out)
    local script = dir .. "/train.lua"
    process.write(script, [[
local ae = require "aerun"
local nn = ae.nn
ae.manual_seed(1)
local ds = ae.data.h5 { arg[1], x = "train/x" }
assert(ds:streamed(), "a 307 MB x must be streamed by default")
local model = nn.AutoEncoder(nn.mlp({ 64, 16 }), nn.mlp({ 16, 64 }))
local opt = ae.optim.Adam(model:parameters(), { lr = 1e-3 })
local samples, first, last = 0, nil, nil
for x in ds:batches(1024, { shuffle = true }) do
  opt:zero_grad()
  local loss = ae.loss.mse(model(x), x)
  loss:backward()
  opt:step()
  samples = samples + x:size(1)
  first = first or loss:item()
  last = loss:item()
end
local status = io.open("/proc/self/status"):read("a")
print(string.format("samples=%d first=%g last=%g hwm_kb=%s", samples, first, last, status:match("VmHWM:%s*(%d+)")))
]])
    local t0 = os.time()
    local run, rok = process.sh(string.format("%s%s %s %s", child_env, quote(process.aerun), quote(script), quote(file)))
    assert.is_true(rok, run)
    local samples, first, last, hwm = run:match("samples=(%d+) first=(%S+) last=(%S+) hwm_kb=(%d+)")
    assert.is_truthy(samples, run)
    assert.equal(1200000, tonumber(samples))
    -- it learned: the loss fell over the epoch
    assert.is_true(tonumber(last) < tonumber(first), run)
    local data_bytes = 1200000 * 64 * 4
    local file_bytes = tonumber(process.capture("stat -c %s " .. quote(file)))
    local peak = tonumber(hwm) * 1024
    print(string.format("\n  data %.1f MB uncompressed, file %.1f MB, trainer's peak RSS %.1f MB, %d s",
      data_bytes / 1e6, file_bytes / 1e6, peak / 1e6, os.time() - t0))
    assert.is_true(peak < data_bytes, string.format("peak RSS %d bytes, data %d bytes", peak, data_bytes))
  end)
end)
