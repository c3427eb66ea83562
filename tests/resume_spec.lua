-- Exact resume: a run killed with SIGKILL during epoch 2 of 3 and then
-- resumed ends with parameters bit-identical to an uninterrupted run
-- (single-threaded, so the GEMMs are deterministic).
local ae = require "aerun"

local process = require "tests.helpers.process"
local root, aerun, sh, exists = process.root, process.aerun, process.sh, process.exists

local check = require "tests.helpers.check"

describe("resume", function()
  it("after SIGKILL in epoch 2 of 3 ends bit-identical to an uninterrupted run", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    local base = string.format("cd %q && OPENBLAS_NUM_THREADS=1 AERUN_DATA=%q %q %q/experiments/vae_mnist.lua --epochs=3 --limit=12000",
      dir, root .. "/data", aerun, root)
    local out, ok = sh(base .. " --out=whole --quiet")
    assert.is_true(ok, out)

    -- start the same run, wait for epoch 1's checkpoint, kill it in epoch 2
    local pidfile = dir .. "/pid"
    assert(os.execute(string.format("(%s --out=killed >/dev/null 2>&1 & echo $! > %q)", base, pidfile)))
    local pid = assert(io.open(pidfile)):read("n")
    local t0 = ae.time()
    while not exists(dir .. "/killed/checkpoint.h5") and ae.time() - t0 < 60 do
      sh("sleep 0.01")
    end
    sh("sleep 0.05; kill -9 " .. pid)
    local info = ae.checkpoint.info(dir .. "/killed/checkpoint.h5")
    assert.is_true(info.epoch < 3, "the run finished before it was killed")

    out, ok = sh(base .. " --out=killed --resume")
    assert.is_true(ok, out)
    -- it continued from the checkpoint (a restart from scratch would also
    -- end identical, so this is what shows the resume happened)
    assert.matches("resumed from .-killed/checkpoint.h5 after epoch " .. info.epoch, out)
    assert.is_nil(out:match("epoch 1/3"), out)
    local a = check.checkpoint_state(dir .. "/whole/checkpoint.h5")
    assert.is_nil(check.state_difference(a, check.checkpoint_state(dir .. "/killed/checkpoint.h5")))
    local n = 0
    for _ in pairs(a) do n = n + 1 end
    assert.is_true(n >= 10)
    sh("rm -rf " .. dir)
  end)
end)
