-- aerun.nn_norm: the layers whose behaviour depends on model:train() and
-- model:eval(): nn.BatchNorm1d, nn.BatchNorm2d and nn.Dropout, with
-- PyTorch's arguments, defaults and state names.
--
-- BatchNorm keeps running_mean and running_var as buffers (saved with the
-- model, never trained).  PyTorch's third buffer, num_batches_tracked, is
-- left out: it only matters for momentum = None (a cumulative average),
-- which these layers do not offer; momentum is always a number.

--- @module aerun.nn

--- Batch normalisation over N×C (or N×C×L): running statistics are buffers.
-- @param num_features C
-- @param[opt] opts `{eps = 1e-5, momentum = 0.1, affine = true, track_running_stats = true}`
-- @return a module
-- @raise on a wrong input rank or channel count (PyTorch's wording), unknown options
-- @usage local bn = nn.BatchNorm1d(3); assert(math.abs(bn(ae.randn(8, 3)):mean():item()) < 1e-5)
-- @function BatchNorm1d

--- Batch normalisation over N×C×H×W.
-- @param num_features C
-- @param[opt] opts as BatchNorm1d
-- @return a module
-- @usage assert(nn.BatchNorm2d(2)(ae.rand(2, 2, 3, 3)):dim() == 4)
-- @function BatchNorm2d

--- Dropout: zeroes with probability p in training, scales the rest by 1/(1-p); identity in eval.
-- @param[opt=0.5] p in [0, 1]
-- @return a module
-- @raise when p is outside [0, 1]
-- @usage local d = nn.Dropout(0.5):eval(); assert(d(ae.ones(4)):sum():item() == 4)
-- @function Dropout

local core = require "aerun.core"

local function shape_str(x)
  return table.concat(x:shape(), "×")
end

local check_options = require("aerun.guard").options

local function number_option(name, opts, key, default)
  local v = opts[key]
  if v == nil then return default end
  if type(v) ~= "number" or v ~= v then
    error(string.format("%s: %s must be a number, got %s", name, key, require("aerun.guard").value(v)))
  end
  return v
end

local BN_OPTIONS = { eps = true, momentum = true, affine = true, track_running_stats = true }

return function(nn)
  -- one class per accepted input rank; `ranks` maps ndim -> true and
  -- `expected` is PyTorch's wording for them
  local function batch_norm(name, ranks, expected)
    local cls = nn._class(name, nn.Module)
    nn[name] = cls

    function cls:init(num_features, opts)
      num_features = nn._check_count(name, num_features, "num_features")
      opts = check_options(name, opts, BN_OPTIONS)
      local eps = number_option(name, opts, "eps", 1e-5)
      if eps < 0 then error(name .. ": eps must not be negative, got " .. eps) end
      local momentum = number_option(name, opts, "momentum", 0.1)
      local affine = opts.affine ~= false
      local track = opts.track_running_stats ~= false
      nn._configure(self, { "num_features", "eps", "momentum", "affine", "track_running_stats" }, {
        num_features = num_features, eps = eps, momentum = momentum, affine = affine,
        track_running_stats = track,
      })
      if affine then
        self.weight = core.ones(num_features):requires_grad_(true)
        self.bias = core.zeros(num_features):requires_grad_(true)
      end
      if track then
        self:register_buffer("running_mean", core.zeros(num_features))
        self:register_buffer("running_var", core.ones(num_features))
      end
    end

    function cls:forward(x)
      local cfg = self._config
      if not ranks[x:dim()] then
        error(string.format("%s: expected %s input (got %dD input of shape %s)", name, expected,
          x:dim(), shape_str(x)))
      end
      if x:size(2) ~= cfg.num_features then
        error(string.format("%s(%d): input %s has %d channels (dimension 2), expected %d", name,
          cfg.num_features, shape_str(x), x:size(2), cfg.num_features))
      end
      -- in evaluation without running statistics the batch's own are used,
      -- as in PyTorch; the C op does that when they are nil
      return core.batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var,
        self.training, cfg.momentum, cfg.eps)
    end

    -- nn.build's constructor from the architecture's config
    cls.from_config = function(c)
      return cls(c.num_features, { eps = c.eps, momentum = c.momentum, affine = c.affine,
        track_running_stats = c.track_running_stats })
    end

    return cls
  end

  batch_norm("BatchNorm1d", { [2] = true, [3] = true }, "2D or 3D")
  batch_norm("BatchNorm2d", { [4] = true }, "4D")

  local Dropout = nn._class("Dropout", nn.Module)
  nn.Dropout = Dropout

  -- nn.Dropout(0.2) or nn.Dropout{p = 0.2}
  function Dropout:init(p)
    if type(p) == "table" then p = check_options("Dropout", p, { p = true }).p end
    if p == nil then p = 0.5 end
    if type(p) ~= "number" or not (p >= 0 and p <= 1) then
      error("Dropout: dropout probability has to be between 0 and 1, but got " .. require("aerun.guard").value(p))
    end
    nn._configure(self, { "p" }, { p = p })
  end

  function Dropout:forward(x)
    return core.dropout(x, self._config.p, self.training)
  end

  Dropout.from_config = function(c) return Dropout(c.p) end
end
