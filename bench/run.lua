-- bench/run.lua: what `make bench` runs.  For the tutorials' three models
-- and a larger one (the VAE at hidden 4096, batch 512) it trains --epochs
-- epochs of Fashion-MNIST in aerun and, where Debian's python3-torch is
-- installed, in PyTorch, in this same run: aerun in fp32 and in bf16
-- (ae.precision), PyTorch in fp32 as users run it, in fp32 with
-- torch.set_flush_denormal(True), and under torch.autocast to bf16.  It
-- prints samples/s in the steady state (the mean of the epochs after the
-- first) next to the first epoch's, GFLOP/s against the measured sgemm
-- peak, peak memory, the test loss over seeds, the engine and ISA each
-- run's products dispatched to, and the issue's goal ratios; then how the
-- VAE's cost grows with batch and width.
--
--   build/aerun bench/run.lua [--models=ae,vae,cae] [--epochs=3] [--seeds=2] [--repeat=2]
--                             [--threads=1,2] [--no-big] [--big_limit=10240] [--no-rnn] [--rnn_limit=12800]
--                             [--no-scaling]
--                             [--profile] [--quick] [--wait_idle=20] [--json=PATH]
--
-- --quick: 2 epochs (the figure is the second), one repeat, one seed, no
-- scaling, the larger model on 2,048 images.  AERUN_BENCH_PYTHON names
-- another python than /usr/bin/python3 (/bin/false: no PyTorch).
--
-- Both sides are measured at their best thread setting, alternately, model
-- by model, so that load from other processes hits both alike; each
-- setting runs --repeat times and keeps its best run (by its steady-state
-- figure).  The thread search is done in fp32; aerun bf16 runs at aerun
-- fp32's best thread count, and PyTorch's flushed and autocast runs at its
-- fp32 best setting, measured right after them in each round.  aerun tries 1 and
-- 2 threads (its GEMM backend is AERUN_GEMM's, default oneDNN where
-- installed); PyTorch tries torch.set_num_threads(1) and (2) with
-- OpenBLAS's own pool at its default (one thread per core), and (1) with
-- OPENBLAS_NUM_THREADS=1, a truly single-threaded PyTorch, which wins on a
-- loaded machine.  --profile adds, per model, where aerun's epoch went.
-- Each measurement waits (up to --wait_idle seconds) for idle cores first;
-- the end of the output says how many could not.
local ae = require "aerun"
local json = require "aerun.json"

local cfg, explicit = ae.config {
  quick = false, models = "ae,vae,cae", seeds = 2, ["repeat"] = 2, threads = "1,2", epochs = 3,
  big = true, big_limit = 10240, rnn = true, rnn_limit = 12800, scaling = true, profile = false, wait_idle = 20, json = "",
}
if cfg.quick then
  cfg["repeat"], cfg.seeds, cfg.scaling = 1, 1, false
  if not explicit.epochs then cfg.epochs = 2 end
  if not explicit.big_limit then cfg.big_limit = 2048 end
  if not explicit.rnn_limit then cfg.rnn_limit = 2560 end
end
if cfg.epochs < 1 then error("bench: --epochs must be at least 1, got " .. cfg.epochs, 0) end
local aerun = arg[-1] or "build/aerun"
local python = os.getenv("AERUN_BENCH_PYTHON") or "/usr/bin/python3"

