-- A run whose learning rate warms up per step (LinearLR) and then drops on
-- a plateau of the test loss (ReduceLROnPlateau), both kept in the run's
-- checkpoint: tests/continue_spec.lua stops it and resumes it.
local ae = require "aerun"
local ex = ae.experiment
local sched = ae.optim.lr_scheduler

local cfg = ex.config { epochs = 6, lr = 0.02, seed = 5, n = 6000 }
ae.manual_seed(cfg.seed)
local x = ae.rand(cfg.n, 32)
local train, test = ae.data.tensor(x:narrow(1, 1, cfg.n - 500)), ae.data.tensor(x:narrow(1, cfg.n - 499, 500))
local model = ae.models.mlp_ae({ 32, 64, 8 }, { output = "linear" })
local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
local warm = sched.LinearLR(opt, { start_factor = 0.1, total_iters = 40 })
local plateau = sched.ReduceLROnPlateau(opt, { patience = 0, factor = 0.5, threshold = 0.05 })
local run = ex.start("plateau_run", cfg, { model = model, optimizer = opt, schedulers = { warm = warm, plateau = plateau } })
for _ in run:epochs() do
  for b in run:batches(train, 50) do
    opt:zero_grad()
    local loss = ae.loss.mse(model(b), b)
    loss:backward()
    opt:step()
    if run.step_count < 40 then warm:step() end
    run:step(loss)
  end
  local test_loss = ex.evaluate(test, function(b) return ae.loss.mse(model(b), b) end)
  plateau:step(test_loss)
  run:end_epoch { test_loss = test_loss, lr = opt.lr }
end
run:finish { test_loss = run.metrics.test_loss[run.epoch], lr = opt.lr }
