-- bench/train.lua: one model's training throughput on Fashion-MNIST, the
-- way `make bench` measures it: a warm-up, then full epochs of 60,000
-- images (batch 128, Adam 1e-3), then the test loss.  Prints one JSON line.
--   aerun bench/train.lua --model=vae|ae|cae|lstm|gru [--batch_size=128] [--hidden=400] [--epochs=3]
--                         [--threads=2] [--limit=N] [--precision=fp32|bf16]
-- Each epoch is timed on its own: samples_per_second is the mean of the
-- epochs after the first (the steady state, where weights, gradients and
-- Adam's moments have drifted towards subnormal floats), first_epoch the
-- first's; with --epochs=1 both are that epoch.  --precision=bf16 trains
-- under ae.precision("bf16") (bf16 products accumulating in fp32).
-- The GEMM backend is AERUN_GEMM's (openblas or dnnl; default: oneDNN where
-- installed).  Run under `aerun --profile` (or AERUN_PROFILE=1) it adds
-- where the epoch's time went, by kind of work.
local ae = require "aerun"

local cfg = ae.config {
  model = "vae", epochs = 3, batch_size = 128, hidden = 400, seed = 1, warmup = 20,
  dataset = "fashion_mnist", limit = 0, threads = 0, precision = "fp32",
}
if cfg.threads > 0 then ae.gemm_threads(cfg.threads) end
if cfg.epochs < 1 then error("bench/train.lua: --epochs must be at least 1, got " .. cfg.epochs, 0) end
ae.precision(cfg.precision) -- refuses anything but fp32 and bf16
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
-- the sequence autoencoder of experiments/seq_ae_mnist.lua (bench/run.lua
-- gives it --hidden=128): the recurrent layers against nn.LSTM / nn.GRU
for _, cell in ipairs { "lstm", "gru" } do
  recipes[cell] = {
    build = function() return ae.models.seq_ae { cell = cell, hidden = cfg.hidden } end,
    loss = recipes.ae.loss, test = recipes.ae.test,
  }
end
local r = recipes[cfg.model] or error("--model must be ae, vae, cae, lstm or gru", 0)

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
-- per epoch: samples/s, seconds and GEMM flops
local rates, secs, flops = {}, {}, {}
local c0 = os.clock()
for e = 1, cfg.epochs do
  local f0, t0, samples = ae.gemm_flops(), ae.time(), 0
  for x in train:batches(cfg.batch_size, { shuffle = true }) do
    step(x)
    samples = samples + x:size(1)
  end
  secs[e], flops[e] = ae.time() - t0, ae.gemm_flops() - f0
  rates[e] = samples / secs[e]
end
local cpu = os.clock() - c0
-- the steady state: the epochs after the first (all of them when there is one)
local first = cfg.epochs > 1 and 2 or 1
local rate, seconds, flop = 0, 0, 0
for e = first, cfg.epochs do
  rate, seconds, flop = rate + rates[e], seconds + secs[e], flop + flops[e]
end
rate = rate / (cfg.epochs - first + 1)
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
  samples_per_second = rate, first_epoch = rates[1], epoch_samples_per_second = rates, seconds = seconds,
  cpu_seconds = cpu, test_loss = total / #test, gemm_gflops = flop / seconds / 1e9, peak_rss_mib = peak_rss_mib(),
  backend = ae.gemm_backend(), threads = ae.gemm_threads(), profile = profile, limit = cfg.limit,
  precision = ae.precision(), denormals = ae.denormals(),
})
