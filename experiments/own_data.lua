-- Your own data, the whole path: an autoencoder trained on a file you
-- bring, its reconstructions drawn, and every test sample scored for
-- anomalies by its reconstruction error.
--   aerun experiments/own_data.lua --data=sensors.h5:x,y --normal=0
--   aerun eval checkpoints/own_data/<run>/checkpoint.h5 --data=new.h5:x,y --normal=0
-- --data takes an HDF5, .npy, .npz or CSV file or a folder of images (see
-- README.md, "Your own data"); with --normal=LABEL the model learns from
-- the samples of that label only and the others are the anomalies.  The
-- data are standardised per feature (fitted on the training split, kept
-- in the checkpoint) and the output is linear, so any real values work.
-- Without --data the script first writes an example, checkpoints/own_data/example.h5:
-- 2,000 samples of 64 values, 5% of them anomalies (label 1).
local ae = require "aerun"
local ex = ae.experiment

local cfg = ex.config {
  epochs = 20, batch_size = 64, lr = 1e-3, seed = 42, limit = 0, hidden = 32, code = 4,
  normal = "", fpr = 0.05, output = "linear", standardize = true,
}

-- normal samples lie near a 4-dimensional subspace of the 64 values, in
-- units far from [0, 1]; anomalies do not
local function write_example(path)
  ae.manual_seed(0)
  local n, d = 2000, 64
  local x = ae.matmul(ae.randn(n, 4), ae.randn(4, d)) * 3 + 10 + ae.randn(n, d) * 0.1
  local labels = {}
  for i = 1, n do labels[i] = i % 20 == 0 and 1 or 0 end
  local y = ae.tensor(labels)
  x = x * (1 - y:reshape(n, 1)) + (ae.randn(n, d) * 3 + 10) * y:reshape(n, 1)
  assert(ae.mkdir_p("checkpoints/own_data"))
  local f <close> = ae.h5.open(path, "w")
  f:write("x", x)
  f:write("y", y)
  print("wrote " .. path .. ": x 2000×64 float32, y labels (1: anomaly)")
end

if cfg.data == "" then
  cfg.data = "checkpoints/own_data/example.h5:x,y"
  if cfg.normal == "" then cfg.normal = "0" end
  write_example("checkpoints/own_data/example.h5")
end

ae.manual_seed(cfg.seed)
local normal = cfg.normal ~= "" and math.tointeger(tonumber(cfg.normal)) or nil
if cfg.normal ~= "" and not normal then error("--normal must be a label (an integer), got " .. cfg.normal) end
local train, test, data = ex.data(cfg, { classes = normal })

local model = ae.models.mlp_ae({ train:dim(), cfg.hidden, cfg.code }, { output = cfg.output })
local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
local run = ex.start("own_data", cfg, { model = model, optimizer = opt, data = data })

for _ in run:epochs() do
  for x in run:batches(train) do
    opt:zero_grad()
    local loss = ae.loss.mse(model(x), x)
    loss:backward()
    opt:step()
    run:step(loss)
  end
  run:end_epoch { test_loss = ex.evaluate(test, function(x) return ae.loss.mse(model(x), x) end) }
end

-- the first test samples over their reconstructions
model:eval()
ae.no_grad(function()
  local x = test:batch(1, math.min(16, #test))
  ex.save_samples(run.dir .. "/reconstructions.png", { x, model(x) }, test)
end)

-- every test sample's score; with labels and --normal, how well it separates
local scores, labels = ae.eval.score(model, test)
local result = { data = data.name, epochs = cfg.epochs, test_samples = #test,
  test_mse = ex.evaluate(test, function(x) return ae.loss.mse(model(x), x) end) }
if normal and labels then
  local anomalous = {}
  for i, l in ipairs(labels) do anomalous[i] = l ~= normal end
  result.normal = normal
  result.auc = ae.metrics.roc_auc(scores, anomalous)
  result.threshold, result.tpr = ae.metrics.threshold_at_fpr(scores, anomalous, cfg.fpr)
  run:say("anomalies (label ~= %d): ROC AUC %.4f, TPR %.3f at FPR %g", normal, result.auc, result.tpr, cfg.fpr)
end
run:finish(result)
