-- 05_schedules.lua: values that change with training (ae.schedule), per
-- optimizer step.  A VAE whose KL weight β warms up linearly from 0 to 1
-- over the first --kl_warmup share of the run's steps, and whose learning
-- rate warms up linearly from 0 over the first --lr_warmup share, then
-- follows half a cosine down to --lr_end at the last step (opt:set_lr
-- before each step).  A schedule counts epochs (the default) or steps
-- ({per = "step"}), from 1; run:value(s) gives each the count it wants
-- (ae.schedule.value(s, epoch, step) outside a run), and a plain Lua
-- function(epoch) works too.  --log-every=N writes β and the rate of every
-- N-th step to steps.csv.
--   build/aerun examples/05_schedules.lua --epochs=10
--   build/aerun examples/05_schedules.lua --epochs=2 --limit=1000   (CI's budget)
-- metrics.csv in the run directory has β and the rate at each epoch's
-- last step.  docs/guide.md, "Schedules".
local ae = require "aerun"
local ex = ae.experiment
local S = ae.schedule

local cfg = ex.config { dataset = "mnist", epochs = 10, batch_size = 128, lr = 1e-3, lr_end = 1e-4,
  kl_warmup = 0.5, lr_warmup = 0.05, seed = 1, limit = 0 }
ae.manual_seed(cfg.seed)
local train, test, data = ex.data(cfg)

local model = ae.models.vae(train:dim(), 400, 20)   -- PyTorch's VAE example: 784-400-20
local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
local run = ex.start("schedules", cfg, { model = model, optimizer = opt, data = data })

-- the run's length in steps, and the warm-ups' (at least one step each)
local per_epoch = train:num_batches(cfg.batch_size)
local steps = cfg.epochs * per_epoch
local kl_steps = math.max(1, math.floor(cfg.kl_warmup * steps + 0.5))
local lr_steps = math.max(1, math.floor(cfg.lr_warmup * steps + 0.5))

-- β: 0 at step 1, 1 from step kl_steps on (a KL warm-up per step)
local beta = S.linear(0, 1, kl_steps, { per = "step" })
-- the rate: 0 at step 1 up to lr at step lr_steps + 1, then half a cosine to lr_end at the last step
local rate = S.warmup(lr_steps, S.cosine(cfg.lr, cfg.lr_end, math.max(1, steps - lr_steps), { per = "step" }))

-- the negative ELBO per sample with KL weight b: BCE summed over pixels + b·KL
local function loss_of(x, b)
  local xhat, mu, logvar = model(x)
  return ae.loss.bce(xhat, x, "sum") / x:size(1) + ae.kl.normal(mu, logvar) * b
end

local b, lr, betas_first_epoch = 0, 0, {}
for epoch in run:epochs() do
  for x in run:batches(train) do
    -- this step's values (steps count from 1; a resumed run continues the count)
    b, lr = run:value(beta), run:value(rate)
    if epoch == 1 then betas_first_epoch[b] = true end
    opt:set_lr(lr)
    opt:zero_grad()
    local loss = loss_of(x, b)
    loss:backward()
    opt:step()
    run:step(loss, { beta = b })
  end
  -- the test loss always at β = 1, so that epochs compare
  run:end_epoch { test_loss = ex.evaluate(test, function(x) return loss_of(x, 1) end), beta = b, lr = lr }
end
local distinct = 0
for _ in pairs(betas_first_epoch) do distinct = distinct + 1 end
run:finish { test_loss = run.metrics.test_loss[run.epoch], beta = b, lr = lr, steps = steps,
  steps_per_epoch = per_epoch, kl_steps = kl_steps, lr_steps = lr_steps, betas_first_epoch = distinct }
