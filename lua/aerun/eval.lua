-- aerun.eval: `aerun eval CHECKPOINT --data=SPEC` scores a saved model on
-- any data without the script that trained it.
--
--   aerun eval checkpoints/ae_mnist/default/checkpoint.h5 --data=new.h5:x,y --normal=0
--
--   --data=SPEC        the data (ae.data.load: file.h5[:x[,y]], x.npy[:y.npy],
--                      file.npz[:x[,y]], file.csv[:label], a folder of images)
--   --dataset=NAME     or mnist / fashion_mnist, with --split=test|train
--   --normal=LABEL     the samples of other labels are the anomalies: prints
--                      the ROC AUC and the threshold at --fpr (0.05)
--   --scores=FILE      writes sample,label,score lines (CSV)
--   --require=FILE     a Lua file to run first: the script that defines and
--                      nn.register()s a model class of its own
--   --batch-size=N     (1000), --limit=N (0: all)
--
-- The model is rebuilt by ae.checkpoint.model and put in eval mode (a
-- script's class that replaces no method is rebuilt as its built-in base
-- when --require does not load it).  Data
-- the run standardised is standardised with the checkpoint's mean and std
-- (/data).  A sample's score is its reconstruction error: the mean squared
-- error over its features, for a VAE of the reconstruction of the mean code
-- (no sampling, so a score does not change between calls).  The summary
-- goes to stdout, ending with "result {json}" as experiments do.

--- Scoring a saved model on any data: `ae.eval`, behind the `aerun eval` command.
-- A sample's score is its reconstruction error (the mean squared error over
-- its features; for a VAE, of the reconstruction of the mean code).
-- @module aerun.eval

--- Every sample's score and label, as Lua arrays (labels nil without them).
-- @param model a module (in eval mode)
-- @param ds a Dataset
-- @param[opt=1000] batch_size
-- @return scores
-- @return labels
-- @usage local scores = ae.eval.score(nn.Identity(), ae.data.tensor(ae.rand(5, 3))); assert(#scores == 5 and scores[1] == 0)
-- @function score

--- A batch's reconstruction (the mean code's, for a model whose encode returns mu and logvar).
-- @param model
-- @param x a batch
-- @return a tensor
-- @usage assert(ae.eval.reconstruct(ae.models.mlp_ae { 4, 2 }, ae.rand(3, 4)):size(2) == 4)
-- @function reconstruct

--- The `aerun eval` command on its words.
-- Its options: `--data`, `--dataset`, `--split`, `--normal`, `--fpr`, `--scores`, `--require`, `--batch-size`, `--limit`.
-- @param argv a list of words, the checkpoint first
-- @return the result table
-- @raise on a missing checkpoint or data
-- @usage ae.checkpoint.save("m.h5", { model = ae.models.mlp_ae { 784, 8 } })
-- ae.eval.main { "m.h5", "--dataset=mnist", "--split=test", "--limit=20" }
-- @function main

local core = require "aerun.core"
local metrics = require "aerun.metrics"

local M = {}

local function fail(msg) error(msg, 0) end

local defaults = {
  data = "", dataset = "", split = "test", normal = "", scores = "", ["require"] = "",
  batch_size = 1000, limit = 0, fpr = 0.05, args = {},
}

-- the reconstruction of x: a VAE (encode gives mu and logvar) decodes its
-- mean; any other model is called and its first result taken
local function reconstruct(model, x)
  if type(model.encode) == "function" and type(model.decode) == "function" then
    local z, logvar = model:encode(x)
    if logvar ~= nil then return model:decode(z) end
  end
  return (model(x))
end

local function load_data(cfg, info)
  local data = require "aerun.data"
  local ds
  if cfg.data ~= "" then
    if cfg.dataset ~= "" then fail("eval: give --data or --dataset, not both") end
    ds = data.load(cfg.data)
  else
    local name = cfg.dataset ~= "" and cfg.dataset or (info.config or {}).dataset
    if not name or name == "" then fail("eval: which data? give --data=SPEC (or --dataset=mnist)") end
    if cfg.split ~= "train" and cfg.split ~= "test" then fail("eval: --split must be train or test") end
    ds = require("aerun.experiment").dataset(name, cfg.split)
  end
  if cfg.limit > 0 then ds = ds:select(nil, cfg.limit) end
  local saved = info.data
  if saved and saved.mean then
    ds = ds:standardize(data.standardizer { mean = saved.mean, std = saved.std })
  end
  return ds
end

