-- Anomaly detection in a multichannel time series by reconstruction error:
-- an autoencoder learns sliding windows of the normal series, every test
-- window is scored by its reconstruction error (the mean squared error
-- over its values), and the labelled anomalies say how well the score
-- separates them.  Reports the ROC AUC, precision / recall / F1 at a
-- threshold chosen on normal data only (the --quantile of the validation
-- windows' errors), and per anomaly kind the fraction of anomalies
-- detected (some flagged window overlaps it) and the recall of the
-- anomalous windows that overlap them.
--   aerun experiments/timeseries_anomaly.lua                     # the synthetic benchmark, Conv1d AE
--   aerun experiments/timeseries_anomaly.lua --model=lstm --window=32
--   aerun experiments/timeseries_anomaly.lua --data=data/series.h5          # tools/make_series.lua's file
--   aerun experiments/timeseries_anomaly.lua --data=plant.csv:label --split=0.6
--   aerun experiments/timeseries_anomaly.lua --data=train.csv --test-data=test.csv:label
-- The data: without --data the benchmark of ae.series.generate (--length,
-- --channels, --series-seed, --anomalies), made in memory; --data=FILE.h5
-- a file tools/make_series.lua wrote (train/x, train/y, test/x, test/y); or
-- any series ae.data.load reads (rows are steps, columns channels, with or
-- without a label column: non-zero labels are anomalies) tested on
-- --test-data, or cut in time at --split.  The test part needs labels.
-- The last --val-fraction of the training part is held out (validation:
-- the threshold and val_loss); windows that touch a labelled training step
-- are left out.  Each channel is standardised with the mean and std of the
-- training steps before the validation part (--no-standardize: raw values).
-- Models (--model, default conv): mlp (a Linear autoencoder over the flattened window,
-- --hidden and --code), conv (Conv1d 32 and 16 channels, kernel 7, stride 2,
-- and the transposed mirror; --window a multiple of 4), lstm or gru
-- (ae.models.seq_ae: an LSTM or GRU encoder of --hidden units whose last
-- hidden state a Linear maps to a --code; the code, fed at every step,
-- drives the decoder's LSTM or GRU and a Linear back to the channels).
-- The same settings in PyTorch: tests/interop/timeseries_torch.py.
local ae = require "aerun"
local sweep = require "aerun.sweep"
local ex = ae.experiment
local nn = ae.nn

local defaults = {
  model = "conv", epochs = 20, batch_size = 64, lr = 1e-3, seed = 42,
  length = 10000, channels = 4, series_seed = 0, anomalies = 10,
  window = 64, stride = 1, test_stride = 1, fraction = 0.0, val_fraction = 0.2, quantile = 0.99,
  split = 0.5, hidden = 64, code = 16,
  -- the run options' defaults for a series: standardised, real-valued output
  standardize = true, output = "linear",
}

-- every model takes and returns flat N×(C·W) batches; the layout is how
-- a window's values are ordered in them
local function build(cfg, channels)
  local w = cfg.window
  if cfg.model == "mlp" then
    return ae.models.mlp_ae({ channels * w, cfg.hidden, cfg.code }, { output = "linear" }), "ncw"
  elseif cfg.model == "conv" then
    if w % 4 ~= 0 then error("--model=conv halves the window twice: --window must be a multiple of 4, got " .. w, 0) end
    local encoder = nn.Sequential {
      nn.Reshape(channels, w),
      nn.Conv1d(channels, 32, 7, { stride = 2, padding = 3 }), nn.ReLU(),
      nn.Conv1d(32, 16, 7, { stride = 2, padding = 3 }), nn.ReLU(),
    }
    local decoder = nn.Sequential {
      nn.ConvTranspose1d(16, 32, 7, { stride = 2, padding = 3, output_padding = 1 }), nn.ReLU(),
      nn.ConvTranspose1d(32, channels, 7, { stride = 2, padding = 3, output_padding = 1 }),
      nn.Flatten(),
    }
    return nn.AutoEncoder(encoder, decoder), "ncw"
  elseif cfg.model == "lstm" or cfg.model == "gru" then
    return ae.models.seq_ae { steps = w, width = channels, cell = cfg.model, hidden = cfg.hidden, code = cfg.code,
      output = "linear" }, "nwc"
  end
  error("--model must be mlp, conv, lstm or gru, got " .. cfg.model, 0)
end

local function check(cfg)
  local function integer_at_least(key, least)
    if math.type(cfg[key]) ~= "integer" or cfg[key] < least then
      error(string.format("--%s must be an integer >= %d, got %s", key:gsub("_", "-"), least, tostring(cfg[key])), 0)
    end
  end
  integer_at_least("window", 2)
  integer_at_least("stride", 1)
  integer_at_least("test_stride", 1)
  integer_at_least("hidden", 1)
  integer_at_least("code", 1)
  local function fraction(key, lo_open, hi_open)
    local v = cfg[key]
    if not (v >= 0 and v <= 1) or (lo_open and v == 0) or (hi_open and v == 1) then
      error(string.format("--%s must be in %s0, 1%s, got %s", key:gsub("_", "-"), lo_open and "(" or "[",
        hi_open and ")" or "]", tostring(v)), 0)
    end
  end
  fraction("quantile", true, false)
  fraction("val_fraction", false, true)
  fraction("split", true, true)
  fraction("fraction", false, false)
  if cfg.output ~= "linear" then
    error("--output=sigmoid: a series is real-valued (standardised); timeseries_anomaly's output is linear", 0)
  end
  if cfg.model ~= "mlp" and cfg.model ~= "conv" and cfg.model ~= "lstm" and cfg.model ~= "gru" then
    error("--model must be mlp, conv, lstm or gru, got " .. cfg.model, 0)
  end
end

-- a file ae.series.write made: an HDF5 path with train/x and test/x
local function generator_file(spec)
  if not (spec:lower():match("%.h5$") or spec:lower():match("%.hdf5$")) then return false end
  local fh = io.open(spec, "rb")
  if not fh then return false end
  fh:close()
  local f <close> = ae.h5.open(spec, "r")
  return f:kind("train/x") == "dataset" and f:kind("test/x") == "dataset"
end

-- the series: {train = {x, y}, test = {x, y}, name, kinds (names of the
-- labels 1..5 when they are the generator's)}
local function load_series(cfg)
  if cfg.data == "" then
    if cfg.test_data ~= "" then error("--test-data goes with --data", 0) end
    local s = ae.series.generate { length = cfg.length, channels = cfg.channels, seed = cfg.series_seed,
      anomalies = cfg.anomalies }
    return { train = s.train, test = s.test, kinds = ae.series.kinds,
      name = string.format("synthetic length=%d channels=%d seed=%d anomalies=%d", cfg.length, cfg.channels,
        cfg.series_seed, cfg.anomalies) }
  end
  if cfg.test_data == "" and generator_file(cfg.data) then
    local s = ae.series.read(cfg.data)
    return { train = s.train, test = s.test, kinds = ae.series.kinds, name = cfg.data }
  end
  local x, y = ae.series.load(cfg.data)
  local out = { name = cfg.data }
  if cfg.test_data ~= "" then
    local tx, ty = ae.series.load(cfg.test_data)
    if tx:size(2) ~= x:size(2) then
      error(string.format("--test-data=%s has %d channels but --data=%s has %d", cfg.test_data, tx:size(2),
        cfg.data, x:size(2)), 0)
    end
    out.train, out.test = { x = x, y = y }, { x = tx, y = ty }
  else
    -- in time order: the first --split of the steps train, the rest test
    local t = x:size(1)
    local cut = math.floor(t * cfg.split + 0.5)
    if cut < 1 or cut >= t then error(string.format("--split=%g of %d steps leaves a part empty", cfg.split, t), 0) end
    out.train = { x = x:narrow(1, 1, cut), y = y and y:narrow(1, 1, cut) }
    out.test = { x = x:narrow(1, cut + 1, t - cut), y = y and y:narrow(1, cut + 1, t - cut) }
  end
  if not out.test.y then
    error(string.format("the test series (%s) has no labels: scoring needs a label column "
      .. "(e.g. --data=file.csv:label; non-zero labels are anomalies)",
      cfg.test_data ~= "" and cfg.test_data or cfg.data), 0)
  end
  return out
end

local function experiment(cfg)
  check(cfg)
  ae.manual_seed(cfg.seed)
  local s = load_series(cfg)
  local channels = s.train.x:size(2)
  local model, layout = build(cfg, channels)

  -- the training part: fit steps, then the validation steps
  local t = s.train.x:size(1)
  local n_val = math.floor(t * cfg.val_fraction + 0.5)
  local n_fit = t - n_val
  if n_fit < cfg.window or (n_val > 0 and n_val < cfg.window) then
    error(string.format("the training part has %d steps: %d to fit and %d to validate, each at least "
      .. "a window (--window=%d); lengthen the series or change --val-fraction", t, n_fit, n_val, cfg.window), 0)
  end
  if s.test.x:size(1) < cfg.window then
    error(string.format("the test part has %d steps, fewer than a window (--window=%d)", s.test.x:size(1), cfg.window), 0)
  end
  local fit_x = s.train.x:narrow(1, 1, n_fit)
  local st = cfg.standardize and ae.series.standardizer(fit_x) or nil
  local function prepared(x) return st and ae.series.standardize(x, st) or x end

  -- normal windows only: those that touch a labelled step are left out
  local function normal_windows(x, y, name)
    local ds = ae.series.windows(prepared(x), { size = cfg.window, stride = cfg.stride, labels = y,
      layout = layout, name = name })
    if not y then return ds end
    local kept = ds:filter { 0 }
    if #kept == 0 then error("every " .. name .. " window touches a labelled anomaly", 0) end
    return kept
  end
  local train = normal_windows(fit_x, s.train.y and s.train.y:narrow(1, 1, n_fit), "train")
  local val = n_val > 0 and normal_windows(s.train.x:narrow(1, n_fit + 1, n_val),
    s.train.y and s.train.y:narrow(1, n_fit + 1, n_val), "validation") or nil
  local test, info = ae.series.windows(prepared(s.test.x), { size = cfg.window, stride = cfg.test_stride,
    labels = s.test.y, fraction = cfg.fraction, layout = layout, name = "test" })
  local counts = test:counts()
  if not counts[0] or not counts[1] then
    error(string.format("the test series has %s: the AUC needs both normal and anomalous windows "
      .. "(--window=%d, --fraction=%g)", counts[1] and "no normal window" or "no anomalous window",
      cfg.window, cfg.fraction), 0)
  end

  local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
  local run = ex.start("timeseries_anomaly", cfg, { model = model, optimizer = opt,
    data = { name = s.name, probe = test:batch(1, math.min(8, #test)) } })

  local function mse(x) return ae.loss.mse(model(x), x) end
  local function scores()
    model:eval()
    local sc, labels = ae.eval.score(model, test)
    model:train()
    local anomalous = {}
    for i, l in ipairs(labels) do anomalous[i] = l ~= 0 end
    return sc, anomalous
  end

  for _ in run:epochs() do
    for x in run:batches(train) do
      opt:zero_grad()
      local loss = mse(x)
      loss:backward()
      opt:step()
      run:step(loss)
    end
    local sc, anomalous = scores()
    local normal_err, n = 0, 0   -- the test loss: the error of the normal test windows
    for i, e in ipairs(sc) do
      if not anomalous[i] then normal_err, n = normal_err + e, n + 1 end
    end
    run:end_epoch { test_loss = n > 0 and normal_err / n or 0 / 0, val_loss = val and ex.evaluate(val, mse) or nil,
      test_auc = ae.metrics.roc_auc(sc, anomalous) }
  end

  -- the threshold: the --quantile of the normal validation windows' errors
  -- (of the training windows' without a validation part)
  model:eval()
  local reference = ae.eval.score(model, val or train)
  local threshold = ae.metrics.quantile(reference, cfg.quantile)
  local sc, anomalous = scores()
  local tp, fp, fn = 0, 0, 0
  local flagged = {}
  for i, e in ipairs(sc) do
    flagged[i] = e > threshold
    if flagged[i] and anomalous[i] then tp = tp + 1 end
    if flagged[i] and not anomalous[i] then fp = fp + 1 end
    if not flagged[i] and anomalous[i] then fn = fn + 1 end
  end
  local precision = tp + fp > 0 and tp / (tp + fp) or 0
  local recall = tp + fn > 0 and tp / (tp + fn) or 0
  local f1 = precision + recall > 0 and 2 * precision * recall / (precision + recall) or 0

  -- per kind: an anomaly (a run of one label) is detected when a flagged
  -- window overlaps it; its windows' recall is the fraction flagged of
  -- the anomalous windows that overlap it.  Window i covers steps
  -- 1 + (i-1)·stride .. (i-1)·stride + window, so those overlapping steps
  -- a..b are i_lo..i_hi below.
  local detected, total, hits, windows = {}, {}, {}, {}
  local w, stride, n = cfg.window, cfg.test_stride, #info.starts
  for _, ev in ipairs(ae.series.events(s.test.y)) do
    local kind = s.kinds and s.kinds[ev.label] or ("label " .. ev.label)
    local a, b = ev.start, ev.start + ev.length - 1
    local lo = math.max(1, math.ceil((a - w) / stride) + 1)
    local hi = math.min(n, (b - 1) // stride + 1)
    local hit = false
    for i = lo, hi do
      if flagged[i] then hit = true end
      if anomalous[i] then
        windows[kind] = (windows[kind] or 0) + 1
        hits[kind] = (hits[kind] or 0) + (flagged[i] and 1 or 0)
      end
    end
    total[kind] = (total[kind] or 0) + 1
    detected[kind] = (detected[kind] or 0) + (hit and 1 or 0)
  end
  local detection, kind_recall = {}, {}
  for kind, count in pairs(total) do
    detection[kind] = detected[kind] / count
    kind_recall[kind] = windows[kind] and hits[kind] / windows[kind] or nil
  end

  -- every test window's score, for plots and other tools
  local f = assert(io.open(run.dir .. "/scores.csv", "w"))
  f:write("start,label,score,flagged\n")
  for i, e in ipairs(sc) do
    f:write(string.format("%d,%d,%.9g,%d\n", info.starts[i], anomalous[i] and 1 or 0, e, flagged[i] and 1 or 0))
  end
  f:close()

  local auc = ae.metrics.roc_auc(sc, anomalous)
  run:say("test windows: ROC AUC %.4f; at the %g quantile of the validation errors (%.4g): "
    .. "precision %.3f, recall %.3f, F1 %.3f", auc, cfg.quantile, threshold, precision, recall, f1)
  return run:finish {
    data = s.name, model = cfg.model, epochs = cfg.epochs, window = cfg.window, channels = channels,
    auc = auc, threshold = threshold, quantile = cfg.quantile, precision = precision, recall = recall, f1 = f1,
    detection = detection, recall_by_kind = kind_recall, anomalies = total,
    train_windows = #train, val_windows = val and #val or 0, test_windows = #test, test_anomalous = tp + fn,
  }
end

return sweep.experiment("timeseries_anomaly", defaults, experiment)
