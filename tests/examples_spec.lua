-- examples_spec.lua: every script under examples/ runs on a small budget
-- and produces what it says it does; and the README's first script stays in
-- a training-sized memory budget.
--
-- The scripts are found by listing examples/, so a new one is run without
-- being added here.  They run in file-name order, as a reader would, in one
-- scratch directory that has `data` beside it (so `examples/09_*.py` reads
-- what `examples/09_*.lua` wrote), each with the arguments
--   --epochs=2 --limit=1000
-- (a .py script with none, under /usr/bin/python3; skipped, saying why,
-- without h5py and torch).  Single-threaded (OPENBLAS_NUM_THREADS=1), so
-- that runs that should agree bit for bit do.  Every script must:
--   - exit with status 0 and end with the line `result {json}`, every number
--     in it finite;
--   - when the result names a run directory (run:finish), leave config.json,
--     metrics.csv, loss.png, checkpoint.h5 and result.json there, and a
--     test loss that fell from the first epoch to the second.
-- `checks` below adds what each script of the guide must produce beyond that.
local json = require "aerun.json"
local process = require "tests.helpers.process"
local quote, sh, read, root = process.quote, process.sh, process.read, process.root

-- python is not ours to sanitize: under make test-asan the preloaded ASan
-- runtime would make torch abort, so it runs without it
local PYTHON = "env -u LD_PRELOAD /usr/bin/python3"
local under_asan = (os.getenv("LD_PRELOAD") or ""):match("asan") ~= nil
local BUDGET = "--epochs=2 --limit=1000"
local ENV = "OPENBLAS_NUM_THREADS=1 "

