-- bench/train.lua: one model's training throughput on Fashion-MNIST, the
-- way `make bench` measures it: a warm-up, then full epochs of 60,000
-- images (batch 128, Adam 1e-3), then the test loss.  Prints one JSON line.
--   aerun bench/train.lua --model=vae [--batch_size=128] [--hidden=400] [--epochs=1] [--threads=2]
-- The GEMM backend is AERUN_GEMM's (openblas or dnnl; default: oneDNN where
-- installed).  Run under `aerun --profile` (or AERUN_PROFILE=1) it adds
-- where the epoch's time went, by kind of work.
local ae = require "aerun"

local cfg = ae.config {
  model = "vae", epochs = 1, batch_size = 128, hidden = 400, seed = 1, warmup = 20,
  dataset = "fashion_mnist", limit = 0, threads = 0,
}
if cfg.threads > 0 then ae.gemm_threads(cfg.threads) end
ae.manual_seed(cfg.seed)
local ex = ae.experiment
local limit = cfg.limit > 0 and cfg.limit or nil
local train = ex.dataset(cfg.dataset, "train", { limit = limit })
local test = ex.dataset(cfg.dataset, "test")

-- each model: its constructor and its per-batch loss; test losses are
-- reported as the reference script does (MSE per pixel; VAE nats per sample)
local recipes = {
  ae = {
    build = function() return ae.models.mlp_ae { 784, 128, 64, 32 } end,
    loss = function(m, x) return ae.loss.mse(m(x), x) end,
    test = function(m, x) return ae.loss.mse(m(x), x):item() * x:size(1) end,
  },
  cae = {
    build = function() return ae.models.conv_ae() end,
    loss = function(m, x) return ae.loss.mse(m(x), x) end,
    test = function(m, x) return ae.loss.mse(m(x), x):item() * x:size(1) end,
  },
  vae = {
    build = function() return ae.models.vae(784, cfg.hidden, 20) end,
    loss = function(m, x)
      local r, mu, logvar = m(x)
      return ae.loss.bce(r, x, "sum") + ae.kl.normal(mu, logvar, "sum")
    end,
  },
}
recipes.vae.test = function(m, x) return recipes.vae.loss(m, x):item() end
local r = recipes[cfg.model] or error("--model must be ae, vae or cae")

local model = r.build()
local opt = ae.optim.Adam(model:parameters(), { lr = 1e-3 })

local function step(x)
  opt:zero_grad()
  local loss = r.loss(model, x)
  loss:backward()
  opt:step()
end

-- warm-up: the pool fills, threads start, caches warm; then restore the
-- initial weights and optimizer state by starting from a fresh model
local warm = train:batch(1, cfg.batch_size)
for _ = 1, cfg.warmup do step(warm) end
ae.manual_seed(cfg.seed)
model = r.build()
opt = ae.optim.Adam(model:parameters(), { lr = 1e-3 })

local profiling = ae.profile and ae.profile() ~= nil
if profiling then ae.profile_reset() end
local flops0 = ae.gemm_flops()
local t0, c0 = ae.time(), os.clock()
local samples = 0
for _ = 1, cfg.epochs do
  for x in train:batches(cfg.batch_size, { shuffle = true }) do
    step(x)
    samples = samples + x:size(1)
  end
end
local seconds, cpu = ae.time() - t0, os.clock() - c0
local flops = ae.gemm_flops() - flops0
local profile = profiling and ae.profile() or nil

local total = 0
ae.no_grad(function()
  for x in test:batches(1000) do total = total + r.test(model, x) end
end)

local function peak_rss_mib()
  local f = io.open("/proc/self/status")
  if not f then return 0 end
  local kib = f:read("a"):match("VmHWM:%s*(%d+)")
  f:close()
  return (tonumber(kib) or 0) / 1024
end

print(ae.experiment.json.encode {
  model = cfg.model, batch_size = cfg.batch_size, hidden = cfg.hidden, epochs = cfg.epochs,
  samples_per_second = samples / seconds, seconds = seconds, cpu_seconds = cpu, test_loss = total / #test,
  gemm_gflops = flops / seconds / 1e9, peak_rss_mib = peak_rss_mib(),
  backend = ae.gemm_backend(), threads = ae.gemm_threads(), profile = profile,
})
