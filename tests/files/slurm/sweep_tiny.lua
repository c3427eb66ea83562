-- sweep_tiny.lua: tests/slurm_spec.lua's sweep, tiny_ae.lua over three
-- code sizes (3 runs, so a Slurm array of 3 tasks with --shard=K/3).
--   aerun tests/files/slurm/sweep_tiny.lua --out=DIR [--shard=K/N] [--resume=auto]
local sweep = require "aerun.sweep"

local s = sweep.new("sweep_tiny", sweep.load "tiny_ae")
s:run_all(s:grid { code = { 4, 8, 12 } })
