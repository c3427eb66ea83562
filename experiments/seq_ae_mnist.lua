-- A recurrent sequence-to-sequence autoencoder on "sequential MNIST": each
-- image is read as 28 steps of one 28-pixel row by an LSTM (or GRU) whose
-- last hidden state becomes a 32-number code; the code is fed at every
-- step into a decoder LSTM whose outputs a Linear and a sigmoid turn back
-- into rows.  MSE, Adam 1e-3, batch 128 (ae.recipes.autoencoder, as
-- ae_mnist).  docs/performance.md has PyTorch's test MSE for the same model
-- and settings (bench/torch_bench.py lstm).
--   aerun experiments/seq_ae_mnist.lua --epochs=5 --dataset=fashion_mnist
--   aerun experiments/seq_ae_mnist.lua --cell=gru --hidden=256
-- Images of another size (--data=...) are read row by row: C·H steps of W values.
local ae = require "aerun"

local cfg = ae.experiment.config {
  dataset = "mnist", epochs = 5, batch_size = 128, lr = 1e-3, seed = 42, limit = 0,
  cell = "lstm", hidden = 128, code = 32, layers = 1,
}
if cfg.cell ~= "lstm" and cfg.cell ~= "gru" then error("--cell must be lstm or gru, got " .. cfg.cell, 0) end
ae.manual_seed(cfg.seed)
ae.recipes.autoencoder("seq_ae_mnist", cfg, function(train)
  local s = ae.experiment.image_shape(train, "seq_ae_mnist")
  return ae.models.seq_ae {
    steps = s[1] * s[2], width = s[3], cell = cfg.cell, hidden = cfg.hidden, code = cfg.code,
    num_layers = cfg.layers, output = cfg.output,
  }
end)
