-- Kill and resume: a 3-epoch run killed with SIGKILL at 20 random moments
-- (anywhere: before the first checkpoint, inside an epoch, while a
-- checkpoint is being written, after the end), then resumed with --resume=auto,
-- must end every time with parameters and optimizer state bit-identical to
-- an uninterrupted run.  Single-threaded (OPENBLAS_NUM_THREADS=1), so that
-- the GEMMs are deterministic.  The moments are drawn from a fixed seed
-- (AERUN_KILL_SEED changes it, AERUN_KILL_TRIALS their number) and printed,
-- so a failure can be replayed.
local ae = require "aerun"

local process = require "tests.helpers.process"
local root, aerun, quote, sh, exists = process.root, process.aerun, process.quote, process.sh, process.exists
local TRIALS = tonumber(os.getenv("AERUN_KILL_TRIALS") or "20")
local SEED = tonumber(os.getenv("AERUN_KILL_SEED") or "7")

local check = require "tests.helpers.check"
local state, differs = check.checkpoint_state, check.state_difference

-- a killed process stays a zombie until something reaps it, and kill -0
-- succeeds on a zombie: its state in /proc tells
local function wait_dead(pid)
  local t0 = ae.time()
  while ae.time() - t0 < 30 do
    local f = io.open("/proc/" .. pid .. "/stat")
    local stat = f and f:read("a")
    if f then f:close() end
    if not stat or stat:match("%) (%a)") == "Z" then return end
    sh("sleep 0.01")
  end
  error("process " .. pid .. " did not die")
end

describe("a run killed with SIGKILL at any moment", function()
  it("resumes to a result bit-identical to an uninterrupted run, " .. TRIALS .. " times out of " .. TRIALS, function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. quote(dir)))
    local base = string.format("cd %s && OPENBLAS_NUM_THREADS=1 AERUN_DATA=%s exec %s %s --epochs=3 --limit=2000 --quiet",
      quote(dir), quote(root .. "/data"), quote(aerun), quote(root .. "/experiments/vae_mnist.lua"))

    local t0 = ae.time()
    local out, ok = sh(base .. " --out=whole")
    local whole_seconds = ae.time() - t0
    assert.is_true(ok, out)
    local reference = state(dir .. "/whole/checkpoint.h5")
    local n = 0
    for _ in pairs(reference) do n = n + 1 end
    assert.is_true(n >= 10, "the reference checkpoint holds " .. n .. " datasets")

    math.randomseed(SEED)
    local kinds = { scratch = 0, epoch = 0, finished = 0 }
    local moments = {}
    for trial = 1, TRIALS do
      local run = "trial" .. trial
      local at = math.random() * whole_seconds * 1.1
      moments[#moments + 1] = string.format("%.3f", at)
      local pidfile = dir .. "/" .. run .. ".pid"
      assert(os.execute(string.format("(%s --out=%s >/dev/null 2>&1 & echo $! > %s)", base, run, quote(pidfile))))
      local pid = assert(assert(io.open(pidfile)):read("n"))
      sh(string.format("sleep %.3f; kill -9 %d", at, pid))
      wait_dead(pid)

      -- what the kill left: nothing, a checkpoint after an epoch, a
      -- finished run (the kill came too late)
      local ckpt = dir .. "/" .. run .. "/checkpoint.h5"
      if not exists(ckpt) then
        kinds.scratch = kinds.scratch + 1
      else
        local info = ae.checkpoint.info(ckpt)   -- must load: writes are atomic
        if info.epoch == 3 and exists(dir .. "/" .. run .. "/result.json") then kinds.finished = kinds.finished + 1
        else kinds.epoch = kinds.epoch + 1 end
      end

      -- a kill before the first checkpoint leaves nothing to resume: auto starts afresh
      out, ok = sh(base .. " --out=" .. run .. " --resume=auto")
      assert.is_true(ok, string.format("trial %d (killed after %.3f s): the resume failed:\n%s", trial, at, out))
      local d = differs(reference, state(ckpt))
      assert.is_nil(d, string.format("trial %d (killed after %.3f s, seed %d) ends different: %s", trial, at, SEED, d))
    end
    print(string.format("\nkill and resume: %d of %d trials bit-identical (uninterrupted run %.2f s; kills at %s s): "
      .. "%d killed before the first checkpoint, %d after one, %d after the end",
      TRIALS, TRIALS, whole_seconds, table.concat(moments, ", "), kinds.scratch, kinds.epoch, kinds.finished))
    sh("rm -rf " .. quote(dir))
  end)
end)
