-- slurm_spec.lua: a sweep under a real Slurm.  A one-node cluster
-- (tests/helpers/slurm.lua: Debian's slurm-wlm and munge, all in a
-- temporary folder) runs the sweep of tests/files/slurm/sweep_tiny.lua (3
-- runs) as a job array with the shipped job script, tools/slurm/sweep.sbatch.
-- Once task 0's run has written its first checkpoint, the test requeues that
-- task (`scontrol requeue`, what preemption does): the run gets SIGTERM,
-- checkpoints inside the epoch and exits; Slurm starts the task again and
-- the run resumes from the checkpoint.  Then the collected sweep.csv must
-- equal that of the same sweep run without Slurm and without interruption
-- (timing columns aside), and the preempted run's final parameters and
-- optimizer state must equal the uninterrupted run's bit for bit (one
-- thread everywhere, so the arithmetic is deterministic).
--
-- Skipped, saying why, only where Slurm is missing and cannot be installed;
-- a daemon that does not start is a failure, with its log.  Every daemon
-- and job is stopped and the folder removed at the end, failed or not
-- (AERUN_KEEP_SLURM=1 keeps the folder to look at).
local ae = require "aerun"
local process = require "tests.helpers.process"
local slurm = require "tests.helpers.slurm"
local quote, root, aerun = process.quote, process.root, process.aerun

local SWEEP = root .. "/tests/files/slurm/sweep_tiny.lua"
local TEMPLATE = root .. "/tools/slurm/sweep.sbatch"
local THREADS = "AERUN_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "
-- under AddressSanitizer (make test-asan) a step costs about 20 times
-- more: a smaller model and data set keep an epoch near half a second, so
-- the test's time and its preemption window stay what they are
local SANITIZED = (os.getenv("LD_PRELOAD") or ""):find("asan") or aerun:find("asan")
local SIZE = os.getenv("AERUN_SLURM_ARGS") or (SANITIZED and "--n=800 --hidden=128" or "")
local PREEMPTED   -- the run id of array task 0's run: code=4, plus SIZE's keys

-- task 0's run id, once its directory is there (a sweep's run ids name
-- their keys in alphabetical order, so it starts with code=4)
local function find_preempted(out_dir)
  local found = process.capture("cd " .. quote(out_dir) .. " 2>/dev/null && ls -d code=4 code=4,* 2>/dev/null")
  return found:match("^[^\n]+")
end

local state = { t0 = slurm.now() }

-- runs fn; a failure's message gets the daemons' logs
local function with_logs(fn)
  return function()
    if state.skip then return pending(state.skip) end
    local ok, err = xpcall(fn, debug.traceback)
    if not ok then
      error(tostring(err) .. "\n" .. (state.cluster and state.cluster:logs() or ""), 0)
    end
  end
end

