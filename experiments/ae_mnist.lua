-- The seed tutorial's MLP autoencoder: 784-128-64-32 with ReLU, a mirrored
-- decoder with a sigmoid output, MSE, Adam 1e-3, batch 128.
--   aerun experiments/ae_mnist.lua --epochs=10 --dataset=fashion_mnist
local ae = require "aerun"
local ex = ae.experiment

local cfg = ex.config {
  dataset = "mnist", epochs = 10, batch_size = 128, lr = 1e-3, seed = 42, limit = 0,
}
ae.manual_seed(cfg.seed)

local limit = cfg.limit > 0 and cfg.limit or nil
local train = ex.dataset(cfg.dataset, "train", { limit = limit })
local test = ex.dataset(cfg.dataset, "test", { limit = limit })

local model = ae.models.mlp_ae { 784, 128, 64, 32 }
local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
local run = ex.start("ae_mnist", cfg, { model = model, optimizer = opt })

local function test_loss()
  return ex.evaluate(test, function(x) return ae.loss.mse(model(x), x) end)
end

for _ in run:epochs() do
  for x in run:batches(train) do
    opt:zero_grad()
    local loss = ae.loss.mse(model(x), x)
    loss:backward()
    opt:step()
    run:step(loss)
  end
  run:end_epoch { test_loss = test_loss() }
end

run:finish {
  dataset = cfg.dataset, epochs = cfg.epochs, test_mse = test_loss(),
  train_mse = run.metrics.train_loss[cfg.epochs],
  samples_per_second = run.metrics.samples_per_second[cfg.epochs],
}
