-- 09_results_elsewhere.lua: results other tools can read.  A short run of
-- the MLP autoencoder whose run directory holds metrics.csv, result.json and
-- checkpoint.h5 (an ordinary HDF5 file), plus codes.h5: the test set's
-- codes and labels, written with ae.h5.  09_results_elsewhere.py then reads
-- all of them in Python (h5py, numpy, csv, json) and turns the checkpoint
-- into a PyTorch model with tools/aerun_torch.py.
--   build/aerun examples/09_results_elsewhere.lua --epochs=5
--   /usr/bin/python3 examples/09_results_elsewhere.py
--   build/aerun examples/09_results_elsewhere.lua --epochs=2 --limit=1000   (CI's budget)
-- checkpoints/results_elsewhere/result.json names the newest run's directory.
-- docs/guide.md, "Loading results in other tools".
local ae = require "aerun"
local ex = ae.experiment

local cfg = ex.config { dataset = "mnist", epochs = 5, batch_size = 128, lr = 1e-3, seed = 1, limit = 0 }
ae.manual_seed(cfg.seed)
local train, test, data = ex.data(cfg)
local model = ae.models.mlp_ae { train:dim(), 128, 64, 32 }   -- the tutorial's 784-128-64-32
local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
local run = ex.start("results_elsewhere", cfg, { model = model, optimizer = opt, data = data })

local function test_mse() return ex.evaluate(test, function(x) return ae.loss.mse(model(x), x) end) end
for _ in run:epochs() do
  for x in run:batches(train) do
    opt:zero_grad()
    local loss = ae.loss.mse(model(x), x)
    loss:backward()
    opt:step()
    run:step(loss)
  end
  run:end_epoch { test_loss = test_mse() }
end

-- the test codes and labels, for a plot or a classifier in another tool
local codes = ae.no_grad(function() return model:encode(test:images()) end)
local f = ae.h5.open(run.dir .. "/codes.h5", "w")
f:write("codes", codes)
f:write("labels", test:labels())
f:set_attr("codes", "model", "mlp_ae 784-128-64-32")
f:close()
run:finish { test_mse = test_mse(), codes = run.dir .. "/codes.h5", code_size = codes:size(2) }
