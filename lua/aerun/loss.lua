-- aerun.loss: reconstruction losses (ae.loss).  Each takes a reduction,
-- "mean" (the default, as in PyTorch), "sum" or "none".
local core = require "aerun.core"

local loss = {}

-- mean squared error
function loss.mse(input, target, reduction)
  return core.mse_loss(input, target, reduction)
end

-- binary cross-entropy on probabilities in [0, 1]; logs are clamped at
-- -100 as in PyTorch, so saturated outputs give finite losses
function loss.bce(p, target, reduction)
  return core.bce_loss(p, target, reduction)
end

-- binary cross-entropy on logits, stable for any logit
function loss.bce_logits(logits, target, reduction)
  return core.bce_logits_loss(logits, target, reduction)
end

-- cross-entropy of logits N×K against class ids 0..K-1 (a float tensor N)
function loss.cross_entropy(logits, labels, reduction)
  return core.cross_entropy(logits, labels, reduction)
end

return require("aerun.guard").module("ae.loss", loss)
