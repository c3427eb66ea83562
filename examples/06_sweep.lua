-- 06_sweep.lua: a sweep over the experiment of 03_experiment.lua, noise ×
-- code size (2 × 2 = 4 runs), on one host.  Options given here apply to
-- every run; each run gets checkpoints/sweep_denoising/<run id>/, a run
-- whose result.json exists is skipped (so a sweep that was stopped picks up
-- where it left off), and the summary is checkpoints/sweep_denoising/sweep.csv.
--   build/aerun examples/06_sweep.lua --epochs=5                   one process, run after run
--   build/aerun examples/06_sweep.lua --epochs=5 --shard=0/2 &     two processes, each its share
--   build/aerun examples/06_sweep.lua --epochs=5 --shard=1/2
--   build/aerun --sweep-list examples/06_sweep.lua --epochs=5 | parallel -j2   GNU parallel
--   build/aerun --sweep-collect checkpoints/sweep_denoising        the summary of every shard
--   build/aerun examples/06_sweep.lua --epochs=2 --limit=1000     (CI's budget)
-- examples/07_slurm.lua runs the same sweep as a Slurm job array.
-- docs/guide.md, "Sweeps".
local ae = require "aerun"

local s = ae.sweep.new("sweep_denoising", ae.sweep.load "03_experiment")   -- looked for beside this file
local summary = s:run_all(s:grid { noise = { 0.2, 0.5 }, code = { 16, 32 } })
if not summary then return end   -- aerun --sweep-list only counts the runs

-- the best run by test MSE, from the summary's rows (absent on a shard that
-- has not seen every result yet)
local best
for _, row in ipairs(summary.rows) do
  if not best or row.result.test_mse < best.result.test_mse then best = row end
end
ae.experiment.result("sweep_denoising", { runs = #summary.rows, best_run = best and best.id,
  best_test_mse = best and best.result.test_mse }, s.root)
