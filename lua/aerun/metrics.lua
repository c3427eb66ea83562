-- aerun.metrics: evaluation figures computed from tensors (ae.metrics).

--- Evaluation figures computed from tensors: `ae.metrics`.
-- @module aerun.metrics

--- Each sample's mean squared error over its features.
-- @param a N×D
-- @param b N×D
-- @return a Lua array of N numbers
-- @usage assert(ae.metrics.per_sample_mse(ae.ones(2, 3), ae.zeros(2, 3))[2] == 1)
-- @function per_sample_mse

--- Peak signal-to-noise ratio in dB for images in [0, 1], averaged over the samples.
-- @param a N×D
-- @param b N×D
-- @return a number
-- @usage assert(math.abs(ae.metrics.psnr(ae.full(1, 4, 0.1), ae.zeros(1, 4)) - 20) < 1e-4)
-- @function psnr

--- Area under the ROC curve of scores (higher = more anomalous) against labels (true = anomaly); ties count half.
-- @param scores a list of numbers
-- @param labels a list of booleans
-- @return a number in [0, 1]
-- @raise when a class is empty or the lengths differ
-- @usage assert(ae.metrics.roc_auc({ 0.1, 0.9 }, { false, true }) == 1)
-- @function roc_auc

--- The threshold whose false-positive rate on normal samples is at most fpr, and its true-positive rate.
-- @param scores a list
-- @param labels a list of booleans
-- @param fpr a rate in [0, 1]
-- @return threshold
-- @return true-positive rate
-- @usage local t, tpr = ae.metrics.threshold_at_fpr({ 0.1, 0.2, 0.9 }, { false, false, true }, 0); assert(tpr == 1)
-- @function threshold_at_fpr

--- The q-quantile of a list of numbers: its ⌈q·n⌉-th smallest value (the smallest for q = 0).
-- @param values a list of numbers
-- @param q a number in [0, 1]
-- @return a number (nil for an empty list)
-- @raise when q is outside [0, 1]
-- @usage assert(ae.metrics.quantile({ 5, 1, 4, 2, 3 }, 0.6) == 3)
-- @function quantile

--- The fraction of correct predictions of logits N×K against labels N (0-based classes).
-- @param logits N×K
-- @param labels N
-- @return a number
-- @usage assert(ae.metrics.accuracy(ae.tensor { { 0, 1 }, { 1, 0 } }, ae.tensor { 1, 1 }) == 0.5)
-- @function accuracy

local core = require "aerun.core"

local metrics = {}

-- per-sample mean squared error of two N×D tensors, as a Lua array
function metrics.per_sample_mse(a, b)
  return core.loss.mse(a, b, "none"):mean(2):totable()
end

-- peak signal-to-noise ratio in dB for images in [0, 1], averaged over the
-- samples (each sample's PSNR from its own MSE, as image papers report it)
function metrics.psnr(a, b)
  local errs = metrics.per_sample_mse(a, b)
  local s = 0
  for _, e in ipairs(errs) do s = s + 10 * math.log(1 / math.max(e, 1e-10), 10) end
  return s / #errs
end

-- area under the ROC curve of scores (higher = more anomalous) against
-- labels (true = anomaly): the probability that a random anomaly scores
-- above a random normal sample, ties counting half (Mann-Whitney U)
function metrics.roc_auc(scores, labels)
  local n = #scores
  local idx = {}
  for i = 1, n do idx[i] = i end
  table.sort(idx, function(a, b) return scores[a] < scores[b] end)
  local pos, neg, rank_sum = 0, 0, 0
  local i = 1
  while i <= n do
    local j = i
    while j < n and scores[idx[j + 1]] == scores[idx[i]] do j = j + 1 end
    local mid = (i + j) / 2
    for k = i, j do
      if labels[idx[k]] then
        pos = pos + 1
        rank_sum = rank_sum + mid
      else
        neg = neg + 1
      end
    end
    i = j + 1
  end
  if pos == 0 or neg == 0 then error("roc_auc: needs both normal and anomalous samples") end
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)
end

-- the ceil(q·n)-th smallest of values (a sorted copy; values is kept)
function metrics.quantile(values, q)
  if type(q) ~= "number" or not (q >= 0 and q <= 1) then
    error("quantile: q must be a number in [0, 1], got " .. require("aerun.guard").value(q))
  end
  local sorted = {}
  for i, v in ipairs(values) do sorted[i] = v end
  table.sort(sorted)
  return sorted[math.max(1, math.ceil(#sorted * q))]
end

-- the score threshold whose false-positive rate on normal samples is at
-- most fpr, and the true-positive rate it gives: the normal scores'
-- (1 - fpr)-quantile, above which at most fpr of them lie
function metrics.threshold_at_fpr(scores, labels, fpr)
  if type(fpr) ~= "number" or not (fpr >= 0 and fpr <= 1) then
    error("threshold_at_fpr: fpr must be a number in [0, 1], got " .. require("aerun.guard").value(fpr))
  end
  local normal = {}
  for i, s in ipairs(scores) do if not labels[i] then normal[#normal + 1] = s end end
  local threshold = metrics.quantile(normal, 1 - fpr)
  local tp, p = 0, 0
  for i, s in ipairs(scores) do
    if labels[i] then
      p = p + 1
      if s > threshold then tp = tp + 1 end
    end
  end
  return threshold, p > 0 and tp / p or 0
end

-- fraction of correct predictions: logits N×K against labels (N, 0-based classes)
function metrics.accuracy(logits, labels)
  local l, y = logits:totable(), labels:totable()
  local right = 0
  for i, row in ipairs(l) do
    local best, arg = -math.huge, 0
    for k, v in ipairs(row) do if v > best then best, arg = v, k - 1 end end
    if arg == y[i] then right = right + 1 end
  end
  return right / #l
end

return require("aerun.guard").module("ae.metrics", metrics)
