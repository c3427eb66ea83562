-- A deeper MLP autoencoder: 784-512-256-128-64-32 and its mirror, ReLU,
-- sigmoid output, MSE, Adam.  Same training as ae_mnist (ae.recipes).
--   aerun experiments/deep_ae_mnist.lua --epochs=20
local ae = require "aerun"

local cfg = ae.experiment.config {
  dataset = "mnist", epochs = 10, batch_size = 128, lr = 1e-3, seed = 42, limit = 0,
}
ae.manual_seed(cfg.seed)
ae.recipes.autoencoder("deep_ae_mnist", cfg, function(train)
  return ae.models.mlp_ae({ train:dim(), 512, 256, 128, 64, 32 }, { output = cfg.output })
end)
