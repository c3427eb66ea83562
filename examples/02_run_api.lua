-- 02_run_api.lua: the loop of 01 inside a run (ae.experiment), which adds a
-- run directory (config.json, metrics.csv, loss.png, checkpoint.h5 after
-- every epoch, result.json), a progress bar on a terminal, a NaN check on
-- every step, a checkpoint on Ctrl-C or SIGTERM, and exact resume.
--   build/aerun examples/02_run_api.lua --epochs=5
--   build/aerun examples/02_run_api.lua --epochs=5 --resume      (continues that run)
--   build/aerun examples/02_run_api.lua --epochs=2 --limit=1000  (CI's budget)
-- The run directory is checkpoints/run_api/<run id>/, the run id naming the
-- options given ("epochs=5", or "default"); --out=DIR puts it elsewhere.
-- docs/guide.md, "The run API".
local ae = require "aerun"
local ex = ae.experiment
local nn = ae.nn

-- ae.config plus the run options (--resume, --out, --quiet, --on-nan, ...)
local cfg = ex.config { dataset = "mnist", epochs = 5, batch_size = 128, lr = 1e-3, seed = 1, limit = 0 }
ae.manual_seed(cfg.seed)   -- before the model: a resumed run then overwrites parameters and RNG
local train, test, data = ex.data(cfg)   -- --dataset, --limit, or --data=SPEC

local d = train:dim()
local model = nn.AutoEncoder(nn.mlp { d, 128, 32 }, nn.mlp({ 32, 128, d }, { last = nn.Sigmoid }))
local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
-- the run saves the model and the optimizer in its checkpoints, and
-- restores them (with the RNG and the epoch) when given --resume
local run = ex.start("run_api", cfg, { model = model, optimizer = opt, data = data })

local function test_mse()
  return ex.evaluate(test, function(x) return ae.loss.mse(model(x), x) end)   -- batched, no graph
end

for _ in run:epochs() do              -- cfg.epochs, from the resumed epoch on
  for x in run:batches(train) do      -- shuffled batches of cfg.batch_size, with a progress bar
    opt:zero_grad()
    local loss = ae.loss.mse(model(x), x)
    loss:backward()
    opt:step()
    run:step(loss)                    -- the train loss; stops on NaN; Ctrl-C saves and exits
  end
  run:end_epoch { test_loss = test_mse() }   -- a metrics.csv row, loss.png, checkpoint.h5
end

-- run.metrics holds every series by epoch (train_loss, test_loss, seconds, ...)
print("run directory: " .. run.dir)
print("test_loss by epoch: " .. table.concat(run.metrics.test_loss, ", "))
run:finish { test_mse = test_mse(), epochs = cfg.epochs }   -- result.json and the `result` line
