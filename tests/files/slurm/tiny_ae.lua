-- tiny_ae.lua: the experiment of tests/slurm_spec.lua's sweep.  An MLP
-- autoencoder on synthetic data made from a fixed seed (no data files),
-- small enough that an epoch takes well under a second single-threaded,
-- with enough steps per epoch (--n / --batch-size) that a preemption lands
-- inside one.  Deterministic: the same config gives the same bits.
--   aerun tests/files/slurm/tiny_ae.lua --code=4 --epochs=2
local ae = require "aerun"
local ex = ae.experiment
local nn = ae.nn

local defaults = { epochs = 6, batch_size = 20, lr = 1e-3, seed = 1, n = 4000, dim = 784, code = 8, hidden = 512 }

-- data in [0, 1] with a low-dimensional structure, so that the code size matters
local function make_data(cfg)
  ae.manual_seed(1000 + cfg.seed)
  local z = ae.randn(cfg.n + cfg.n // 4, 6)
  local x = ae.matmul(z, ae.randn(6, cfg.dim)):sigmoid()
  return ae.data.tensor(x:narrow(1, 1, cfg.n):contiguous(), nil, { name = "tiny_train" }),
    ae.data.tensor(x:narrow(1, cfg.n + 1, cfg.n // 4):contiguous(), nil, { name = "tiny_test" })
end

local function train(cfg)
  local train_set, test = make_data(cfg)
  ae.manual_seed(cfg.seed)
  local model = nn.AutoEncoder(nn.mlp { cfg.dim, cfg.hidden, cfg.code },
    nn.mlp({ cfg.code, cfg.hidden, cfg.dim }, { last = nn.Sigmoid }))
  local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
  local run = ex.start("tiny_ae", cfg, { model = model, optimizer = opt })
  -- the test MSE by hand (not ex.evaluate, whose result may grow fields)
  local function test_mse()
    local sum = 0
    ae.no_grad(function()
      for x in test:batches(500) do sum = sum + ae.loss.mse(model(x), x):item() * x:size(1) end
    end)
    return sum / #test
  end
  for _ in run:epochs() do
    for x in run:batches(train_set, cfg.batch_size) do
      opt:zero_grad()
      local loss = ae.loss.mse(model(x), x)
      loss:backward()
      opt:step()
      run:step(loss)
    end
    run:end_epoch { test_loss = test_mse() }
  end
  return run:finish { code = cfg.code, test_mse = test_mse() }
end

return ae.sweep.experiment("tiny_ae", defaults, train)
