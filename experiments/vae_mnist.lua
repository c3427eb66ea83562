-- The VAE of PyTorch's example: 784-400-20 with ReLU, sigmoid output,
-- loss = BCE summed over pixels + β·KL, Adam 1e-3, batch 128.  Reports the
-- test loss in nats per sample and draws reconstructions, samples from the
-- prior and an interpolation between two test digits.
--   aerun experiments/vae_mnist.lua --epochs=10 --beta=1 --kl-warmup=0
-- --kl-warmup=N raises β linearly over the first N optimisation steps
-- (469 steps make an epoch of MNIST at batch 128), β/N at step 1.
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

  local train_set, test, data = ex.data(cfg)

  local model = ae.models.vae(train_set:dim(), cfg.hidden, cfg.latent, { output = cfg.output })
  local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
  local run = ex.start("vae_mnist", cfg, { model = model, optimizer = opt, data = data })
  -- the reconstruction term: Bernoulli (BCE) for a sigmoid output, Gaussian
  -- with unit variance (squared error, up to a constant) for a linear one
  local reconstruction = cfg.output == "sigmoid" and ae.loss.bce or ae.loss.mse

  -- β rises linearly over the first kl_warmup steps, then stays
  local beta = cfg.kl_warmup > 0
    and ae.schedule.linear(cfg.beta / cfg.kl_warmup, cfg.beta, cfg.kl_warmup, { per = "step" })
    or ae.schedule.constant(cfg.beta)

  -- summed over the batch, as in PyTorch's example; divided by the batch size to report
  local function losses(x, b)
    local recon, mu, logvar = model(x)
    local rec = reconstruction(recon, x, "sum")
    local kl = ae.kl.normal(mu, logvar, "sum")
    return rec + kl * b, rec, kl
  end

  local rec_name = cfg.output == "sigmoid" and "test_bce" or "test_sse"
  -- per sample: the sums of a batch count for its samples
  local function evaluate()
    local m = ex.evaluate(test, function(x)
      local _, rec, kl = losses(x, 1)
      local n = x:size(1)
      return { test_loss = (rec:item() + kl:item()) / n, [rec_name] = rec:item() / n, test_kl = kl:item() / n }
    end)
    return m
  end

  for _ in run:epochs() do
    local b
    for x in run:batches(train_set) do
      b = run:value(beta)
      opt:zero_grad()
      local loss = losses(x, b)
      loss:backward()
      opt:step()
      run:step(loss:item() / x:size(1), { beta = b })
    end
    local m = evaluate()
    m.beta = b
    run:end_epoch(m)
  end

  -- pictures: test digits over their reconstructions, samples, an interpolation
  local final = evaluate()
  ae.no_grad(function()
    local x = test:batch(1, math.min(32, #test))
    ex.save_samples(run.dir .. "/reconstructions.png", { x, (model(x)) }, test, { nrow = 16 })
    ex.save_samples(run.dir .. "/samples.png", { model:sample(64) }, test, { nrow = 8 })
    if #test >= 2 then
      local mu = model:encode(test:batch(1, 2))
      local a, z = mu:narrow(1, 1, 1), mu:narrow(1, 2, 1)
      local steps = {}
      for i = 0, 9 do steps[#steps + 1] = a * (1 - i / 9) + z * (i / 9) end
      ex.save_samples(run.dir .. "/interpolation.png", { model:decode(ae.cat(steps, 1)) }, test, { nrow = 10 })
    end
  end)

  return run:finish {
    dataset = data.name, epochs = cfg.epochs, beta = cfg.beta, latent = cfg.latent, output = cfg.output,
    test_loss = final.test_loss, [rec_name] = final[rec_name], test_kl = final.test_kl,
    samples_per_second = run.metrics.samples_per_second[run.epoch],
  }
end

return sweep.experiment("vae_mnist", defaults, train)