-- the scripts under examples/, in name order
local function example_files()
  local files = {}
  for name in sh("ls " .. quote(root .. "/examples")):gmatch("[^\n]+") do files[#files + 1] = name end
  table.sort(files)
  return files
end

-- the last `result {json}` line of an output, decoded
local function result_of(out)
  local line
  for l in out:gmatch("[^\n]+") do
    if l:match("^result {") then line = l:match("^result (.*)$") end
  end
  return line and json.decode(line)
end

local column = process.csv_column

local function csv_rows(text)
  local n = 0
  for _ in text:gmatch("[^\n]+") do n = n + 1 end
  return n - 1   -- without the header
end

local function all_finite(t, where)
  for k, v in pairs(t) do
    if type(v) == "number" then
      assert(v == v and v ~= math.huge and v ~= -math.huge, where .. ": " .. k .. " is " .. tostring(v))
    elseif type(v) == "table" then
      all_finite(v, where)
    end
  end
end

local function is_png(path)
  local bytes = read(path)
  return bytes ~= nil and bytes:sub(1, 8) == "\137PNG\r\n\26\n"
end

local dir   -- the scratch directory every script runs in

local function aerun(args)
  return sh("cd " .. quote(dir) .. " && " .. ENV .. quote(process.aerun) .. " " .. args .. " </dev/null")
end

-- the test_mse of each run of a sweep.csv, by run directory name
local function sweep_mse(csv_path)
  local text = assert(read(csv_path), csv_path .. " missing")
  local mse, runs = column(text, "test_mse"), {}
  local i = 0
  for line in text:match("^[^\n]+\n(.*)$"):gmatch("[^\n]+") do
    i = i + 1
    runs[(line:match("([^/]+)$"):gsub('"$', ""))] = mse[i]   -- the run id, the last part of run_dir
  end
  return runs, i
end

-- what each script must produce beyond the common checks: (result, output)
local extra_args = { ["07_slurm.lua"] = "--local" }
local checks = {}

checks["01_plain_loop.lua"] = function(r)
  assert.is_true(r.test_mse < r.first_test_mse, "test MSE did not fall: " .. r.first_test_mse .. " -> " .. r.test_mse)
  assert.is_true(is_png(dir .. "/plain_loop.png"), "plain_loop.png missing or not a PNG")
end

-- resuming the 2-epoch run to 3 epochs ends where an uninterrupted
-- 3-epoch run ends, bit for bit, and keeps the first two epochs' rows
checks["02_run_api.lua"] = function(r)
  local script = quote(root .. "/examples/02_run_api.lua")
  local before = column(read(dir .. "/" .. r.run_dir .. "/metrics.csv"), "test_loss")
  local out, ok = aerun(script .. " --epochs=3 --limit=1000 --resume=" .. quote(r.run_dir .. "/checkpoint.h5"))
  assert(ok, out)
  assert.is_truthy(out:find("resumed from", 1, true), out)
  local resumed = result_of(out)
  out, ok = aerun(script .. " --epochs=3 --limit=1000 --out=straight")
  assert(ok, out)
  local straight = result_of(out)
  assert.are.equal(straight.test_mse, resumed.test_mse)
  local after = column(read(dir .. "/" .. resumed.run_dir .. "/metrics.csv"), "test_loss")
  assert.are.equal(3, #after)
  assert.are.same(before, { after[1], after[2] })
end

checks["03_experiment.lua"] = function(r)
  assert.are.equal(0.3, r.noise)
  assert.are.equal(32, r.code)
  assert.is_truthy(r.run_dir:find("^checkpoints/denoising/"), r.run_dir)
end

checks["04_custom_module.lua"] = function(r)
  assert.are.equal("LogitVAE", r.rebuilt_class)
  assert.are.equal(0, r.rebuilt_difference)   -- the same weights, the same ops: the same numbers
  assert.is_true(r.test_loss < r.first_test_loss, r.first_test_loss .. " -> " .. r.test_loss)
  assert.is_true(is_png(dir .. "/checkpoints/custom_module/samples.png"), "samples.png missing")
  assert.is_truthy(read(dir .. "/checkpoints/custom_module/vae.h5"), "vae.h5 missing")
end

-- per-step schedules: β = linear(0, 1, kl_steps) and the rate = a linear
-- warm-up over lr_steps then cosine(1e-3, 1e-4) to the last step, both at
-- each epoch's last step (worked out here from their definitions; the
-- CSV keeps 10 digits); β took a new value at every step of epoch 1
checks["05_schedules.lua"] = function(r)
  local csv = read(dir .. "/" .. r.run_dir .. "/metrics.csv")
  local betas, lrs = column(csv, "beta"), column(csv, "lr")
  local n, kl, warm = r.steps, r.kl_steps, r.lr_steps
  assert.are.equal(2 * r.steps_per_epoch, n)
  for epoch = 1, 2 do
    local step = epoch * r.steps_per_epoch
    local beta = kl == 1 and 1 or math.min(1, (step - 1) / (kl - 1))
    local lr
    if step <= warm then
      lr = 1e-3 * (step - 1) / warm
    else
      local len = math.max(1, n - warm)
      local t = len == 1 and 1 or math.min(1, (step - warm - 1) / (len - 1))
      lr = 1e-4 + (1e-3 - 1e-4) * (1 + math.cos(math.pi * t)) / 2
    end
    assert(math.abs(betas[epoch] - beta) <= 1e-9 * math.max(beta, 1e-300), ("beta at epoch %d: %.17g, expected %.17g"):format(epoch, betas[epoch], beta))
    assert(math.abs(lrs[epoch] - lr) <= 1e-9 * lr, ("lr at epoch %d: %.17g, expected %.17g"):format(epoch, lrs[epoch], lr))
  end
  assert.are.equal(math.min(r.steps_per_epoch, kl), r.betas_first_epoch)
end

local sequential_sweep   -- 06's runs, for 07 to agree with

-- four runs; run again, every one is skipped; by GNU parallel, one process
-- per config, the same test MSEs
checks["06_sweep.lua"] = function(r, out)
  assert.are.equal(4, r.runs)
  local runs, n = sweep_mse(dir .. "/checkpoints/sweep_denoising/sweep.csv")
  assert.are.equal(4, n)
  sequential_sweep = runs
  local script = quote(root .. "/examples/06_sweep.lua")
  out = assert(aerun(script .. " " .. BUDGET))
  assert.is_truthy(out:find("4 runs, 0 run here, 4 done before", 1, true), out)
  if not sh("parallel --version"):find("GNU parallel", 1, true) then
    pending("GNU parallel is not installed (Debian package parallel): the parallel sweep is not checked")
    return
  end
  local ok
  out, ok = sh("cd " .. quote(dir) .. " && " .. ENV .. quote(process.aerun) .. " --sweep-list " .. script .. " "
    .. BUDGET .. " --out=parallel_sweep | parallel -j2 && " .. quote(process.aerun)
    .. " --sweep-collect parallel_sweep")
  assert(ok, out)
  local par, m = sweep_mse(dir .. "/parallel_sweep/sweep.csv")
  assert.are.equal(4, m)
  assert.are.same(runs, par)
end

-- the batch script's array covers the sweep, and its tasks, run as Slurm
-- would run them, give the sequential sweep's numbers
checks["07_slurm.lua"] = function(r)
  assert.are.equal(4, r.tasks)
  assert.are.equal(4, r.runs)
  assert.are.equal(0, r.missing)
  local batch = read(dir .. "/checkpoints/slurm_denoising/sweep.sbatch")
  assert.is_truthy(batch:find("#SBATCH --array=0-3\n", 1, true), batch)
  assert.is_truthy(batch:find("--shard=$SLURM_ARRAY_TASK_ID/4", 1, true), batch)
  local runs, n = sweep_mse(dir .. "/checkpoints/slurm_denoising/sweep.csv")
  assert.are.equal(4, n)
  if sequential_sweep then assert.are.same(sequential_sweep, runs) end
end

-- three well-separated clusters: the codes classify them
checks["08_own_data.lua"] = function(r)
  assert.is_true(r.test_mse < r.first_test_mse, r.first_test_mse .. " -> " .. r.test_mse)
  assert.is_true(r.accuracy >= 0.9, "accuracy " .. r.accuracy)
  assert.is_truthy(read(dir .. "/checkpoints/own_data_example/points.csv"), "points.csv missing")
end

checks["09_results_elsewhere.lua"] = function(r)
  assert.are.equal(32, r.code_size)
  assert.is_truthy(read(dir .. "/" .. r.codes), r.codes .. " missing")
end

checks["09_results_elsewhere.py"] = function(r)
  assert.are.equal(2, r.epochs)
  assert.are.same({ 1000, 32 }, r.codes)
  assert.are.equal(10, r.labels)
  assert.is_true(r.test_loss_last < r.test_loss_first)
  -- the tool's tolerance; float32 sums in another order differ by ~1e-7
  assert.is_true(r.torch_max_difference <= 1e-5, tostring(r.torch_max_difference))
end

local python_missing
do
  local _, ok = sh(PYTHON .. " -c 'import h5py, numpy, torch'")
  if not ok then python_missing = "/usr/bin/python3 cannot import h5py, numpy and torch (apt-get install python3-h5py python3-torch)" end
end

describe("examples/", function()
  setup(function()
    dir = process.tmpdir()
    assert(os.execute("ln -s " .. quote(root .. "/data") .. " " .. quote(dir .. "/data")))
  end)
  teardown(function() os.execute("rm -rf " .. quote(dir)) end)

  local files = example_files()

  it("holds the guide's scripts, each saying what it shows and how to run it", function()
    assert.is_true(#files >= 9, "found " .. #files .. " scripts")
    for _, name in ipairs(files) do
      assert.is_truthy(name:match("%.lua$") or name:match("%.py$"), "examples/" .. name .. " is neither Lua nor Python")
      local head = process.read_all(root .. "/examples/" .. name):sub(1, 1500)
      assert.is_truthy(head:find("examples/" .. name, 1, true), name .. ": the header does not say how to run it")
      assert.is_truthy(read(root .. "/docs/guide.md"):find("examples/" .. name, 1, true),
        name .. " is not linked from docs/guide.md")
    end
  end)

  for _, name in ipairs(files) do
    it(name .. " runs on a small budget", function()
      local out, ok
      if name:match("%.py$") then
        if python_missing then
          pending("skipped: " .. python_missing)
          return
        end
        out, ok = sh("cd " .. quote(dir) .. " && " .. PYTHON .. " " .. quote(root .. "/examples/" .. name) .. " </dev/null")
      else
        out, ok = aerun(quote(root .. "/examples/" .. name) .. " " .. BUDGET .. " " .. (extra_args[name] or ""))
      end
      assert(ok, "examples/" .. name .. " failed:\n" .. out)
      local r = result_of(out)
      assert(r, "examples/" .. name .. " printed no `result {json}` line:\n" .. out)
      all_finite(r, name)
      if r.run_dir then
        local run_dir = dir .. "/" .. r.run_dir
        for _, file in ipairs { "config.json", "metrics.csv", "result.json", "checkpoint.h5", "loss.png" } do
          assert.is_truthy(read(run_dir .. "/" .. file), r.run_dir .. "/" .. file .. " missing")
        end
        local losses = column(read(run_dir .. "/metrics.csv"), "test_loss")
        assert.are.equal(2, #losses)
        assert.is_true(losses[2] < losses[1], name .. ": test loss did not fall: " .. table.concat(losses, ", "))
      end
      if checks[name] then checks[name](r, out) end
    end)
  end
end)

-- The README's "A first script", as printed, for two epochs: its test MSE
-- falls, and its peak resident memory (VmHWM, read at the end by a line
-- appended to the script) stays in a training-sized budget.  Measured here
-- (2026-12-05, 1, 2 or 4 BLAS threads): 100-102 MB, against 221 MB for the
-- whole test set evaluated in one call and 950 MB for the whole training set
-- with gradients on (what the script used to do).  160 MB leaves 60% for
-- other machines' allocators and BLAS buffers and still fails either.
-- Under make test-asan (ASan's shadow memory and quarantine) the bound is
-- not checked.
describe("the README's first script", function()
  local BOUND_KB = 160 * 1024

  it("trains with its test MSE falling in a training-sized memory budget", function()
    local readme = process.read_all(root .. "/README.md")
    local section = assert(readme:match("\n## A first script\n(.-)\n## "), "no section \"A first script\" in README.md")
    local code = assert(section:match("```lua\n(.-)```"), "no Lua block in \"A first script\"")
    local scratch = process.tmpdir()
    assert(os.execute("ln -s " .. quote(root .. "/data") .. " " .. quote(scratch .. "/data")))
    process.write(scratch .. "/first.lua", code .. [[
local status = io.open("/proc/self/status"):read("a")
print("VmHWM_kB " .. status:match("VmHWM:%s*(%d+)"))
]])
    local out, ok = sh("cd " .. quote(scratch) .. " && " .. quote(process.aerun) .. " first.lua --epochs=2 </dev/null")
    os.execute("rm -rf " .. quote(scratch))
    assert(ok, out)
    local mse = {}
    for epoch, v in out:gmatch("\n?(%d+)\t([%d.e-]+)") do mse[tonumber(epoch)] = tonumber(v) end
    assert.is_number(mse[1], out)
    assert.is_number(mse[2], out)
    assert.is_true(mse[2] < mse[1], "test MSE did not fall: " .. mse[1] .. " -> " .. mse[2])
    local hwm = tonumber(out:match("VmHWM_kB (%d+)"))
    if under_asan then
      pending(string.format("under ASan (peak RSS %d kB): the memory bound is not checked", hwm))
      return
    end
    assert.is_true(hwm < BOUND_KB, string.format("peak RSS %d kB, over the %d kB budget", hwm, BOUND_KB))
  end)
end)
