-- 03_experiment.lua: an experiment that runs on its own and that a sweep
-- can load: a denoising autoencoder whose knobs are the masking noise and
-- the code size.  The body is a function of the config that returns the
-- result; the file ends with sweep.experiment, which runs it on the
-- command line's config when the file is the script, and hands it to
-- sweep.load otherwise (examples/06_sweep.lua loads this file).
--   build/aerun examples/03_experiment.lua --noise=0.5 --code=16
--   build/aerun examples/03_experiment.lua --help                 (every option and its default)
--   build/aerun examples/03_experiment.lua --epochs=2 --limit=1000   (CI's budget)
-- docs/guide.md, "An experiment a sweep can load".
local ae = require "aerun"
local ex = ae.experiment
local nn = ae.nn

local defaults = {
  dataset = "mnist", epochs = 5, batch_size = 128, lr = 1e-3, seed = 1, limit = 0,
  noise = 0.3, code = 32, hidden = 256,
}

local function train(cfg)
  if cfg.noise < 0 or cfg.noise >= 1 then error("--noise must be in [0, 1), got " .. cfg.noise) end
  ae.manual_seed(cfg.seed)
  local train_set, test, data = ex.data(cfg)
  local d = train_set:dim()
  local model = nn.AutoEncoder(nn.mlp { d, cfg.hidden, cfg.code },
    nn.mlp({ cfg.code, cfg.hidden, d }, { last = nn.Sigmoid }))
  local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
  local run = ex.start("denoising", cfg, { model = model, optimizer = opt, data = data })

  -- the model sees masked inputs and is scored on the clean ones
  local function test_mse()
    return ex.evaluate(test, function(x) return ae.loss.mse(model(ae.noise.masking(x, cfg.noise)), x) end)
  end

  for _ in run:epochs() do
    for x in run:batches(train_set) do
      opt:zero_grad()
      local loss = ae.loss.mse(model(ae.noise.masking(x, cfg.noise)), x)
      loss:backward()
      opt:step()
      run:step(loss)
    end
    run:end_epoch { test_loss = test_mse() }
  end
  -- what the sweep's table shows: the knobs and the final metrics
  return run:finish { noise = cfg.noise, code = cfg.code, test_mse = test_mse(),
    parameters = model:num_parameters() }
end

return ae.sweep.experiment("denoising", defaults, train)
