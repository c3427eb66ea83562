-- 07_slurm.lua: the sweep of 06_sweep.lua as a Slurm job array.  It asks
-- the sweep how many runs it has (aerun --sweep-list), writes a batch
-- script in which array task K runs shard K of N, and prints the sbatch
-- command.  A task that Slurm preempts gets SIGTERM, checkpoints and exits;
-- resubmitting the array skips finished runs and resumes the others.
--   build/aerun examples/07_slurm.lua --epochs=5        then run the sbatch line it prints
--   build/aerun examples/07_slurm.lua --epochs=2 --limit=1000 --local   (CI's budget)
-- --local runs each array task here, one after the other, the way Slurm
-- would run it (SLURM_ARRAY_TASK_ID set, the #SBATCH lines being comments
-- to sh), then collects the summary: a check of the batch script without a
-- cluster.  --time and --cpus set the tasks' limits.  Submit from the
-- directory you ran this in: the paths in the batch script are relative
-- to it, and Slurm starts the tasks there.  docs/guide.md, "Sweeps".
local ae = require "aerun"

local cfg = ae.config { epochs = 5, limit = 0, ["local"] = false, time = "01:00:00", cpus = 2 }
local dir = "checkpoints/slurm_denoising"
assert(ae.mkdir_p(dir))

-- a word for sh, quoted only when it needs to be
local function quote(s)
  if s:match("^[%w%-%./_=:,+@]+$") then return s end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end
local aerun = arg[-1] or "aerun"                                     -- this executable
local sweep = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/06_sweep.lua"   -- beside this file
local options = string.format("--epochs=%d --limit=%d --out=%s", cfg.epochs, cfg.limit, dir)

-- one line per run of the sweep: its size is the array's
local p = assert(io.popen(string.format("%s --sweep-list %s %s", quote(aerun), quote(sweep), options)))
local n = 0
for _ in p:lines() do n = n + 1 end
assert(p:close() and n > 0, "aerun --sweep-list " .. sweep .. " failed")

local batch = dir .. "/sweep.sbatch"
local f = assert(io.open(batch, "w"))
f:write(table.concat({
  "#!/bin/sh",
  "#SBATCH --job-name=slurm_denoising",
  string.format("#SBATCH --array=0-%d", n - 1),
  string.format("#SBATCH --cpus-per-task=%d", cfg.cpus),
  "#SBATCH --time=" .. cfg.time,
  "#SBATCH --output=" .. dir .. "/slurm-%A_%a.out",
  "#SBATCH --open-mode=append",       -- a requeued task's log goes on in the same file
  "#SBATCH --requeue",                -- a preempted task comes back ...
  "#SBATCH --signal=B:TERM@120",      -- ... and SIGTERM two minutes before the time limit
  "export OPENBLAS_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}",
  -- --resume=auto: a requeued task continues its checkpoint, a first one starts
  string.format("exec %s %s %s --shard=$SLURM_ARRAY_TASK_ID/%d --resume=auto --quiet", quote(aerun), quote(sweep), options, n),
}, "\n") .. "\n")
f:close()
print("wrote " .. batch .. " (" .. n .. " array tasks); submit it with:")
print("  sbatch " .. batch)
print("and when every task is done:")
print("  " .. quote(aerun) .. " --sweep-collect " .. dir)

if cfg["local"] then
  for k = 0, n - 1 do
    local cmd = string.format("SLURM_ARRAY_TASK_ID=%d SLURM_CPUS_PER_TASK=1 sh %s > %s/slurm-local_%d.out 2>&1",
      k, quote(batch), dir, k)
    assert(os.execute(cmd), "array task " .. k .. " failed: see " .. dir .. "/slurm-local_" .. k .. ".out")
  end
  local summary = ae.sweep.collect(dir)
  ae.experiment.result("slurm_denoising", { tasks = n, runs = #summary.rows, missing = #summary.missing }, dir)
else
  ae.experiment.result("slurm_denoising", { tasks = n, batch_script = batch }, dir)
end
