-- A sweep of the VAE (experiments/vae_mnist.lua): β, the weight of the KL
-- term, against the size of the latent code, 4 × 3 = 12 runs.  Low β
-- reconstructs better, high β uses fewer latent dimensions (watch test_kl
-- against test_bce in the table).  Runs and summary go to
-- checkpoints/sweep_vae_beta/; options of the experiment apply to every run:
--   aerun experiments/sweep_vae_beta.lua --epochs=5
--   aerun --sweep-list experiments/sweep_vae_beta.lua | parallel -j 4
local sweep = require "aerun.sweep"

local s = sweep.new("sweep_vae_beta", sweep.load "vae_mnist")
s:run_all(s:grid {
  beta = { 0.5, 1.0, 2.0, 4.0 },
  latent = { 2, 10, 20 },
})