-- how the model takes a batch: flat (N×D, as the experiments' models do),
-- as N×(sample shape), or N×1×H×W for H×W samples; the first that the
-- model accepts on x, and its reconstruction of x, else the error of the
-- flat one
local function input_shape(model, x, ds)
  local n, s = x:size(1), ds:sample_shape()
  local shapes = { { n, x:size(2) } }
  if #s > 1 then
    shapes[2] = { n, table.unpack(s) }
    if #s == 2 then shapes[3] = { n, 1, s[1], s[2] } end
  end
  local first
  for _, shape in ipairs(shapes) do
    local ok, recon = pcall(reconstruct, model, x:reshape(table.unpack(shape)))
    if ok then return shape, recon end
    first = first or recon
  end
  error(first, 0)
end

-- every sample's score and label (labels nil without them), as Lua arrays:
-- eval.score(model, ds [, batch_size]) for scripts too
local function score(model, ds, batch_size)
  batch_size = batch_size or 1000
  local scores, labels = {}, ds:has_labels() and {} or nil
  local shape
  core.no_grad(function()
    for x, y in ds:batches(batch_size) do
      local recon
      if shape then
        shape[1] = x:size(1)
        recon = reconstruct(model, x:reshape(table.unpack(shape)))
      else
        shape, recon = input_shape(model, x, ds)
      end
      if recon:numel() ~= x:numel() then
        fail(string.format("eval: the model turns samples of %s into %s; a score needs a reconstruction "
          .. "of the input's size", table.concat(x:shape(), "×"), table.concat(recon:shape(), "×")))
      end
      local errs = metrics.per_sample_mse(recon:reshape(x:shape()), x)
      local ys = y and y:totable()
      for i, e in ipairs(errs) do
        scores[#scores + 1] = e
        if labels then labels[#labels + 1] = math.tointeger(ys[i]) or ys[i] end
      end
    end
  end)
  return scores, labels
end

M.score = score
M.reconstruct = reconstruct

local function write_scores(path, scores, labels)
  local lines = { "sample,label,score" }
  for i, s in ipairs(scores) do
    lines[#lines + 1] = string.format("%d,%s,%.9g", i, labels and tostring(labels[i]) or "", s)
  end
  require("aerun.experiment").write_file(path, table.concat(lines, "\n") .. "\n")
end

local function mean(list)
  local s = 0
  for _, v in ipairs(list) do s = s + v end
  return s / #list
end

-- aerun eval's body; argv: the words after "eval"
function M.main(argv)
  local config = require "aerun.config"
  local cfg = config.parse(defaults, argv)
  if #cfg.args ~= 1 then fail("usage: aerun eval CHECKPOINT.h5 --data=SPEC [--normal=LABEL] (aerun eval --help)") end
  if cfg.batch_size < 1 then fail("eval: --batch-size must be at least 1") end
  if not (cfg.fpr > 0 and cfg.fpr < 1) then fail("eval: --fpr must be between 0 and 1") end
  if cfg["require"] ~= "" then dofile(cfg["require"]) end
  local path = cfg.args[1]
  local ck = require "aerun.checkpoint"
  local ok, model, info = pcall(ck.model, path)
  if not ok then
    -- a script's class that replaces none of forward, encode and decode
    -- computes what its built-in base does: score it as that
    if not tostring(model):find("as_base", 1, true) then error(model, 0) end
    model, info = ck.model(path, { as_base = true })
    print("(the model's class is not loaded; it replaces no method, so it is scored as its built-in base)")
  end
  model:eval()
  local ds = load_data(cfg, info)
  local saved = info.data or {}
  print(string.format("checkpoint %s: %s, %d parameters, %d epochs on %s%s", path,
    model._type or "model", model:num_parameters(), info.epoch or 0, saved.source or "?",
    saved.mean and " (standardised)" or ""))
  print(tostring(ds))
  local scores, labels = score(model, ds, cfg.batch_size)
  local result = { checkpoint = path, data = cfg.data ~= "" and cfg.data or ds:name(), samples = #scores,
    mean_score = mean(scores) }
  print(string.format("mean reconstruction MSE %.6g over %d samples", result.mean_score, #scores))
  if labels then
    local by = {}
    for i, l in ipairs(labels) do
      by[l] = by[l] or {}
      table.insert(by[l], scores[i])
    end
    local keys = {}
    for l in pairs(by) do keys[#keys + 1] = l end
    table.sort(keys)
    result.mean_score_by_label = {}
    for _, l in ipairs(keys) do
      result.mean_score_by_label[tostring(l)] = mean(by[l])
      print(string.format("  label %s: %d samples, mean score %.6g", tostring(l), #by[l], mean(by[l])))
    end
  end
  if cfg.normal ~= "" then
    if not labels then fail("eval: --normal needs labelled data; " .. ds:name() .. " has no labels") end
    local normal = tonumber(cfg.normal)
    local anomalous, seen = {}, false
    for i, l in ipairs(labels) do
      anomalous[i] = l ~= normal
      seen = seen or l == normal
    end
    if not seen then fail("eval: no sample has the normal label " .. cfg.normal) end
    result.normal = normal
    result.auc = metrics.roc_auc(scores, anomalous)
    result.threshold, result.tpr = metrics.threshold_at_fpr(scores, anomalous, cfg.fpr)
    result.fpr = cfg.fpr
    print(string.format("normal label %s: ROC AUC %.4f; the threshold %.6g has FPR <= %g and TPR %.4f",
      cfg.normal, result.auc, result.threshold, cfg.fpr, result.tpr))
  end
  if cfg.scores ~= "" then
    write_scores(cfg.scores, scores, labels)
    result.scores = cfg.scores
  end
  print("result " .. require("aerun.json").encode(result))
  return result
end

return M
