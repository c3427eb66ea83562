-- Sweeps (lua/aerun/sweep.lua): configs from a base and a grid, the shard
-- split, skipping finished runs, failures, the summary files, and the
-- sparse-AE sweep run sequentially, resumed after SIGKILL, and run through
-- GNU parallel (one process per config, and two shards), all giving the
-- same summary.  The runs are deterministic single-threaded, so the
-- metrics must agree exactly; only the timing columns may differ.
local ae = require "aerun"
local sweep = require "aerun.sweep"
local json = require "aerun.json"

local process = require "tests.helpers.process"
local root, aerun, sh, exists = process.root, process.aerun, process.sh, process.exists

local made = {}   -- every directory made here, removed at the end

local function tmpdir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  made[#made + 1] = dir
  return dir
end

teardown(function()
  for _, dir in ipairs(made) do os.execute("rm -rf " .. dir) end
end)

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local read_csv = process.read_csv

-- the summary without its timing columns, which no two runs share
local function comparable(path)
  local header, rows = read_csv(path)
  local keep = {}
  for i, h in ipairs(header) do
    if h ~= "seconds" and h ~= "samples_per_second" and h ~= "eval_seconds" then keep[#keep + 1] = i end
  end
  local out = {}
  for r, row in ipairs(rows) do
    local t = {}
    for _, i in ipairs(keep) do t[header[i]] = row[i] end
    out[r] = t
  end
  return out
end

-- a stand-in experiment: it records its calls, writes what a run writes
-- (config.json, result.json) and fails for x == fail_at
local calls = {}
local fail_at
local fake = {
  name = "fake",
  defaults = { x = 0, lambda = 1e-3, kind = "a", epochs = 1 },
  run = function(cfg)
    calls[#calls + 1] = cfg.x
    if cfg.x == fail_at then error("x is " .. cfg.x) end
    assert(ae.mkdir_p(cfg.out))
    write(cfg.out .. "/config.json", json.encode(cfg))
    local result = { value = cfg.x * cfg.lambda, kind = cfg.kind, run_dir = cfg.out }
    write(cfg.out .. "/result.json", json.encode(result))
    return result
  end,
}

local function fake_sweep(dir, extra)
  local argv = { "--out=" .. dir, "--quiet" }
  for _, w in ipairs(extra or {}) do argv[#argv + 1] = w end
  return sweep.new("fake_sweep", fake, { argv = argv })
end

local function sorted(t)
  local c = { table.unpack(t) }
  table.sort(c)
  return c
end

describe("sweep configs", function()
  it("grid makes every combination, keys alphabetical, the first varying slowest", function()
    local s = fake_sweep(tmpdir(), { "--epochs=2" })
    local configs = s:grid { x = { 1, 2, 3 }, kind = { "a", "b" } }
    assert.are.equal(6, #configs)
    local seen = {}
    for i, cfg in ipairs(configs) do
      seen[i] = cfg.kind .. cfg.x
      assert.are.equal(2, cfg.epochs)
    end
    assert.are.same({ "a1", "a2", "a3", "b1", "b2", "b3" }, seen)
    -- the run id names the grid's keys and what the command line set,
    -- except epochs (how long to train does not name a run)
    assert.are.equal("kind=b,x=3", ae.experiment.run_id(configs[6]))
  end)

  it("checks keys and types as the command line would", function()
    local s = fake_sweep(tmpdir())
    local ok, err = pcall(s.config, s, { lamda = 1 })
    assert.is_false(ok)
    assert.matches("sweep: unknown option %-%-lamda %(did you mean %-%-lambda%?%)", err)
    ok, err = pcall(s.config, s, { x = 1.5 })
    assert.is_false(ok)
    assert.matches("--x expects an integer", err)
    ok, err = pcall(s.config, s, { lambda = "big" })
    assert.matches("--lambda expects a number", err)
    ok, err = pcall(s.config, s, { shard = "0/2" })
    assert.matches("sweep's own option", err)
    -- a float the command line cannot write in 15 digits reads back exactly
    assert.are.equal(0.1 + 0.2, s:config { lambda = 0.1 + 0.2 }.lambda)
    assert.are.equal(math.type(3), math.type(s:config { x = 3 }.x))
  end)

  it("parses --shard=K/N with K from 0 and refuses the rest", function()
    assert.are.same({ 0, 1 }, { sweep.parse_shard("") })
    assert.are.same({ 3, 16 }, { sweep.parse_shard("3/16") })
    assert.are.same({ 15, 16 }, { sweep.parse_shard("15/16") })
    for _, bad in ipairs { "16/16", "1/0", "a/2", "-1/2", "1", "1/2/3" } do
      assert.has_error(function() sweep.parse_shard(bad) end)
    end
    local ok, err = pcall(sweep.parse_shard, "16/16")
    assert.matches("K counts from 0", err)
  end)
end)

describe("sweep shards", function()
  it("cover every config exactly once for N = 1..5", function()
    for count = 0, 13 do
      for n = 1, 5 do
        local seen = {}
        for k = 0, n - 1 do
          for _, i in ipairs(sweep.shard_indices(count, k, n)) do
            assert.is_nil(seen[i], "config " .. i .. " in two shards")
            seen[i] = true
          end
        end
        for i = 1, count do assert.is_true(seen[i], "config " .. i .. " in no shard") end
      end
    end
  end)

  it("run their share, and the last one to end writes the whole summary", function()
    for n = 1, 5 do
      local dir = tmpdir()
      calls = {}
      for k = 0, n - 1 do
        assert.is_false(exists(dir .. "/sweep.csv"))
        local s = fake_sweep(dir, { "--shard=" .. k .. "/" .. n })
        s:run_all(s:grid { x = { 1, 2, 3, 4, 5, 6, 7 } })
      end
      assert.are.same({ 1, 2, 3, 4, 5, 6, 7 }, sorted(calls))
      local header, rows = read_csv(dir .. "/sweep.csv")
      assert.are.same({ "x", "kind", "value", "run_dir" }, header)
      assert.are.equal(7, #rows)
      for i, row in ipairs(rows) do
        assert.are.equal(tostring(i), row[1])
        assert.are.equal(dir .. "/x=" .. i, row[4])
      end
      sh("rm -rf " .. dir)
    end
  end)
end)

describe("sweep runs", function()
  it("skip configs whose result.json exists, so a sweep resumes", function()
    local dir = tmpdir()
    calls = {}
    local s = fake_sweep(dir)
    s:run_all(s:grid { x = { 1, 2, 3, 4 } })
    assert.are.same({ 1, 2, 3, 4 }, calls)
    local first = read(dir .. "/sweep.csv")

    calls = {}
    s = fake_sweep(dir)
    local summary = s:run_all(s:grid { x = { 1, 2, 3, 4 } })
    assert.are.same({}, calls)
    assert.are.equal(4, #summary.rows)
    assert.are.equal(first, read(dir .. "/sweep.csv"))

    os.remove(dir .. "/x=3/result.json")   -- as if killed during run 3
    calls = {}
    s = fake_sweep(dir)
    s:run_all(s:grid { x = { 1, 2, 3, 4 } })
    assert.are.same({ 3 }, calls)
    assert.are.equal(first, read(dir .. "/sweep.csv"))
    sh("rm -rf " .. dir)
  end)

  it("go on after a failed run, then name it; the next sweep reruns only it", function()
    local dir = tmpdir()
    calls, fail_at = {}, 2
    local s = fake_sweep(dir)
    local ok, err = pcall(s.run_all, s, s:grid { x = { 1, 2, 3 } })
    fail_at = nil
    assert.is_false(ok)
    assert.matches("sweep fake_sweep: 1 run failed: x=2", err)
    assert.are.same({ 1, 2, 3 }, calls)
    local _, rows = read_csv(dir .. "/sweep.csv")
    assert.are.equal(2, #rows)

    calls = {}
    s = fake_sweep(dir)
    s:run_all(s:grid { x = { 1, 2, 3 } })
    assert.are.same({ 2 }, calls)
    _, rows = read_csv(dir .. "/sweep.csv")
    assert.are.equal(3, #rows)
    sh("rm -rf " .. dir)
  end)

  it("continue runs done with fewer epochs when --epochs grows and --resume is given", function()
    local dir = tmpdir()
    calls = {}
    local s = fake_sweep(dir, { "--epochs=1" })
    s:run_all(s:grid { x = { 1, 2 } })
    assert.are.same({ 1, 2 }, calls)
    -- epochs does not name a run, so without --resume the runs are done
    calls = {}
    s = fake_sweep(dir, { "--epochs=3" })
    s:run_all(s:grid { x = { 1, 2 } })
    assert.are.same({}, calls)
    -- with it they run again, each told to continue its own checkpoint
    local resumes = {}
    local run = fake.run
    fake.run = function(cfg)
      resumes[#resumes + 1] = cfg.resume
      return run(cfg)
    end
    calls = {}
    s = fake_sweep(dir, { "--epochs=3", "--resume" })
    local ok, err = pcall(s.run_all, s, s:grid { x = { 1, 2 } })
    fake.run = run
    assert.is_true(ok, err)
    assert.are.same({ 1, 2 }, calls)
    assert.are.same({ "auto", "auto" }, resumes)
    -- and once they ran 3 epochs, --resume has nothing more to do
    calls = {}
    s = fake_sweep(dir, { "--epochs=3", "--resume" })
    s:run_all(s:grid { x = { 1, 2 } })
    assert.are.same({}, calls)
  end)

  it("refuse two configs with the same run id", function()
    local s = fake_sweep(tmpdir())
    s:run(s:config { x = 1 })
    assert.has_error(function() s:run(s:config { x = 1 }) end)
  end)

  it("collect merges a directory with or without sweep.json", function()
    local dir = tmpdir()
    local s = fake_sweep(dir)
    s:run_all(s:grid { x = { 10, 9, 8 }, kind = { "b" } })
    local with = read(dir .. "/sweep.csv")
    os.remove(dir .. "/sweep.csv")
    sweep.collect(dir, { quiet = true })
    assert.are.equal(with, read(dir .. "/sweep.csv"))
    -- without the manifest: every run directory in name order, the columns
    -- the keys their run ids name
    os.remove(dir .. "/sweep.json")
    sweep.collect(dir, { quiet = true })
    local header, rows = read_csv(dir .. "/sweep.csv")
    assert.are.same({ "kind", "x", "value", "run_dir" }, header)
    assert.are.same({ "10", "8", "9" }, { rows[1][2], rows[2][2], rows[3][2] })
    assert.are.equal(string.format("%.10g", 8 * 1e-3), rows[2][3])
    sh("rm -rf " .. dir)
  end)
end)

describe("the sparse AE sweep", function()
  local script = root .. "/experiments/sweep_sparsity.lua"
  local args = "--epochs=1 --limit=300 --no-checkpoint --quiet"
  local env = string.format("export OPENBLAS_NUM_THREADS=1 AERUN_DATA=%q;", root .. "/data")
  local sequential

  local function run_in(dir, cmd)
    return sh(string.format("cd %q && %s %s", dir, env, cmd))
  end

  -- GNU parallel is a dependency (Debian package parallel); say so when it is missing
  local function have_parallel()
    local out = sh("parallel --version")
    if out:find("GNU parallel", 1, true) then return true end
    pending("GNU parallel is not installed (Debian package parallel)")
    return false
  end

  it("writes one run directory per config and sweep.csv", function()
    sequential = tmpdir()
    local out, ok = run_in(sequential, string.format("%q %q %s", aerun, script, args))
    assert.is_true(ok, out)
    local _, rows = read_csv(sequential .. "/checkpoints/sweep_sparsity/sweep.csv")
    assert.are.equal(6, #rows)
    for _, row in ipairs(rows) do
      local dir = sequential .. "/" .. row[#row]
      for _, f in ipairs { "config.json", "metrics.csv", "result.json", "loss.png" } do
        assert.is_true(exists(dir .. "/" .. f), dir .. "/" .. f)
      end
    end
  end)

  it("--sweep-list prints one command per config", function()
    local out, ok = run_in(sequential, string.format("%q --sweep-list %q %s", aerun, script, args))
    assert.is_true(ok, out)
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.are.equal(6, #lines, out)
    for i, line in ipairs(lines) do
      assert.are.equal(string.format("%s %s %s --shard=%d/6", aerun, script, args, i - 1), line)
    end
  end)

  it("--sweep-list stops a script that is not a sweep before it trains", function()
    local out, ok = run_in(sequential, string.format("%q --sweep-list %q/experiments/ae_mnist.lua --limit=100", aerun, root))
    assert.is_falsy(ok)
    assert.matches("%-%-sweep%-list: the script starts run ae_mnist itself", out)
    assert.is_nil(out:find("epoch 1", 1, true), out)
    out, ok = run_in(sequential, string.format("%q --sweep-collect nowhere", aerun))
    assert.is_falsy(ok)
    assert.matches("aerun: sweep.collect: no run directory with a result.json under nowhere\n$", out)
  end)

  it("--sweep-count prints the number of configs and trains nothing", function()
    local dir = tmpdir()
    local out, ok = run_in(dir, string.format("%q --sweep-count %q %s", aerun, script, args))
    assert.is_true(ok, out)
    assert.are.equal("6\n", out)
    assert.is_false(exists(dir .. "/checkpoints"), "--sweep-count wrote checkpoints/")
    -- --shard on the command line does not change the count
    out, ok = run_in(dir, string.format("%q --sweep-count %q %s --shard=1/4", aerun, script, args))
    assert.is_true(ok, out)
    assert.are.equal("6\n", out)
    sh("rm -rf " .. dir)
  end)

  it("--sweep-count refuses a script that is not a sweep, and no script", function()
    local out, ok = run_in(sequential, string.format("%q --sweep-count %q/experiments/ae_mnist.lua --limit=100", aerun, root))
    assert.is_falsy(ok)
    assert.matches("%-%-sweep%-count: the script starts run ae_mnist itself", out)
    assert.is_nil(out:find("epoch 1", 1, true), out)
    out, ok = run_in(sequential, string.format("%q --sweep-count", aerun))
    assert.is_falsy(ok)
    assert.matches("aerun: %-%-sweep%-count needs a sweep script\n$", out)
    write(sequential .. "/plain.lua", "local x = 1\n")
    out, ok = run_in(sequential, string.format("%q --sweep-count plain.lua", aerun))
    assert.is_falsy(ok)
    assert.matches("%-%-sweep%-count: the script made no sweep", out)
  end)

  -- tools/slurm/sweep.sbatch without a cluster: sh runs it as each array
  -- task would run (SLURM_ARRAY_TASK_ID and _COUNT set, #SBATCH lines
  -- being comments); tests/slurm_spec.lua runs it under a real Slurm
  it("run as array tasks 0..N-1 of tools/slurm/sweep.sbatch, N from --sweep-count, gives the same summary", function()
    local dir = tmpdir()
    local template = root .. "/tools/slurm/sweep.sbatch"
    local n = tonumber((run_in(dir, string.format("%q --sweep-count %q %s", aerun, script, args))))
    assert.are.equal(6, n)
    -- outside an array it says how to submit it
    local out, ok = run_in(dir, string.format("AERUN=%q sh %q %q %s", aerun, template, script, args))
    assert.is_falsy(ok)
    assert.matches("submit as a job array, sbatch %-%-array=0%-", out)
    for k = 0, n - 1 do
      out, ok = run_in(dir, string.format("AERUN=%q SLURM_ARRAY_TASK_ID=%d SLURM_ARRAY_TASK_COUNT=%d SLURM_CPUS_PER_TASK=1 sh %q %q %s",
        aerun, k, n, template, script, args))
      assert.is_true(ok, out)
      assert.matches("aerun sweep task " .. k .. " of " .. n, out)
    end
    assert.are.same(comparable(sequential .. "/checkpoints/sweep_sparsity/sweep.csv"),
      comparable(dir .. "/checkpoints/sweep_sparsity/sweep.csv"))
    sh("rm -rf " .. dir)
  end)

  it("run by GNU parallel, a command per config, then --sweep-collect, gives the same summary", function()
    if not have_parallel() then return end
    local dir = tmpdir()
    local out, ok = run_in(dir, string.format("%q --sweep-list %q %s | parallel -j2", aerun, script, args))
    assert.is_true(ok, out)
    out, ok = run_in(dir, string.format("%q --sweep-collect checkpoints/sweep_sparsity", aerun))
    assert.is_true(ok, out)
    assert.matches("wrote checkpoints/sweep_sparsity/sweep.csv", out)
    assert.are.same(comparable(sequential .. "/checkpoints/sweep_sparsity/sweep.csv"),
      comparable(dir .. "/checkpoints/sweep_sparsity/sweep.csv"))
    sh("rm -rf " .. dir)
  end)

  it("run as two shards by GNU parallel gives the same summary", function()
    if not have_parallel() then return end
    local dir = tmpdir()
    local out, ok = run_in(dir, string.format("parallel -j2 %q %q %s --shard={}/2 ::: 0 1", aerun, script, args))
    assert.is_true(ok, out)
    assert.are.same(comparable(sequential .. "/checkpoints/sweep_sparsity/sweep.csv"),
      comparable(dir .. "/checkpoints/sweep_sparsity/sweep.csv"))
    sh("rm -rf " .. dir)
  end)

  it("resumes after SIGKILL, rerunning only what had not finished", function()
    local dir = tmpdir()
    local slow = "--epochs=1 --limit=3000 --no-checkpoint --quiet"   -- runs long enough to be killed among them
    local cmd = string.format("cd %q && %s exec %q %q %s", dir, env, aerun, script, slow)
    local pidfile = dir .. "/pid"
    assert(os.execute(string.format("(%s >/dev/null 2>&1 & echo $! > %q)", cmd, pidfile)))
    local pid = assert(io.open(pidfile)):read("n")
    local runs = dir .. "/checkpoints/sweep_sparsity"
    local t0 = ae.time()
    local function finished()
      local out = sh(string.format("ls %q/*/result.json 2>/dev/null | wc -l", runs))
      return tonumber(out) or 0
    end
    while finished() < 2 and ae.time() - t0 < 60 do sh("sleep 0.02") end
    sh("kill -9 " .. pid)
    sh("sleep 0.1")
    local before = finished()
    assert.is_true(before >= 2 and before < 6, "killed after " .. before .. " runs")
    assert.is_false(exists(runs .. "/sweep.csv"))

    local out, ok = sh((cmd:gsub(" %-%-quiet", "")))
    assert.is_true(ok, out)
    local skipped = select(2, out:gsub("done before, skipped", ""))
    assert.are.equal(before, skipped, out)
    assert.matches("6 runs, " .. (6 - before) .. " run here, " .. before .. " done before", out)
    local _, rows = read_csv(runs .. "/sweep.csv")
    assert.are.equal(6, #rows)

    -- the same numbers as a sweep that was never interrupted
    local again = tmpdir()
    out, ok = sh(string.format("cd %q && %s %q %q %s", again, env, aerun, script, slow))
    assert.is_true(ok, out)
    assert.are.same(comparable(again .. "/checkpoints/sweep_sparsity/sweep.csv"), comparable(runs .. "/sweep.csv"))
    sh("rm -rf " .. dir .. " " .. again)
  end)

  it("cleans up", function()
    sh("rm -rf " .. sequential)
  end)
end)
