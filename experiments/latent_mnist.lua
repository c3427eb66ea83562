-- A two-dimensional latent space to look at: an autoencoder (--model=ae,
-- 784-512-128-2 with a linear code) or a VAE (--model=vae, 784-512-(2, 2))
-- trained on MNIST, then
--   latent.h5    the test set's codes (N×2; the means for the VAE) and labels
--   latent.png   the codes as a scatter plot coloured by digit
--   manifold.png (VAE) the decoder's images over a --grid × --grid lattice
--                of the latent plane, z from -extent to extent on each axis
--                (z₂ grows upwards, as in the scatter plot)
-- in the run directory.
--   aerun experiments/latent_mnist.lua --model=vae --epochs=20
local ae = require "aerun"
local sweep = require "aerun.sweep"
local ex = ae.experiment
local nn = ae.nn

local defaults = {
  dataset = "mnist", model = "vae", epochs = 10, batch_size = 128, lr = 1e-3, seed = 42, limit = 0,
  hidden = 512, grid = 20, extent = 2.5,
}

-- d: the length of a sample; the output is a sigmoid, or nothing with --output=linear
local function build(cfg, d)
  local function out(layers)
    if cfg.output == "sigmoid" then layers[#layers + 1] = nn.Sigmoid() end
    return nn.Sequential(layers)
  end
  if cfg.model == "vae" then
    return nn.VAE(nn.Sequential { nn.Linear(d, cfg.hidden), nn.ReLU() },
      nn.Linear(cfg.hidden, 2), nn.Linear(cfg.hidden, 2),
      out { nn.Linear(2, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, d) })
  end
  return nn.AutoEncoder(
    nn.Sequential { nn.Linear(d, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 128), nn.ReLU(), nn.Linear(128, 2) },
    out { nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, d) })
end

local function experiment(cfg)
  if cfg.model ~= "ae" and cfg.model ~= "vae" then error("--model must be ae or vae, got " .. cfg.model) end
  if cfg.grid < 2 or cfg.grid > 64 then error("--grid must be between 2 and 64") end
  local vae = cfg.model == "vae"
  ae.manual_seed(cfg.seed)
  local train, test, data = ex.data(cfg)

  local model = build(cfg, train:dim())
  local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
  local run = ex.start("latent_mnist", cfg, { model = model, optimizer = opt, data = data })

  -- per sample: the VAE's negative ELBO (BCE, or squared error with
  -- --output=linear, summed over features + KL), the AE's MSE
  local reconstruction = cfg.output == "sigmoid" and ae.loss.bce or ae.loss.mse
  local function loss_of(x)
    if not vae then return ae.loss.mse(model(x), x) end
    local recon, mu, logvar = model(x)
    return (reconstruction(recon, x, "sum") + ae.kl.normal(mu, logvar, "sum")) / x:size(1)
  end

  for _ in run:epochs() do
    for x in run:batches(train) do
      opt:zero_grad()
      local loss = loss_of(x)
      loss:backward()
      opt:step()
      run:step(loss)
    end
    run:end_epoch { test_loss = ex.evaluate(test, loss_of) }
  end

  local codes, labels = ae.no_grad(function()
    local z = model:encode(test:images())   -- the VAE's means
    return z, test:labels()
  end)
  local h5 = ae.h5.open(run.dir .. "/latent.h5", "w")
  h5:write("codes", codes)
  if labels then h5:write("labels", labels) end
  h5:set_attr("/", "model", cfg.model)
  h5:close()
  ae.image.scatter(run.dir .. "/latent.png", codes, labels, {
    title = string.format("%s codes of %d test samples", cfg.model == "vae" and "VAE" or "AE", #test),
    xlabel = "z1", ylabel = "z2",
  })
  if vae then
    -- row r from the top holds z₂ = extent - 2·extent·r/(grid-1); column c, z₁ from -extent up
    local n, points = cfg.grid, {}
    for r = 0, n - 1 do
      for c = 0, n - 1 do
        points[#points + 1] = { -cfg.extent + 2 * cfg.extent * c / (n - 1), cfg.extent - 2 * cfg.extent * r / (n - 1) }
      end
    end
    ae.no_grad(function()
      ex.save_samples(run.dir .. "/manifold.png", { model:decode(ae.tensor(points)) }, test, { nrow = n, padding = 0 })
    end)
  end

  local spread = ae.no_grad(function() return ((codes - codes:mean(1, true)) ^ 2):mean(1):sqrt():totable() end)
  return run:finish {
    dataset = data.name, model = cfg.model, epochs = cfg.epochs, test_loss = ex.evaluate(test, loss_of),
    code_std = spread, codes = run.dir .. "/latent.h5",
  }
end

return sweep.experiment("latent_mnist", defaults, experiment)
