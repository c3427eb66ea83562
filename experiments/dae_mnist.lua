-- A denoising autoencoder: trained to map corrupted digits back to clean
-- ones.  --noise=gaussian|masking|salt_pepper; the noise level follows a
-- schedule over the epochs, from --level_start to --level (linear).
-- Reports the test PSNR of the noisy input and of the denoised output.
--   aerun experiments/dae_mnist.lua --noise=masking --level=0.5
local ae = require "aerun"
local ex = ae.experiment

local cfg = ex.config {
  dataset = "mnist", epochs = 10, batch_size = 128, lr = 1e-3, seed = 42, limit = 0,
  noise = "gaussian", level = 0.5, level_start = -1,
}
local corrupt = ({
  gaussian = function(x, s) return ae.noise.gaussian(x, s) end,
  masking = function(x, p) return ae.noise.masking(x, p) end,
  salt_pepper = function(x, p) return ae.noise.salt_pepper(x, p) end,
})[cfg.noise]
if not corrupt then error("--noise must be gaussian, masking or salt_pepper, got " .. cfg.noise) end
ae.manual_seed(cfg.seed)

local train, test, data = ex.data(cfg)

local model = ae.models.mlp_ae({ train:dim(), 512, 128 }, { output = cfg.output })
local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
local run = ex.start("dae_mnist", cfg, { model = model, optimizer = opt, data = data })
local start = cfg.level_start >= 0 and cfg.level_start or cfg.level
local level = ae.schedule.linear(start, cfg.level, cfg.epochs)

-- the test set corrupted once at the final level, with its own seed, so
-- every epoch is measured on the same noisy digits
local clean = test:images()
local state = ae.rng_state()
ae.manual_seed(cfg.seed + 1)
local noisy = corrupt(clean, cfg.level)
ae.set_rng_state(state)

local function evaluate()
  local denoised = ae.no_grad(function() return model(noisy) end)
  return { test_loss = ae.loss.mse(denoised, clean):item(),
    psnr_noisy = ae.metrics.psnr(noisy, clean), psnr_denoised = ae.metrics.psnr(denoised, clean) }
end

for epoch in run:epochs() do
  local l = level(epoch)
  for x in run:batches(train) do
    opt:zero_grad()
    local loss = ae.loss.mse(model(corrupt(x, l)), x)
    loss:backward()
    opt:step()
    run:step(loss)
  end
  local m = evaluate()
  m.noise_level = l
  run:end_epoch(m)
end

local final = evaluate()
ae.no_grad(function()
  local n = math.min(16, #test)
  local x, xn = clean:narrow(1, 1, n), noisy:narrow(1, 1, n)
  ex.save_samples(run.dir .. "/denoising.png", { xn, model(xn), x }, test)
end)
run:finish {
  dataset = data.name, epochs = cfg.epochs, noise = cfg.noise, level = cfg.level,
  test_mse = final.test_loss, psnr_noisy = final.psnr_noisy, psnr_denoised = final.psnr_denoised,
  psnr_gain = final.psnr_denoised - final.psnr_noisy,
}
