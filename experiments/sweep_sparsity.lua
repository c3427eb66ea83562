-- A sweep of the sparse autoencoder (experiments/sparse_ae_mnist.lua): the
-- penalty kind and its weight λ, 2 × 3 = 6 runs.  Each run writes
-- checkpoints/sweep_sparsity/<run id>/; the summary is
-- checkpoints/sweep_sparsity/sweep.csv.  Options of the experiment apply to
-- every run, and a finished run is never run again:
--   aerun experiments/sweep_sparsity.lua --epochs=5
--   aerun experiments/sweep_sparsity.lua --shard=0/2 & aerun ... --shard=1/2
--   aerun --sweep-list experiments/sweep_sparsity.lua --epochs=5 | parallel -j 2
local sweep = require "aerun.sweep"

local s = sweep.new("sweep_sparsity", sweep.load "sparse_ae_mnist")
for _, penalty in ipairs { "kl", "l1" } do
  for _, lambda in ipairs { 1e-4, 1e-3, 1e-2 } do
    s:run(s:config { penalty = penalty, lambda = lambda })
  end
end
s:finish()
