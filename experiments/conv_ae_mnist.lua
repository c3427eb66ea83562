-- The convolutional tutorial's autoencoder: Conv 1→16→32 with stride 2,
-- a 7×7 conv to 64, and the transposed mirror; sigmoid output, MSE, Adam.
--   aerun experiments/conv_ae_mnist.lua --epochs=2 --dataset=fashion_mnist
local ae = require "aerun"

local cfg = ae.experiment.config {
  dataset = "mnist", epochs = 10, batch_size = 128, lr = 1e-3, seed = 42, limit = 0,
}
ae.manual_seed(cfg.seed)
ae.recipes.autoencoder("conv_ae_mnist", cfg, function(train)
  return ae.models.conv_ae(ae.experiment.image_shape(train, "conv_ae_mnist"), { output = cfg.output })
end)
