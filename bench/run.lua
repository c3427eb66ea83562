-- bench/run.lua: what `make bench` runs.  For the tutorials' three models
-- it trains one epoch of Fashion-MNIST in aerun and, where Debian's
-- python3-torch is installed, in PyTorch, in this same run, and prints
-- samples/s, the ratio, GFLOP/s against the measured sgemm peak, peak
-- memory and the test loss over seeds; then how the VAE's cost grows with
-- batch and width.
--
--   build/aerun bench/run.lua [--models=ae,vae,cae] [--seeds=3] [--repeat=2]
--                             [--threads=1,2] [--no-scaling] [--profile] [--quick]
--                             [--wait_idle=20]
--
-- Both sides are measured at their best thread setting, alternately, model
-- by model, so that load from other processes hits both alike; each
-- setting runs --repeat times and keeps its best epoch.  aerun tries 1 and
-- 2 threads (its GEMM backend is AERUN_GEMM's, default oneDNN where
-- installed); PyTorch tries torch.set_num_threads(1) and (2) with
-- OpenBLAS's own pool at its default (one thread per core), and (1) with
-- OPENBLAS_NUM_THREADS=1, a truly single-threaded PyTorch, which wins on a
-- loaded machine.  --profile adds, per model, where aerun's epoch went.
-- Each measurement waits (up to --wait_idle seconds) for idle cores first;
-- the end of the output says how many could not.
local ae = require "aerun"
local json = require "aerun.json"

local cfg = ae.config {
  quick = false, models = "ae,vae,cae", seeds = 3, ["repeat"] = 2, threads = "1,2",
  scaling = true, profile = false, wait_idle = 20,
}
if cfg.quick then cfg["repeat"], cfg.seeds, cfg.scaling = 1, 1, false end
local aerun = arg[-1] or "build/aerun"
local python = "/usr/bin/python3"

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
local load = first_line("/proc/loadavg", "^(%S+ %S+ %S+)") or "?"
print(string.format("machine: %s, %d cores; load average %s (other processes skew every figure:" ..
  " compare only within this run)", cpu, nproc(), load))
print("aerun: " .. ae.gemm_backend() .. " by default; AERUN_GEMM=openblas|dnnl picks the GEMM backend")

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
    if b == default_backend then peak[t] = math.max(g.vae, g.big) end
  end
end

-- ----------------------------------------------------------------- training
local torch = have_torch()
if not torch then print("python3-torch is not installed: PyTorch columns are skipped (apt-get install python3-torch)") end

local function aerun_run(model, t, extra, env)
  settle()
  return run_json(string.format("%sAERUN_THREADS=%d %s bench/train.lua --model=%s %s", env or "", t, aerun,
    model, extra or ""))
end

local torch_configs = {
  { label = "1 thread + OpenBLAS pool", threads = 1, env = "" },
  { label = "2 threads + OpenBLAS pool", threads = 2, env = "" },
  { label = "1 thread, OpenBLAS 1", threads = 1, env = "OPENBLAS_NUM_THREADS=1 " },
}

local function torch_run(c, model, extra)
  settle()
  return run_json(string.format("%s%s bench/torch_bench.py %s %d %s", c.env, python, model, c.threads, extra or ""))
end

