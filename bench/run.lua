-- bench/run.lua: what `make bench` runs.  For the tutorials' three models
-- it trains one epoch of Fashion-MNIST in aerun and, where Debian's
-- python3-torch is installed, in PyTorch, in this same run, and prints
-- samples/s, the ratio, GFLOP/s against the measured sgemm peak, peak
-- memory and the test loss; then how the VAE's cost grows with batch and width.
--   build/aerun bench/run.lua [--quick] [--models=ae,vae,cae] [--seeds=3]
local ae = require "aerun"
local json = require "aerun.json"

local cfg = ae.config { quick = false, models = "ae,vae,cae", seeds = 3, scaling = true }
local aerun = arg[-1] or "build/aerun"
local python = "/usr/bin/python3"

local function capture(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  return out, ok
end

local function run_json(cmd)
  local out, ok = capture(cmd)
  local line = out:match("(%b{})%s*$")
  if not ok or not line then error("bench: command failed: " .. cmd .. "\n" .. out, 0) end
  return json.decode(line)
end

local function have_torch()
  local _, ok = capture(python .. " -c 'import torch'")
  return ok
end

local function cpu_name()
  local f = io.open("/proc/cpuinfo")
  if not f then return "unknown CPU" end
  local name = f:read("a"):match("model name%s*:%s*([^\n]+)")
  f:close()
  return name or "unknown CPU"
end

local function nproc()
  local out = capture("nproc")
  return tonumber(out:match("%d+")) or 1
end

local models = {}
for m in cfg.models:gmatch("[^,]+") do models[#models + 1] = m end

print(string.format("machine: %s, %d cores; %s", cpu_name(), nproc(), ae.gemm_backend()))
local peak_vae = ae.bench_gemm(128, 400, 784)
local peak_big = ae.bench_gemm(2048, 2048, 2048)
local peak = math.max(peak_vae, peak_big)
print(string.format("sgemm: %.0f GFLOP/s on 128×784×400 (the VAE's first layer), %.0f on 2048³", peak_vae, peak_big))

local torch = have_torch()
if not torch then print("python3-torch is not installed: PyTorch columns are skipped (apt-get install python3-torch)") end

-- aerun: each model in its own process (peak memory is per process), at 1
-- and 2 BLAS threads unless the user fixed OPENBLAS_NUM_THREADS
local fixed_threads = os.getenv("OPENBLAS_NUM_THREADS")
local thread_choices = fixed_threads and { tonumber(fixed_threads) } or { 1, 2 }

local function aerun_run(model, threads, extra)
  return run_json(string.format("OPENBLAS_NUM_THREADS=%d %s bench/train.lua --model=%s %s",
    threads, aerun, model, extra or ""))
end

local function torch_run(model, threads, extra)
  return run_json(string.format("%s bench/torch_bench.py %s %d %s", python, model, threads, extra or ""))
end

local function best_of(fn, model, choices)
  local best
  for _, t in ipairs(choices) do
    local r = fn(model, t)
    r.threads = t
    if not best or r.samples_per_second > best.samples_per_second then best = r end
  end
  return best
end

local function spread(fn, model, threads, first)
  local losses = { first.test_loss }
  for s = 2, cfg.seeds do losses[#losses + 1] = fn(model, threads, "--seed=" .. s).test_loss end
  table.sort(losses)
  return losses
end

local rows = {}
for _, m in ipairs(models) do
  local a = best_of(aerun_run, m, thread_choices)
  local row = { model = m, aerun = a, aerun_losses = spread(aerun_run, m, a.threads, a) }
  if torch then
    local t = best_of(torch_run, m, { 1, 2 })
    row.torch = t
    row.torch_losses = spread(torch_run, m, t.threads, t)
  end
  rows[#rows + 1] = row
end

local function range(l)
  return string.format("%.4g–%.4g", l[1], l[#l])
end

print()
print(string.format("%-5s %12s %12s %7s %9s %8s %9s  %-17s %-17s", "model", "aerun/s", "pytorch/s",
  "ratio", "GFLOP/s", "of peak", "peak MiB", "aerun loss", "pytorch loss"))
for _, r in ipairs(rows) do
  local a, t = r.aerun, r.torch
  print(string.format("%-5s %9.0f(%d) %12s %7s %9.0f %7.0f%% %9.0f  %-17s %-17s", r.model,
    a.samples_per_second, a.threads,
    t and string.format("%9.0f(%d)", t.samples_per_second, t.threads) or "-",
    t and string.format("%.2fx", a.samples_per_second / t.samples_per_second) or "-",
    a.gemm_gflops, 100 * a.gemm_gflops / peak, a.peak_rss_mib, range(r.aerun_losses),
    t and range(r.torch_losses) or "-"))
end
print("(samples/s over one epoch of 60,000 Fashion-MNIST images, batch 128, Adam; (n) = threads;")
print(" GFLOP/s counts the GEMM work; losses over " .. cfg.seeds .. " seeds: MSE per pixel, VAE nats per sample)")

if cfg.scaling and not cfg.quick then
  print()
  print("VAE cost growth (aerun, 12,800 samples):")
  local threads = rows[1] and rows[1].aerun.threads or 2
  for _, b in ipairs { 32, 128, 512 } do
    local r = aerun_run("vae", threads, "--limit=12800 --batch_size=" .. b)
    print(string.format("  batch %-4d %9.0f samples/s  %5.0f GFLOP/s", b, r.samples_per_second, r.gemm_gflops))
  end
  for _, h in ipairs { 256, 1024, 4096 } do
    local r = aerun_run("vae", threads, "--limit=12800 --hidden=" .. h)
    print(string.format("  hidden %-4d %8.0f samples/s  %5.0f GFLOP/s", h, r.samples_per_second, r.gemm_gflops))
  end
end
