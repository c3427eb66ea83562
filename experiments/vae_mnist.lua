-- The VAE of PyTorch's example: 784-400-20 with ReLU, sigmoid output,
-- loss = BCE summed over pixels + β·KL, Adam 1e-3, batch 128.  Reports the
-- test loss in nats per sample and draws reconstructions, samples from the
-- prior and an interpolation between two test digits.
--   aerun experiments/vae_mnist.lua --epochs=10 --beta=1 --kl_warmup=0
-- The body is the function train(cfg), so that a sweep can run it
-- (experiments/sweep_vae_beta.lua loads this file with ae.sweep.load).
local ae = require "aerun"
local sweep = require "aerun.sweep"
local ex = ae.experiment

local defaults = {
  dataset = "mnist", epochs = 10, batch_size = 128, lr = 1e-3, seed = 42, limit = 0,
  hidden = 400, latent = 20, beta = 1.0, kl_warmup = 0,
}

local function train(cfg)
  ae.manual_seed(cfg.seed)

  local limit = cfg.limit > 0 and cfg.limit or nil
  local train_set = ex.dataset(cfg.dataset, "train", { limit = limit })
  local test = ex.dataset(cfg.dataset, "test", { limit = limit })

  local model = ae.models.vae(784, cfg.hidden, cfg.latent)
  local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
  local run = ex.start("vae_mnist", cfg, { model = model, optimizer = opt })

  -- β rises linearly from 0 over the first kl_warmup epochs, then stays
  local beta = cfg.kl_warmup > 0 and ae.schedule.linear(cfg.beta / cfg.kl_warmup, cfg.beta, cfg.kl_warmup)
    or ae.schedule.constant(cfg.beta)

  -- summed over the batch, as in PyTorch's example; divided by the batch size to report
  local function losses(x, b)
    local recon, mu, logvar = model(x)
    local rec = ae.loss.bce(recon, x, "sum")
    local kl = ae.kl.normal(mu, logvar, "sum")
    return rec + kl * b, rec, kl
  end

  local function evaluate()
    local sums = { loss = 0, rec = 0, kl = 0 }
    ae.no_grad(function()
      for x in test:batches(1000) do
        local _, rec, kl = losses(x, 1)
        sums.rec, sums.kl = sums.rec + rec:item(), sums.kl + kl:item()
      end
    end)
    local n = #test
    return { test_loss = (sums.rec + sums.kl) / n, test_bce = sums.rec / n, test_kl = sums.kl / n }
  end

  for epoch in run:epochs() do
    local b = beta(epoch)
    for x in run:batches(train_set) do
      opt:zero_grad()
      local loss = losses(x, b)
      loss:backward()
      opt:step()
      run:step(loss:item() / x:size(1))
    end
    local m = evaluate()
    m.beta = b
    run:end_epoch(m)
  end

  -- pictures: test digits over their reconstructions, samples, an interpolation
  local final = evaluate()
  ae.no_grad(function()
    local x = test:batch(1, 32)
    local recon = model(x)
    ae.image.save_grid(run.dir .. "/reconstructions.png", ae.cat({ x, recon }, 1), { nrow = 16 })
    ae.image.save_grid(run.dir .. "/samples.png", model:sample(64), { nrow = 8 })
    local mu = model:encode(test:batch(1, 2))
    local a, z = mu:narrow(1, 1, 1), mu:narrow(1, 2, 1)
    local steps = {}
    for i = 0, 9 do steps[#steps + 1] = a * (1 - i / 9) + z * (i / 9) end
    ae.image.save_grid(run.dir .. "/interpolation.png", model:decode(ae.cat(steps, 1)), { nrow = 10 })
  end)

  return run:finish {
    dataset = cfg.dataset, epochs = cfg.epochs, beta = cfg.beta, latent = cfg.latent,
    test_loss = final.test_loss, test_bce = final.test_bce, test_kl = final.test_kl,
    samples_per_second = run.metrics.samples_per_second[cfg.epochs],
  }
end

return sweep.experiment("vae_mnist", defaults, train)
