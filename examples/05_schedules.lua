-- 05_schedules.lua: values that change with the epoch (ae.schedule).  A
-- VAE whose KL weight β warms up linearly from 0 to 1 over --warmup epochs,
-- and whose learning rate follows half a cosine from --lr to --lr_end over
-- the run (opt:set_lr).  A schedule is a plain function(epoch), epochs
-- counting from 1, so any Lua function works where one does.
--   build/aerun examples/05_schedules.lua --epochs=10 --warmup=5
--   build/aerun examples/05_schedules.lua --epochs=2 --limit=1000   (CI's budget)
-- metrics.csv in the run directory has a column for β and one for the rate.
-- docs/guide.md, "Schedules".
local ae = require "aerun"
local ex = ae.experiment

local cfg = ex.config { dataset = "mnist", epochs = 10, batch_size = 128, lr = 1e-3, lr_end = 1e-4,
  warmup = 5, seed = 1, limit = 0 }
ae.manual_seed(cfg.seed)
local train, test, data = ex.data(cfg)

local model = ae.models.vae(train:dim(), 400, 20)   -- PyTorch's VAE example: 784-400-20
local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
local run = ex.start("schedules", cfg, { model = model, optimizer = opt, data = data })

local beta = ae.schedule.linear(0, 1, cfg.warmup)              -- 0 at epoch 1, 1 from epoch `warmup` on
local rate = ae.schedule.cosine(cfg.lr, cfg.lr_end, cfg.epochs) -- lr at epoch 1, lr_end at the last

-- the negative ELBO per sample with KL weight b: BCE summed over pixels + b·KL
local function loss_of(x, b)
  local xhat, mu, logvar = model(x)
  return ae.loss.bce(xhat, x, "sum") / x:size(1) + ae.kl.normal(mu, logvar) * b
end

for epoch in run:epochs() do
  local b = beta(epoch)
  opt:set_lr(rate(epoch))
  for x in run:batches(train) do
    opt:zero_grad()
    local loss = loss_of(x, b)
    loss:backward()
    opt:step()
    run:step(loss)
  end
  -- the test loss always at β = 1, so that epochs compare
  run:end_epoch { test_loss = ex.evaluate(test, function(x) return loss_of(x, 1) end), beta = b, lr = rate(epoch) }
end
run:finish { test_loss = run.metrics.test_loss[cfg.epochs], beta = beta(cfg.epochs), lr = rate(cfg.epochs) }