local function lines(text)
  local out = {}
  for line in (text or ""):gmatch("[^\n]+") do out[#out + 1] = line end
  return out
end

local read_csv = process.read_csv

-- wall-clock columns, which differ from run to run
local function is_timing(name)
  return name:find("seconds") or name:find("per_second") or name:find("time") or name:find("elapsed")
end

local check = require "tests.helpers.check"
local checkpoint_state, differs = check.checkpoint_state, check.state_difference

describe("a sweep as a Slurm job array", function()
  setup(function()
    local c, why = slurm.new()
    state.skip, state.cluster = why, c
    if why then print("\nslurm_spec skipped: " .. why) end
  end)

  teardown(function()
    if state.cluster then state.cluster:stop() end
    print(string.format("\nslurm_spec: %.1f s in all", slurm.now() - state.t0))
  end)

  it("starts a one-node cluster (munged, slurmctld, slurmd) whose node is idle", with_logs(function()
    local t0 = slurm.now()
    state.cluster:start()
    state.started = true
    print(string.format("\ncluster up in %.1f s on ports %d/%d", slurm.now() - t0, state.cluster.ports[1],
      state.cluster.ports[2]))
  end))

  it("runs the sweep, one task requeued mid-run, and every task ends", with_logs(function()
    assert(state.started, "the cluster did not start")
    local c = state.cluster
    local out_dir = c.dir .. "/sweep"
    state.out_dir = out_dir
    local args = quote(SWEEP) .. " --out=" .. quote(out_dir) .. " " .. SIZE

    -- the array's size from the sweep itself
    local n = tonumber(process.capture(quote(aerun) .. " --sweep-count " .. args))
    assert.are.equal(3, n)

    local t0 = slurm.now()
    local out, ok = c:sh("cd " .. quote(c.dir) .. " && AERUN=" .. quote(aerun) .. " sbatch --parsable --array=0-"
      .. (n - 1) .. " " .. quote(TEMPLATE) .. " " .. args)
    assert(ok, "sbatch failed:\n" .. out)
    local job = out:match("(%d+)%s*$")
    assert(job, "no job id in sbatch's output:\n" .. out)
    state.job = job

    -- preempt task 0 once its run has a checkpoint (epoch 1 done) and
    -- long before it finishes (epoch 6): inside an epoch
    local run_dir
    assert(slurm.wait_for(60, function()
      PREEMPTED = PREEMPTED or find_preempted(out_dir)
      run_dir = PREEMPTED and out_dir .. "/" .. PREEMPTED
      return run_dir and process.exists(run_dir .. "/checkpoint.h5")
    end), "task 0 wrote no checkpoint within 60 s; squeue:\n" .. c:sh("squeue"))
    process.sh("sleep 0.2")
    assert.is_false(process.exists(run_dir .. "/result.json"), "task 0 finished before it could be preempted")
    local epochs_before = #lines(process.read(run_dir .. "/metrics.csv")) - 1
    out, ok = c:sh("scontrol requeue " .. job .. "_0")
    assert(ok, "scontrol requeue failed:\n" .. out)
    print(string.format("\nrequeued task %s_0 after %d epoch(s), %.1f s after submitting", job, epochs_before,
      slurm.now() - t0))

    -- Slurm holds a requeued job back (BeginTime, 2 minutes); a test
    -- need not wait: let it start as soon as the node has room
    local task_state = ""
    assert(slurm.wait_for(30, function()
      task_state = c:capture("squeue -h -j " .. job .. "_0 -o %t")
      return task_state == "PD"
    end), "the requeued task is not pending (squeue says " .. task_state .. ")")
    out, ok = c:sh("scontrol update JobId=" .. job .. "_0 StartTime=now")
    assert(ok, "scontrol update StartTime=now failed:\n" .. out)

    local left = ""
    assert(slurm.wait_for(120, function()
      left = c:capture("squeue -h -o '%i %t %r'")
      return left == ""
    end), "the array's tasks have not ended after 120 s:\n" .. left)
    state.slurm_seconds = slurm.now() - t0
    print(string.format("the array's 3 tasks ended %.1f s after submitting", state.slurm_seconds))
    for k = 0, n - 1 do
      local log = process.read(c.dir .. "/slurm-" .. job .. "_" .. k .. ".out") or "(no output file)"
      assert(log:find("result {", 1, true), "task " .. k .. " did not finish its run:\n" .. log)
    end
  end))

  it("resumed the requeued task from its checkpoint inside the epoch", with_logs(function()
    assert(state.job, "the array did not run")
    local log = process.read_all(state.cluster.dir .. "/slurm-" .. state.job .. "_0.out")
    -- --open-mode=append keeps both attempts in the one file
    local _, attempts = log:gsub("aerun sweep task 0 of 3", "")
    assert.are.equal(2, attempts, "task 0 ran " .. attempts .. " time(s):\n" .. log)
    -- "aerun: SIGTERM in epoch E after batch B (step S); checkpoint saved to ..."
    assert(log:find("SIGTERM[^\n]*checkpoint saved"), "the run did not checkpoint on SIGTERM:\n" .. log)
    -- "resumed from PATH in epoch E after batch B (step S)": B > 0 is a
    -- checkpoint taken inside the epoch
    local line = log:match("resumed from [^\n]*")
    assert(line, "the requeued run did not resume from a checkpoint:\n" .. log)
    local path = line:match("^resumed from (%S-%.h5)")
    assert.are.equal(state.out_dir .. "/" .. PREEMPTED .. "/checkpoint.h5", path)
    local epoch, batch = line:match("epoch (%d+) after batch (%d+)")
    assert(batch and tonumber(batch) > 0, "the run did not resume inside an epoch: " .. line)
    print(string.format("\ntask 0 resumed in epoch %s after batch %s", epoch, batch))
    -- and went on to the end: its result line comes after the resume
    local after = log:sub((log:find("resumed from", 1, true)))
    local result = after:match("\nresult (%b{})")
    assert(result and result:find('"run_id":"' .. PREEMPTED .. '"', 1, true), "no result line for the run:\n" .. log)
  end))

  it("collects a sweep.csv equal to the uninterrupted sweep's, timing columns aside", with_logs(function()
    assert(state.job, "the array did not run")
    local c = state.cluster
    -- the same sweep, one process, no Slurm, no interruption
    state.ref_dir = c.dir .. "/reference"
    local t0 = slurm.now()
    local out, ok = process.sh(THREADS .. quote(aerun) .. " " .. quote(SWEEP) .. " --quiet --out="
      .. quote(state.ref_dir) .. " " .. SIZE .. " </dev/null")
    assert(ok, "the uninterrupted sweep failed:\n" .. out)
    print(string.format("\nthe uninterrupted sweep took %.1f s", slurm.now() - t0))

    out, ok = process.sh(quote(aerun) .. " --sweep-collect " .. quote(state.out_dir))
    assert(ok, "--sweep-collect failed:\n" .. out)
    local header, rows = read_csv(state.out_dir .. "/sweep.csv")
    local ref_header, ref_rows = read_csv(state.ref_dir .. "/sweep.csv")
    assert.are.same(ref_header, header)
    assert.are.equal(3, #rows)
    assert.are.equal(#ref_rows, #rows)
    local compared = {}
    for j, name in ipairs(header) do
      if name == "run_dir" then
        for i = 1, #rows do   -- the same run, under its own sweep directory
          assert.are.equal(ref_rows[i][j]:sub(#state.ref_dir + 1), rows[i][j]:sub(#state.out_dir + 1))
        end
      elseif not is_timing(name) then
        compared[#compared + 1] = name
        for i = 1, #rows do
          assert.are.equal(ref_rows[i][j], rows[i][j], string.format("row %d, %s", i, name))
        end
      end
    end
    assert(#compared >= 2, "compared only " .. table.concat(compared, ", "))

    -- the preempted run's per-epoch losses too (its metrics.csv)
    local run_header, run_rows = read_csv(state.out_dir .. "/" .. PREEMPTED .. "/metrics.csv")
    local ref_run_header, ref_run_rows = read_csv(state.ref_dir .. "/" .. PREEMPTED .. "/metrics.csv")
    assert.are.same(ref_run_header, run_header)
    assert.are.equal(#ref_run_rows, #run_rows)
    for j, name in ipairs(run_header) do
      if not is_timing(name) then
        for i = 1, #run_rows do
          assert.are.equal(ref_run_rows[i][j], run_rows[i][j], string.format("metrics.csv epoch %d, %s", i, name))
        end
      end
    end
  end))

  it("ends the preempted run with parameters bit-identical to the uninterrupted run's", with_logs(function()
    assert(state.ref_dir, "the uninterrupted sweep did not run")
    local a = checkpoint_state(state.out_dir .. "/" .. PREEMPTED .. "/checkpoint.h5")
    local b = checkpoint_state(state.ref_dir .. "/" .. PREEMPTED .. "/checkpoint.h5")
    local count = 0
    for _ in pairs(a) do count = count + 1 end
    assert(count >= 8, "the checkpoint holds " .. count .. " datasets")
    local d = differs(b, a)
    assert.is_nil(d, "the preempted run ends different: " .. tostring(d))
    print(string.format("\n%d tensors (parameters and Adam state) bit-identical", count))
  end))

  it("stops every daemon and job and removes its folder", with_logs(function()
    local c = state.cluster
    local killed = c:stop()
    assert.are.same({}, c:processes(), "processes of the cluster are still running")
    assert.are.same({}, killed, "had to SIGKILL processes " .. table.concat(killed, " "))
    if not os.getenv("AERUN_KEEP_SLURM") then
      assert.is_false(process.exists(c.conf), "the cluster's folder is still there")
    end
  end))
end)
