-- Anomaly detection by reconstruction error, in the one-class setup of
-- Deep SVDD (Ruff et al., 2018): train an autoencoder on one digit
-- (--normal=D) only, score every test image by its reconstruction error
-- (per-sample MSE), and take the other nine digits as the anomalies.
-- Reports the ROC AUC and the score threshold whose false-positive rate
-- on normal test digits is --fpr, with the true-positive rate it gives.
-- --normal=all (the default) trains the ten one-class models in turn,
-- each in its own run directory (checkpoints/anomaly_mnist/normal=D/),
-- skipping those already done, and reports each AUC and their mean.
-- Any labelled data works the same way: with --data=SPEC (e.g.
-- --data=file.h5:x,y, see ae.data.load) --normal names one of its labels,
-- the others are the anomalies, and --normal=all trains one model a label;
-- --output=linear for real-valued data.
--   aerun experiments/anomaly_mnist.lua                  # all ten digits
--   aerun experiments/anomaly_mnist.lua --normal=3 --fpr=0.01
local ae = require "aerun"
local sweep = require "aerun.sweep"
local ex = ae.experiment
local nn = ae.nn

local defaults = {
  dataset = "mnist", normal = "all", epochs = 30, batch_size = 64, lr = 1e-3, seed = 42,
  limit = 0, fpr = 0.05, hidden = 256, code = 16,
  shard = "",   -- with --normal=all: K/N runs a share of the ten (see ae.sweep)
}

-- a small bottleneck: what the normal class shares is kept, the rest lost
local function autoencoder(cfg, d)
  local decoder = nn.Sequential { nn.Linear(cfg.code, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, d) }
  if cfg.output == "sigmoid" then decoder:add(nn.Sigmoid()) end
  return nn.AutoEncoder(
    nn.Sequential { nn.Linear(d, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, cfg.code), nn.ReLU() }, decoder)
end

-- the labels of the run's data: the ten digits, or those of --data's labels
local function labels_of(cfg)
  if cfg.data == "" then return { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 } end
  local ds = ae.data.load(cfg.data)
  if not ds:has_labels() then
    error("--data=" .. cfg.data .. " has no labels; anomaly detection needs a label column "
      .. "that names the normal class (see ae.data.load)", 0)
  end
  local labels = {}
  for label in pairs(ds:counts()) do labels[#labels + 1] = label end
  table.sort(labels)
  ds:close()
  return labels
end

-- one normal class
local function one_class(cfg)
  local digit = math.tointeger(tonumber(cfg.normal))
  if not digit then error("--normal must be a label (a digit 0..9 for MNIST) or all, got " .. cfg.normal) end
  if cfg.data == "" and (digit < 0 or digit > 9) then
    error("--normal must be a digit 0..9 or all, got " .. cfg.normal)
  end
  if not (cfg.fpr > 0 and cfg.fpr < 1) then error("--fpr must be between 0 and 1") end
  ae.manual_seed(cfg.seed)
  local train, test, data = ex.data(cfg, { classes = digit })
  if not test:has_labels() then
    error("anomaly_mnist: the test data " .. test:name() .. " has no labels to tell normal from anomalous", 0)
  end

  local model = autoencoder(cfg, train:dim())
  local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
  local run = ex.start("anomaly_mnist", cfg, { model = model, optimizer = opt, data = data })

  -- every test sample's reconstruction error, and whether it is an anomaly
  local function scores()
    local s, labels = ae.eval.score(model, test)
    local anomalous = {}
    for i, label in ipairs(labels) do anomalous[i] = label ~= digit end
    return s, anomalous
  end

  for _ in run:epochs() do
    for x in run:batches(train) do
      opt:zero_grad()
      local loss = ae.loss.mse(model(x), x)
      loss:backward()
      opt:step()
      run:step(loss)
    end
    local s, anomalous = scores()
    local normal_err, n = 0, 0   -- the test loss: the error on the normal test digits
    for i, e in ipairs(s) do
      if not anomalous[i] then normal_err, n = normal_err + e, n + 1 end
    end
    run:end_epoch { test_auc = ae.metrics.roc_auc(s, anomalous), test_loss = normal_err / n }
  end

  local s, anomalous = scores()
  local threshold, tpr = ae.metrics.threshold_at_fpr(s, anomalous, cfg.fpr)
  return run:finish {
    dataset = data.name, normal = digit, epochs = cfg.epochs, auc = ae.metrics.roc_auc(s, anomalous),
    fpr = cfg.fpr, threshold = threshold, tpr = tpr, train_samples = #train, test_samples = #test,
  }
end

-- --normal=all: the ten one-class runs as a sweep, then their mean (once
-- all ten have a result: with --shard, when the last share ends)
local function experiment(cfg)
  if cfg.normal ~= "all" then
    if cfg.shard ~= "" then error("--shard goes with --normal=all") end
    return one_class(cfg)
  end
  local s = sweep.new("anomaly_mnist", { name = "anomaly_mnist", defaults = defaults, run = one_class },
    { base = cfg })
  for _, label in ipairs(labels_of(cfg)) do s:run(s:config { normal = tostring(label) }) end
  local summary = s:finish()
  if not summary or #summary.missing > 0 then return nil end
  local aucs, tprs, sum, seconds = {}, {}, 0, 0
  for i, row in ipairs(summary.rows) do
    aucs[i], tprs[i] = row.result.auc, row.result.tpr
    sum, seconds = sum + row.result.auc, seconds + (row.result.seconds or 0)
  end
  local id = ex.run_id(s:config {})
  local result = {
    dataset = cfg.data ~= "" and cfg.data or cfg.dataset, normal = "all", epochs = cfg.epochs, auc = aucs, tpr = tprs, fpr = cfg.fpr,
    mean_auc = sum / #aucs, seconds = seconds, run_id = id, run_dir = s.root .. "/" .. id,
  }
  ex.result("anomaly_mnist", result, result.run_dir)
  return result
end

return sweep.experiment("anomaly_mnist", defaults, experiment)