-- the best epoch of each setting, the two sides alternating; a setting
-- whose first epoch ran at less than half the best of its side is not
-- run again (PyTorch's 2-thread setting can take minutes an epoch here)
local function measure(model)
  local a_best, t_best = {}, {}
  local function keep(best, i, r)
    if not best[i] or r.samples_per_second > best[i].samples_per_second then best[i] = r end
  end
  local function top(best)
    local m = 0
    for _, r in pairs(best) do m = math.max(m, r.samples_per_second) end
    return m
  end
  local function worth(best, i, round)
    return round == 1 or best[i].samples_per_second >= top(best) / 2
  end
  for round = 1, cfg["repeat"] do
    for i, t in ipairs(threads) do
      if worth(a_best, i, round) then keep(a_best, i, aerun_run(model, t)) end
    end
    if torch then
      for i, c in ipairs(torch_configs) do
        if worth(t_best, i, round) then
          local r = torch_run(c, model)
          r.label = c.label
          r.config = c
          keep(t_best, i, r)
        end
      end
    end
  end
  local function best(l)
    local b
    for _, r in ipairs(l) do if not b or r.samples_per_second > b.samples_per_second then b = r end end
    return b
  end
  return best(a_best), torch and best(t_best) or nil, a_best, t_best
end

local function losses(first, fn)
  local l = { first.test_loss }
  for s = 2, cfg.seeds do l[#l + 1] = fn("--seed=" .. s).test_loss end
  table.sort(l)
  return l
end

local function mean(l)
  local s = 0
  for _, v in ipairs(l) do s = s + v end
  return s / #l
end

local rows = {}
for _, m in ipairs(list(cfg.models)) do
  io.stderr:write("bench: " .. m .. " ...\n")
  local a, t, a_all, t_all = measure(m)
  local row = { model = m, aerun = a, torch = t, a_all = a_all, t_all = t_all }
  row.aerun_losses = losses(a, function(extra) return aerun_run(m, a.threads, extra) end)
  if t then row.torch_losses = losses(t, function(extra) return torch_run(t.config, m, extra) end) end
  if cfg.profile then row.profile = aerun_run(m, a.threads, "", "AERUN_PROFILE=1 ").profile end
  rows[#rows + 1] = row
end

local function range(l)
  if #l == 1 then return string.format("%.4g", l[1]) end
  return string.format("%.4g–%.4g", l[1], l[#l])
end

-- the same loss: the means differ by no more than the seed-to-seed spread
local function same_loss(a, t)
  if not t then return "-" end
  local spread = math.max(a[#a] - a[1], t[#t] - t[1])
  if #a < 2 or #t < 2 then return "?" end
  return math.abs(mean(a) - mean(t)) <= spread and "yes" or "no"
end

print()
print(string.format("%-5s %10s %4s %10s %-26s %6s %8s %7s %9s %9s  %-15s %-15s %s", "model", "aerun/s", "thr",
  "pytorch/s", "pytorch setting", "ratio", "GFLOP/s", "of peak", "aerun MiB", "torch MiB", "aerun loss",
  "pytorch loss", "same"))
for _, r in ipairs(rows) do
  local a, t = r.aerun, r.torch
  local p = peak[a.threads]
  print(string.format("%-5s %10.0f %4d %10s %-26s %6s %8.0f %7s %9.0f %9s  %-15s %-15s %s", r.model,
    a.samples_per_second, a.threads, t and string.format("%.0f", t.samples_per_second) or "-",
    t and t.label or "-", t and string.format("%.2fx", a.samples_per_second / t.samples_per_second) or "-",
    a.gemm_gflops, p and string.format("%.0f%%", 100 * a.gemm_gflops / p) or "-", a.peak_rss_mib,
    t and string.format("%.0f", t.peak_rss_mib) or "-", range(r.aerun_losses),
    t and range(r.torch_losses) or "-", same_loss(r.aerun_losses, r.torch_losses)))
end
print("(samples/s: the best of " .. cfg["repeat"] .. " one-epoch runs of 60,000 Fashion-MNIST images, batch 128, " ..
  "Adam 1e-3;")
print(" GFLOP/s: the GEMM work of aerun's epoch over its time, against the peak measured above at the same " ..
  "threads;")
print(" losses: the test set after one epoch, " .. cfg.seeds .. " seeds (MSE per pixel, VAE nats per sample);" ..
  " same: means closer than the seed spread)")
local t1 = rows[1] and rows[1].torch
print("aerun GEMM: " .. (rows[1] and rows[1].aerun.backend:gsub(" %(.*", "") or "?") ..
  (t1 and ("; PyTorch " .. t1.torch .. ", products in " .. (t1.blas or "its BLAS")) or ""))

print()
print("every setting (best epoch each, samples/s):")
for _, r in ipairs(rows) do
  local parts = {}
  for _, x in ipairs(r.a_all) do parts[#parts + 1] = string.format("aerun %d thr %.0f", x.threads, x.samples_per_second) end
  for _, x in ipairs(r.t_all) do parts[#parts + 1] = string.format("pytorch %s %.0f", x.label, x.samples_per_second) end
  print(string.format("  %-4s %s", r.model, table.concat(parts, "; ")))
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
