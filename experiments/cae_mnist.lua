-- A contractive autoencoder (Rifai et al., 2011): one sigmoid hidden layer,
-- MSE plus λ·‖∂h/∂x‖²_F, which makes the code insensitive to small changes
-- of the input.  Reports the test MSE and the Jacobian's norm.
--   aerun experiments/cae_mnist.lua --lambda=1e-4
local ae = require "aerun"
local ex = ae.experiment

local cfg = ex.config {
  dataset = "mnist", epochs = 10, batch_size = 128, lr = 1e-3, seed = 42, limit = 0,
  hidden = 256, lambda = 1e-4,
}
ae.manual_seed(cfg.seed)

local train, test, data = ex.data(cfg)

local model = ae.models.shallow_ae(train:dim(), cfg.hidden, { output = cfg.output })
local W = model.encoder[1].weight
local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
local run = ex.start("cae_mnist", cfg, { model = model, optimizer = opt, data = data })

local function evaluate()
  local x = test:images()
  return ae.no_grad(function()
    local h = model:encode(x)
    return { test_loss = ae.loss.mse(model:decode(h), x):item(),
      jacobian_norm = ae.penalty.contractive(h, W):item() }
  end)
end

for _ in run:epochs() do
  for x in run:batches(train) do
    opt:zero_grad()
    local h = model:encode(x)
    local loss = ae.loss.mse(model:decode(h), x) + ae.penalty.contractive(h, W) * cfg.lambda
    loss:backward()
    opt:step()
    run:step(loss)
  end
  run:end_epoch(evaluate())
end

local final = evaluate()
run:finish {
  dataset = data.name, epochs = cfg.epochs, lambda = cfg.lambda,
  test_mse = final.test_loss, jacobian_norm = final.jacobian_norm,
}
