-- The seed tutorial's MLP autoencoder: 784-128-64-32 with ReLU, a mirrored
-- decoder with a sigmoid output, MSE, Adam 1e-3, batch 128.
--   aerun experiments/ae_mnist.lua --epochs=10 --dataset=fashion_mnist
local ae = require "aerun"
local nn, ex = ae.nn, ae.experiment

local cfg = ae.config {
  dataset = "mnist", epochs = 10, batch_size = 128, lr = 1e-3, seed = 42, limit = 0,
}
ae.manual_seed(cfg.seed)

local limit = cfg.limit > 0 and cfg.limit or nil
local train = ex.dataset(cfg.dataset, "train", { limit = limit })
local test = ex.dataset(cfg.dataset, "test", { limit = limit })

local model = nn.AutoEncoder(
  nn.mlp({ 784, 128, 64, 32 }, { activation = nn.ReLU }),
  nn.mlp({ 32, 64, 128, 784 }, { activation = nn.ReLU, last = nn.Sigmoid }))
local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })

local function test_loss()
  return ex.evaluate(test, function(x) return ae.loss.mse(model(x), x) end)
end

local train_loss, seconds = 0, 0
for epoch = 1, cfg.epochs do
  local t0, sum, batches = ex.time(), 0, 0
  for x in train:batches(cfg.batch_size, { shuffle = true }) do
    opt:zero_grad()
    local loss = ae.loss.mse(model(x), x)
    loss:backward()
    opt:step()
    sum, batches = sum + loss:item(), batches + 1
  end
  seconds = ex.time() - t0
  train_loss = sum / batches
  print(string.format("epoch %d/%d  train mse %.5f  test mse %.5f  %.1fs  %.0f samples/s",
    epoch, cfg.epochs, train_loss, test_loss(), seconds, #train / seconds))
end

ex.result("ae_mnist", {
  dataset = cfg.dataset, epochs = cfg.epochs, train_mse = train_loss, test_mse = test_loss(),
  samples_per_second = #train / seconds,
})
