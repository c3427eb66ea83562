-- The seed tutorial's MLP autoencoder: 784-128-64-32 with ReLU, a mirrored
-- decoder with a sigmoid output, MSE, Adam 1e-3, batch 128.
--   aerun experiments/ae_mnist.lua --epochs=10 --dataset=fashion_mnist
-- The training loop is ae.recipes.autoencoder (lua/aerun/recipes.lua),
-- shared with the deep and convolutional AEs: zero_grad, MSE, backward,
-- step for every batch, and the test MSE after every epoch.
local ae = require "aerun"

local cfg = ae.experiment.config {
  dataset = "mnist", epochs = 10, batch_size = 128, lr = 1e-3, seed = 42, limit = 0,
}
ae.manual_seed(cfg.seed)
ae.recipes.autoencoder("ae_mnist", cfg, function(train)
  return ae.models.mlp_ae({ train:dim(), 128, 64, 32 }, { output = cfg.output })
end)
