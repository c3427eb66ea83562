-- aerun.experiment: the small pieces every experiment script shares
-- (ae.experiment): choosing a data set by name, evaluating a loss over a
-- data set, timing, and reporting the final result line and result.json.
local core = require "aerun.core"
local cjson = require "cjson"

local experiment = {}

local datasets = { mnist = "mnist", fashion_mnist = "fashion_mnist", ["fashion-mnist"] = "fashion_mnist" }

-- experiment.dataset("mnist", "train", {limit = 1000})
function experiment.dataset(name, split, opts)
  local key = datasets[name]
  if not key then
    error(string.format("unknown dataset %q (use mnist or fashion_mnist)", tostring(name)), 2)
  end
  local o = { split = split }
  for k, v in pairs(opts or {}) do o[k] = v end
  return require("aerun.data")[key](o)
end

-- the mean over a data set of loss_fn(x, y) -> (loss tensor, count it covers);
-- without a count the loss is taken as a mean over the batch
function experiment.evaluate(dataset, loss_fn, batch_size)
  local total, n = 0, 0
  core.no_grad(function()
    for x, y in dataset:batches(batch_size or 1000) do
      local l, count = loss_fn(x, y)
      local b = x:size(1)
      total = total + l:item() * (count and count or b)
      n = n + (count and count or b)
    end
  end)
  return total / n
end

-- prints "result {json}" and writes dir/result.json (dir defaults to
-- checkpoints/<name>); returns the path written
function experiment.result(name, result, dir)
  dir = dir or ("checkpoints/" .. name)
  local ok, err = core.mkdir_p(dir)
  if not ok then error(err, 2) end
  local text = cjson.encode(result)
  local path = dir .. "/result.json"
  local f = assert(io.open(path .. ".tmp", "w"))
  f:write(text, "\n")
  f:close()
  assert(os.rename(path .. ".tmp", path))
  print("result " .. text)
  return path
end

experiment.time = core.time

return experiment