local function capture(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  return out, ok
end

-- the last line of the output that is a JSON object (a profile report may follow it)
local function run_json(cmd)
  local out, ok = capture(cmd)
  local line
  for l in out:gmatch("[^\n]+") do if l:match("^%b{}$") then line = l end end
  if not ok or not line then error("bench: command failed: " .. cmd .. "\n" .. out, 0) end
  return json.decode(line)
end

local function list(s)
  local out = {}
  for w in s:gmatch("[^,]+") do out[#out + 1] = w end
  return out
end

local function first_line(path, pattern)
  local f = io.open(path)
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text:match(pattern)
end

local function nproc() return tonumber((capture("nproc"))) or 1 end

-- the machine's idle share over half a second, from /proc/stat (nil where unknown)
local function idle_share()
  local function sample()
    local line = first_line("/proc/stat", "^cpu%s+([^\n]+)")
    if not line then return nil end
    local v = {}
    for n in line:gmatch("%d+") do v[#v + 1] = tonumber(n) end
    local total = 0
    for i = 1, math.min(#v, 8) do total = total + v[i] end
    return v[4] + (v[5] or 0), total
  end
  local i0, t0 = sample()
  if not i0 then return nil end
  os.execute("sleep 0.5")
  local i1, t1 = sample()
  return t1 > t0 and (i1 - i0) / (t1 - t0) or nil
end

-- Before each measurement, wait (up to --wait_idle seconds) for the cores
-- to be idle, so that other processes' bursts land between measurements
-- rather than in them; counts the measurements that had to start busy.
local started_busy, measurements = 0, 0
local function settle()
  measurements = measurements + 1
  if cfg.wait_idle <= 0 then return end
  local t0 = ae.time()
  repeat
    local idle = idle_share()
    if not idle or idle >= 0.9 then return end
  until ae.time() - t0 > cfg.wait_idle
  started_busy = started_busy + 1
end

local function have_torch()
  local _, ok = capture(python .. " -c 'import torch'")
  return ok
end

-- ------------------------------------------------------------------ machine
local cpu = first_line("/proc/cpuinfo", "model name%s*:%s*([^\n]+)") or "unknown CPU"
local flags = first_line("/proc/cpuinfo", "\nflags%s*:%s*([^\n]+)") or ""
local units = {}
for _, f in ipairs { "avx512f", "avx512_bf16", "amx_bf16" } do
  if (" " .. flags .. " "):find(" " .. f .. " ", 1, true) then units[#units + 1] = f end
end
local load = first_line("/proc/loadavg", "^(%S+ %S+ %S+)") or "?"
print(string.format("machine: %s, %d cores (%s); load average %s (other processes skew every figure:" ..
  " compare only within this run)", cpu, nproc(), #units > 0 and table.concat(units, " ") or "no AVX-512",
  load))
print("aerun: " .. ae.gemm_backend() .. " by default; AERUN_GEMM=openblas|dnnl picks the GEMM backend; denormals " ..
  (ae.denormals and ae.denormals() or "kept (this aerun has no ae.denormals)"))
local result = {
  machine = { cpu = cpu, cores = nproc(), units = units, load_start = load },
  aerun_backend = ae.gemm_backend(), denormals = ae.denormals and ae.denormals() or "keep",
  epochs = cfg.epochs, ["repeat"] = cfg["repeat"], quick = cfg.quick, sgemm = {},
}

-- the threads to try: --threads, or what the user fixed in the environment
local fixed = os.getenv("AERUN_THREADS") or os.getenv("OPENBLAS_NUM_THREADS")
local threads = {}
for _, t in ipairs(fixed and { fixed } or list(cfg.threads)) do threads[#threads + 1] = math.tointeger(tonumber(t)) end

-- ---------------------------------------------------------------- sgemm peak
-- each backend and thread count in its own process (a backend is chosen at
-- the first product); the VAE's widest layer and a large square
-- the best of five short measurements each, so that a moment of load
-- from another process does not set the peak
local function gemm_peak(backend, t)
  settle()
  local script = "local ae = require 'aerun'; local function best(m, n, k, s) local b = 0;" ..
      " for _ = 1, 5 do b = math.max(b, ae.bench_gemm(m, n, k, s)) end return b end;" ..
      " print(require('aerun.json').encode{backend = ae.gemm_backend()," ..
      " vae = best(128, 400, 784, 0.2), big = best(2048, 2048, 2048, 0.4)})"
  return run_json(string.format("AERUN_GEMM=%s AERUN_THREADS=%d %s -e %q", backend, t, aerun, script))
end

local backends = { "openblas" }
if capture("AERUN_GEMM=dnnl " .. aerun .. " -e \"print(require'aerun'.gemm_backend())\""):find("^oneDNN") then
  backends[2] = "dnnl"
end
local default_backend = ae.gemm_backend():find("^oneDNN") and "dnnl" or "openblas"
print()
print("sgemm, GFLOP/s (C = A·B, row-major):")
print(string.format("  %-44s %14s %10s", "backend", "128×784×400", "2048³"))
local peak = {}   -- by thread count, for the backend the models train with
for _, b in ipairs(backends) do
  for _, t in ipairs(threads) do
    local g = gemm_peak(b, t)
    print(string.format("  %-44s %14.0f %10.0f", g.backend, g.vae, g.big))
    result.sgemm[#result.sgemm + 1] = { backend = g.backend, threads = t, m128_784_400 = g.vae, n2048 = g.big }
    if b == default_backend then peak[t] = math.max(g.vae, g.big) end
  end
end

-- ----------------------------------------------------------------- training
local torch = have_torch()
if not torch then
  print("PyTorch is not available (" .. python .. " cannot import torch): its rows are skipped" ..
    " (apt-get install python3-torch)")
end

-- the engine and ISA PyTorch's products and convolutions dispatch to, from
-- a short probe under oneDNN's verbose mode (bench/torch_bench.py isa)
local isa
if torch then
  local ok, r = pcall(run_json, python .. " bench/torch_bench.py isa")
  if ok then isa = r else print("PyTorch's ISA probe failed: " .. tostring(r):match("[^\n]*")) end
end
result.torch_isa = isa
if isa then
  print(string.format("PyTorch %s: its own kernels at CPU capability %s; fp32 products in %s, convolutions in %s;" ..
    " under autocast, bf16 products in %s, convolutions in %s", isa.torch, isa.cpu_capability, isa.fp32_matmul,
    isa.fp32_conv, isa.bf16_matmul, isa.bf16_conv))
end

local function aerun_run(model, t, extra, env)
  settle()
  return run_json(string.format("%sAERUN_THREADS=%d %s bench/train.lua --model=%s --epochs=%d %s", env or "", t,
    aerun, model, cfg.epochs, extra or ""))
end

local torch_configs = {
  { label = "1 thread + OpenBLAS pool", threads = 1, env = "" },
  { label = "2 threads + OpenBLAS pool", threads = 2, env = "" },
  { label = "1 thread, OpenBLAS 1", threads = 1, env = "OPENBLAS_NUM_THREADS=1 " },
}

local function torch_run(c, model, extra)
  settle()
  local r = run_json(string.format("%s%s bench/torch_bench.py %s %d --epochs=%d %s", c.env, python, model,
    c.threads, cfg.epochs, extra or ""))
  r.label = c.label
  return r, c
end

-- What is measured: the three models as the tutorials train them, and the
-- larger row.  For that row the VAE at hidden 4096 rather than a widened
-- MLP AE: its width is a knob both sides already have, and almost all of
-- its work (>97% of the flops) is in the two 784x4096 layers, products of
-- 512x784x4096 where the matrix units pay best, whereas a widened AE would
-- still carry its narrow 64-32 layers.  It trains on --big_limit images an
-- epoch (10,240 = 20 batches; full epochs would take minutes a run on 2
-- cores) and two epochs (the figure is the second: over so few batches
-- nothing drifts into subnormals, and the point of this row is the matrix
-- units), one round, one seed, at its own thread search's best settings.
local groups = {}
for _, m in ipairs(list(cfg.models)) do
  groups[#groups + 1] = { name = m, model = m, aerun_extra = "", torch_extra = "", seeds = cfg.seeds,
    rounds = cfg["repeat"] }
end
if cfg.big then
  -- the later --epochs wins over the one aerun_run and torch_run put first;
  -- a warm-up of 5 batches of 512 is the others' 20 of 128 in samples
  local e = math.min(cfg.epochs, 2)
  groups[#groups + 1] = { name = "vae-4096", model = "vae", big = true, aside = true, seeds = 1, rounds = 1, epochs = e,
    aerun_extra = string.format("--hidden=4096 --batch_size=512 --limit=%d --epochs=%d --warmup=5", cfg.big_limit, e),
    torch_extra = string.format("--hidden=4096 --batch=512 --limit=%d --epochs=%d --warmup=5", cfg.big_limit, e) }
end

-- The recurrent layers: the sequence autoencoder of seq_ae_mnist (an
-- LSTM or GRU encoder and decoder at hidden 128 over 28 rows of 28) against
-- the same model on PyTorch's nn.LSTM / nn.GRU, on --rnn_limit images an
-- epoch (PyTorch's LSTM takes over a minute a full epoch on 2 cores), two
-- epochs (the figure is the second), one round, one seed.
if cfg.rnn then
  local e = math.min(cfg.epochs, 2)
  for _, cell in ipairs { "lstm", "gru" } do
    local extra = string.format("--hidden=128 --limit=%d --epochs=%d", cfg.rnn_limit, e)
    groups[#groups + 1] = { name = cell, model = cell, aside = true, seeds = 1, rounds = 1, epochs = e,
      aerun_extra = extra, torch_extra = extra }
  end
end

local variants = {
  { key = "aerun_fp32", label = "aerun fp32" },
  { key = "aerun_bf16", label = "aerun bf16" },
  { key = "torch_fp32", label = "PyTorch fp32" },
  { key = "torch_flush", label = "PyTorch fp32 flushed" },
  { key = "torch_bf16", label = "PyTorch bf16 autocast" },
}

-- the line of a failed run's output that says why: aerun's error, or
-- python's last unindented line (the exception)
local function reason(msg)
  local why = msg:match("\n(aerun: [^\n]+)")
  if why then return why end
  for l in msg:gmatch("[^\n]+") do
    if not l:match("^%s") and not l:match("^bench: command failed") then why = l end
  end
  return why or msg
end

local function better(a, b) return not a or b.samples_per_second > a.samples_per_second end

-- each setting's best run, the two sides alternating; a setting whose
-- first run was at less than half the best of its side is not run again
-- (PyTorch's 2-thread setting can take minutes an epoch here).  After the
-- fp32 thread search of each round, the other variants run at each side's
-- best fp32 setting so far.  A failing variant is reported and dropped.
local function measure(g)
  local a_best, t_best, runs, failed = {}, {}, {}, {}
  local function keep(best, i, r) if better(best[i], r) then best[i] = r end end
  local function top(best)
    local m = 0
    for _, r in pairs(best) do m = math.max(m, r.samples_per_second) end
    return m
  end
  local function worth(best, i, round)
    return round == 1 or best[i].samples_per_second >= top(best) / 2
  end
  local function best(l)
    local b
    for _, r in ipairs(l) do if better(b, r) then b = r end end
    return b
  end
  local function variant(key, fn)
    if failed[key] then return end
    local ok, r = pcall(fn)
    if ok then
      keep(runs, key, r)
    else
      failed[key] = "failed: " .. reason(tostring(r))
      io.stderr:write("bench: " .. g.name .. " " .. key .. " " .. tostring(r) .. "\n")
    end
  end
  for round = 1, g.rounds do
    for i, t in ipairs(threads) do
      if worth(a_best, i, round) then keep(a_best, i, aerun_run(g.model, t, g.aerun_extra)) end
    end
    if torch then
      for i, c in ipairs(torch_configs) do
        if worth(t_best, i, round) then
          local r = torch_run(c, g.model, g.torch_extra)
          r.config = c
          keep(t_best, i, r)
        end
      end
    end
    local ab, tb = best(a_best), best(t_best)
    variant("aerun_bf16", function() return aerun_run(g.model, ab.threads, g.aerun_extra .. " --precision=bf16") end)
    if tb then
      variant("torch_flush", function() return torch_run(tb.config, g.model, g.torch_extra .. " --flush_denormal=1") end)
      variant("torch_bf16", function() return torch_run(tb.config, g.model, g.torch_extra .. " --precision=bf16") end)
    end
  end
  runs.aerun_fp32, runs.torch_fp32 = best(a_best), best(t_best)
  if not torch then
    for _, k in ipairs { "torch_fp32", "torch_flush", "torch_bf16" } do failed[k] = "skipped: no PyTorch" end
  end
  return runs, failed, a_best, t_best
end

local function losses(first, seeds, fn)
  local l = { first.test_loss }
  for s = 2, seeds do l[#l + 1] = fn("--seed=" .. s).test_loss end
  table.sort(l)
  return l
end

local function mean(l)
  local s = 0
  for _, v in ipairs(l) do s = s + v end
  return s / #l
end

local rows = {}   -- the tutorials' models (the profile and scaling below use them)
for _, g in ipairs(groups) do
  io.stderr:write("bench: " .. g.name .. " ...\n")
  g.runs, g.failed, g.a_all, g.t_all = measure(g)
  local a, t = g.runs.aerun_fp32, g.runs.torch_fp32
  g.aerun = a
  g.aerun_losses = losses(a, g.seeds, function(extra) return aerun_run(g.model, a.threads, g.aerun_extra .. " " .. extra) end)
  if t then
    g.torch_losses = losses(t, g.seeds, function(extra) return torch_run(t.config, g.model, g.torch_extra .. " " .. extra) end)
  end
  if cfg.profile and not g.aside then
    g.profile = aerun_run(g.model, a.threads, g.aerun_extra, "AERUN_PROFILE=1 ").profile
  end
  if not g.aside then rows[#rows + 1] = g end
end

local function range(l)
  if #l == 1 then return string.format("%.4g", l[1]) end
  return string.format("%.4g–%.4g", l[1], l[#l])
end

-- the same loss: the means differ by no more than the seed-to-seed spread
local function same_loss(a, t)
  if not t then return "-" end
  if #a < 2 or #t < 2 then return "?" end
  local spread = math.max(a[#a] - a[1], t[#t] - t[1])
  return math.abs(mean(a) - mean(t)) <= spread and "yes" or "no"
end

-- the engine a run's products went to: aerun's backend as it reported it
-- (under bf16, whether it took the bf16 path), PyTorch's from the probe
local function engine(g, key, r)
  if key:find("^aerun") then return (r.backend:gsub(" %(%d+ threads?%)", "")) end
  if not isa then return "?" end
  local p = key == "torch_bf16" and "bf16_" or "fp32_"
  if g.model == "cae" then return "convs " .. isa[p .. "conv"] end
  return isa[p .. "matmul"]
end

local function setting(key, r)
  if key:find("^aerun") then return string.format("%d thread%s", r.threads, r.threads == 1 and "" or "s") end
  return r.label .. (key == "torch_flush" and not r.flush_denormal and " (no flush)" or "")
end

print()
local fmt = "%-8s %-21s %9s %9s %-26s %7s %7s %6s  %-15s %-4s %s"
print(string.format(fmt, "model", "run", "samples/s", "epoch 1", "setting", "GFLOP/s", "of peak", "MiB", "test loss",
  "same", "engine (ISA)"))
for _, g in ipairs(groups) do
  for _, v in ipairs(variants) do
    local r = g.runs[v.key]
    if not r then
      print(string.format("%-8s %-21s %s", g.name, v.label, g.failed[v.key] or "-"))
    else
      local aside = v.key:find("^aerun") ~= nil
      local p = aside and peak[r.threads]
      local loss = v.key == "aerun_fp32" and range(g.aerun_losses) or v.key == "torch_fp32" and range(g.torch_losses)
        or string.format("%.4g", r.test_loss)
      print(string.format(fmt, g.name, v.label, string.format("%.0f", r.samples_per_second),
        string.format("%.0f", r.first_epoch), setting(v.key, r), aside and string.format("%.0f", r.gemm_gflops) or "-",
        p and string.format("%.0f%%", 100 * r.gemm_gflops / p) or "-", string.format("%.0f", r.peak_rss_mib), loss,
        v.key == "aerun_fp32" and same_loss(g.aerun_losses, g.torch_losses) or "", engine(g, v.key, r)))
    end
  end
end
local function steady(e)
  return e == 1 and "the one epoch" or e == 2 and "epoch 2" or string.format("the mean of epochs 2-%d", e)
end
print(string.format("(samples/s: the steady state, %s of each run (epoch 1's alongside), the best" ..
  " of %d run%s; 60,000 Fashion-MNIST images an epoch, batch 128, Adam 1e-3;", steady(cfg.epochs), cfg["repeat"],
  cfg["repeat"] == 1 and "" or "s"))
if cfg.big then
  print(string.format(" vae-4096: the VAE at hidden 4096, batch 512, on the first %d images an epoch, %s, one run," ..
    " one seed;", cfg.big_limit, steady(math.min(cfg.epochs, 2))))
end
if cfg.rnn then
  print(string.format(" lstm, gru: the sequence AE of seq_ae_mnist at hidden 128, on the first %d images an epoch," ..
    " %s, one run, one seed;", cfg.rnn_limit, steady(math.min(cfg.epochs, 2))))
end
print(" GFLOP/s: the GEMM work of aerun's steady epochs over their time, against the fp32 sgemm peak above at the" ..
  " same threads (bf16 may pass 100%);")
print(" losses: the test set after " .. cfg.epochs .. " epochs, " .. cfg.seeds .. " seed(s) for fp32 (MSE per pixel," ..
  " VAE nats per sample); same: means closer than the seed spread;")
print(" PyTorch flushed: torch.set_flush_denormal(True); autocast: forward and loss under torch.autocast(\"cpu\"," ..
  " dtype=torch.bfloat16), Adam outside; both at PyTorch fp32's best setting, aerun bf16 at aerun fp32's)")

-- the issue's goals: aerun bf16 >= 3x PyTorch fp32 and >= 2x PyTorch's
-- autocast, aerun fp32 >= 2x PyTorch fp32 with denormals flushed
local goals = {
  { label = "bf16 / PyTorch fp32", a = "aerun_bf16", t = "torch_fp32", goal = 3 },
  { label = "bf16 / PyTorch autocast", a = "aerun_bf16", t = "torch_bf16", goal = 2 },
  { label = "fp32 / PyTorch flushed", a = "aerun_fp32", t = "torch_flush", goal = 2 },
  { label = "fp32 / PyTorch fp32", a = "aerun_fp32", t = "torch_fp32" },
}
result.ratios = {}
print()
print("goal ratios, aerun over PyTorch (steady-state samples/s, this run):")
local gfmt = "  %-8s" .. string.rep(" %-29s", #goals - 1) .. " %s"
local heads = {}
for i, q in ipairs(goals) do heads[i] = q.label .. (q.goal and string.format(" (%dx)", q.goal) or "") end
print(string.format(gfmt, "model", table.unpack(heads)))
local met_all = {}
for _, g in ipairs(groups) do
  local cells = {}
  for i, q in ipairs(goals) do
    local a, t = g.runs[q.a], g.runs[q.t]
    local x = a and t and a.samples_per_second / t.samples_per_second or nil
    local met = x and q.goal and x >= q.goal
    if q.goal and not g.aside then
      -- "n/a" once a model lacks the ratio, else false once one misses the goal
      if not x then met_all[i] = "n/a" elseif met_all[i] ~= "n/a" then met_all[i] = met_all[i] ~= false and met end
    end
    cells[i] = not x and "n/a" or string.format("%.2fx", x) .. (q.goal and (met and " met" or " not met") or "")
    local entry = { model = g.name, ratio = q.label, value = x, goal = q.goal }
    if q.goal and x then entry.met = met end   -- false stays false: not `q.goal and x and met or nil`
    result.ratios[#result.ratios + 1] = entry
  end
  print(string.format(gfmt, g.name, table.unpack(cells)))
end
if not torch then print("  (no PyTorch: no ratios)") end
local named = {}
for _, r in ipairs(rows) do named[r.model] = true end
local all3 = named.ae and named.vae and named.cae
local summary = {}
for i, q in ipairs(goals) do
  if q.goal then
    summary[#summary + 1] = string.format("%s >= %dx: %s", q.label, q.goal,
      not all3 and "n/a (not all three models run)" or met_all[i] == "n/a" and "n/a" or met_all[i] and "met"
        or "not met")
  end
end
print("  on the three models: " .. table.concat(summary, "; "))
-- the recurrent layers' goal (issue 16): aerun >= 2x PyTorch's nn.LSTM / nn.GRU in fp32
local rnn = {}
for _, g in ipairs(groups) do
  local a, t = g.runs.aerun_fp32, g.runs.torch_fp32
  if (g.model == "lstm" or g.model == "gru") and a and t then
    local x = a.samples_per_second / t.samples_per_second
    rnn[#rnn + 1] = string.format("%s %.2fx %s", g.name, x, x >= 2 and "met" or "not met")
  end
end
if #rnn > 0 then print("  recurrent layers, fp32 / PyTorch fp32 >= 2x: " .. table.concat(rnn, "; ")) end

print()
print("every fp32 setting (best run each, steady-state samples/s):")
for _, g in ipairs(groups) do
  local parts = {}
  for _, x in ipairs(g.a_all) do parts[#parts + 1] = string.format("aerun %d thr %.0f", x.threads, x.samples_per_second) end
  for _, x in ipairs(g.t_all) do parts[#parts + 1] = string.format("pytorch %s %.0f", x.label, x.samples_per_second) end
  print(string.format("  %-8s %s", g.name, table.concat(parts, "; ")))
end

if cfg.profile then
  print()
  print("where aerun's epoch went (seconds; aerun --profile):")
  local kinds = { "gemm", "conv", "elementwise", "optimizer", "data", "autograd", "lua" }
  print(string.format("  %-5s %8s %8s %8s %12s %10s %8s %9s %8s", "model", "total", table.unpack(kinds)))
  for _, r in ipairs(rows) do
    local p = r.profile
    if p then
      local cells = {}
      for i, k in ipairs(kinds) do cells[i] = string.format("%.2f", p[k]) end
      print(string.format("  %-5s %8.2f %8s %8s %12s %10s %8s %9s %8s", r.model, p.total, table.unpack(cells)))
    else
      print(string.format("  %-5s (no profile: this build does not wire lae_open_profile)", r.model))
    end
  end
end

if cfg.scaling then
  print()
  local t = threads[1]
  for _, r in ipairs(rows) do if r.model == "vae" or t == threads[1] then t = r.aerun.threads end end
  local p = peak[t]
  print(string.format("VAE cost growth (aerun, %d thread%s, 12,800 samples):", t, t == 1 and "" or "s"))
  local function show(what, extra)
    local r = aerun_run("vae", t, "--limit=12800 " .. extra)
    result.scaling = result.scaling or {}
    result.scaling[#result.scaling + 1] = { what = what, threads = t, samples_per_second = r.samples_per_second,
      gemm_gflops = r.gemm_gflops }
    print(string.format("  %-12s %9.0f samples/s  %5.0f GFLOP/s%s", what, r.samples_per_second, r.gemm_gflops,
      p and string.format("  (%.0f%% of peak)", 100 * r.gemm_gflops / p) or ""))
  end
  for _, b in ipairs { 32, 128, 512 } do show("batch " .. b, "--batch_size=" .. b) end
  for _, h in ipairs { 256, 1024, 4096 } do show("hidden " .. h, "--hidden=" .. h) end
end

print()
if cfg.wait_idle > 0 then
  print(string.format("%d of %d measurements started on a busy machine (after waiting %d s for idle cores);" ..
    " load average now %s", started_busy, measurements, cfg.wait_idle,
    first_line("/proc/loadavg", "^(%S+ %S+ %S+)") or "?"))
end

-- the whole result, machine readable
if cfg.json ~= "" then
  result.started_busy, result.measurements = started_busy, measurements
  result.machine.load_end = first_line("/proc/loadavg", "^(%S+ %S+ %S+)")
  result.groups = {}
  for _, g in ipairs(groups) do
    local runs = {}
    for k, r in pairs(g.runs) do
      runs[k] = {}
      for f, v in pairs(r) do if f ~= "config" then runs[k][f] = v end end
      runs[k].engine = engine(g, k, r)
    end
    local settings = {}
    for _, x in ipairs(g.a_all) do settings[#settings + 1] = { side = "aerun", setting = x.threads .. " threads",
      samples_per_second = x.samples_per_second } end
    for _, x in ipairs(g.t_all) do settings[#settings + 1] = { side = "pytorch", setting = x.label,
      samples_per_second = x.samples_per_second } end
    result.groups[#result.groups + 1] = { name = g.name, model = g.model, big = g.big or false, runs = runs,
      skipped = g.failed, aerun_losses = g.aerun_losses, torch_losses = g.torch_losses, fp32_settings = settings,
      same_loss = same_loss(g.aerun_losses, g.torch_losses), profile = g.profile }
  end
  local f = assert(io.open(cfg.json, "w"))
  f:write(json.encode(result), "\n")
  f:close()
  print("the whole result as JSON: " .. cfg.json)
end
