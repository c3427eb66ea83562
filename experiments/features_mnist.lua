-- Autoencoder codes as features for a classifier with few labels.  A
-- denoising autoencoder (masking noise, ReLU code of --code units) learns
-- from every training image without its label; then one softmax
-- (multinomial logistic regression) classifier is trained on the codes of
-- the first --labels training images, and the same classifier, trained
-- the same way, on the raw pixels and on PCA codes of the same size.
-- Reports the three test accuracies.
--   aerun experiments/features_mnist.lua --labels=1000 --code=64
-- Any data with class numbers 0..K-1 as labels works the same way
-- (--data=SPEC, see ae.data.load; --output=linear for real values).
--
-- The classifiers: each feature standardised with the labelled set's mean
-- and standard deviation, one nn.Linear(d, 10) with ae.loss.cross_entropy,
-- Adam (--probe_lr, --probe_weight_decay) for --probe_epochs full-batch
-- steps.  PCA is fitted on the training images the autoencoder saw, from
-- their covariance matrix (ae.eigh).
local ae = require "aerun"
local sweep = require "aerun.sweep"
local ex = ae.experiment
local nn = ae.nn

local defaults = {
  dataset = "mnist", epochs = 10, batch_size = 128, lr = 1e-3, seed = 42, limit = 0,
  hidden = 512, code = 64, noise = 0.5, labels = 1000,
  probe_epochs = 300, probe_lr = 1e-2, probe_weight_decay = 1e-3,
}

local function autoencoder(cfg, d)
  local decoder = nn.Sequential { nn.Linear(cfg.code, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, d) }
  if cfg.output == "sigmoid" then decoder:add(nn.Sigmoid()) end
  return nn.AutoEncoder(
    nn.Sequential { nn.Linear(d, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, cfg.code), nn.ReLU() }, decoder)
end

-- the number of classes: labels must be class numbers 0..K-1
local function class_count(ds)
  if not ds:has_labels() then
    error("features_mnist: the data " .. ds:name() .. " has no labels for the classifier", 0)
  end
  local k = 0
  for label in pairs(ds:counts()) do
    if math.type(label) ~= "integer" or label < 0 then
      error("features_mnist: labels must be class numbers 0, 1, 2, ..., got " .. tostring(label), 0)
    end
    k = math.max(k, label + 1)
  end
  return k
end

-- the k leading principal directions (d×k) and the mean (1×d) of a
-- data set, in two passes of batches so that no centred copy is kept
local function pca(dataset, k)
  local n, sum = #dataset, nil
  for x in dataset:batches(5000) do
    local s = x:sum(1, true)
    sum = sum and sum + s or s
  end
  local mean = sum / n
  local cov
  for x in dataset:batches(5000) do
    local c = x - mean
    local part = ae.matmul(c:t(), c)
    cov = cov and cov + part or part
  end
  local _, vectors = ae.eigh(cov / (n - 1))   -- eigenvalues ascending: the last k columns
  return vectors:narrow(2, vectors:size(2) - k + 1, k), mean
end

-- trains the softmax classifier on (features, labels) and returns its
-- accuracy on (test_features, test_labels)
local function probe(cfg, classes, features, labels, test_features, test_labels)
  local mean = features:mean(1, true)
  local std = ((features - mean) ^ 2):mean(1, true):sqrt() + 1e-2   -- constant pixels stay finite
  features, test_features = (features - mean) / std, (test_features - mean) / std
  ae.manual_seed(cfg.seed)
  local classifier = nn.Linear(features:size(2), classes)
  local opt = ae.optim.Adam(classifier:parameters(), { lr = cfg.probe_lr, weight_decay = cfg.probe_weight_decay })
  for _ = 1, cfg.probe_epochs do
    opt:zero_grad()
    local loss = ae.loss.cross_entropy(classifier(features), labels)
    loss:backward()
    opt:step()
  end
  return ae.no_grad(function() return ae.metrics.accuracy(classifier(test_features), test_labels) end)
end

local function experiment(cfg)
  ae.manual_seed(cfg.seed)
  local train, test, data = ex.data(cfg)
  local d, classes = train:dim(), class_count(train)
  if cfg.code < 1 or cfg.code > d then error(string.format("--code must be between 1 and %d", d)) end
  if cfg.labels < classes or cfg.labels > #train then
    error(string.format("--labels must be between %d and the %d training samples", classes, #train))
  end

  local model = autoencoder(cfg, d)
  local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
  local run = ex.start("features_mnist", cfg, { model = model, optimizer = opt, data = data })

  local function test_loss()
    return ex.evaluate(test, function(x) return ae.loss.mse(model(x), x) end)
  end

  for _ in run:epochs() do
    for x in run:batches(train) do
      opt:zero_grad()
      local noisy = cfg.noise > 0 and ae.noise.masking(x, cfg.noise) or x
      local loss = ae.loss.mse(model(noisy), x)
      loss:backward()
      opt:step()
      run:step(loss)
    end
    run:end_epoch { test_loss = test_loss() }
  end

  local labelled = train:select(nil, cfg.labels)
  local x, y = labelled:images(), labelled:labels()
  local xt, yt = test:images(), test:labels()
  local directions, mean = pca(train, cfg.code)
  local codes = ae.no_grad(function()
    return { pca = { ae.matmul(x - mean, directions), ae.matmul(xt - mean, directions) },
             ae = { model:encode(x), model:encode(xt) } }
  end)
  local accuracy = {
    raw = probe(cfg, classes, x, y, xt, yt),
    pca = probe(cfg, classes, codes.pca[1], y, codes.pca[2], yt),
    ae = probe(cfg, classes, codes.ae[1], y, codes.ae[2], yt),
  }
  run:say("test accuracy with %d labels: raw features (%d) %.4f, PCA (%d) %.4f, autoencoder codes (%d) %.4f",
    cfg.labels, d, accuracy.raw, cfg.code, accuracy.pca, cfg.code, accuracy.ae)
  return run:finish {
    dataset = data.name, epochs = cfg.epochs, labels = cfg.labels, code = cfg.code,
    accuracy_raw = accuracy.raw, accuracy_pca = accuracy.pca, accuracy_ae = accuracy.ae,
    test_mse = test_loss(),
  }
end

return sweep.experiment("features_mnist", defaults, experiment)
