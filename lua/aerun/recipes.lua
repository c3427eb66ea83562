-- aerun.recipes: whole training procedures that several experiments share
-- (ae.recipes).  Each is the plain loop a script would write, kept here
-- once so that the scripts differ only in what really differs.
local core = require "aerun.core"
local loss = require "aerun.loss"
local optim = require "aerun.optim"
local experiment = require "aerun.experiment"

local recipes = {}

-- trains a reconstruction autoencoder with MSE and Adam on cfg.dataset;
-- cfg needs dataset, epochs, batch_size, lr, limit (0 for all); returns the result table
function recipes.autoencoder(name, cfg, model)
  local ex = experiment
  local limit = cfg.limit > 0 and cfg.limit or nil
  local train = ex.dataset(cfg.dataset, "train", { limit = limit })
  local test = ex.dataset(cfg.dataset, "test", { limit = limit })
  local opt = optim.Adam(model:parameters(), { lr = cfg.lr })
  local run = ex.start(name, cfg, { model = model, optimizer = opt })

  local function test_loss()
    return ex.evaluate(test, function(x) return loss.mse(model(x), x) end)
  end

  for _ in run:epochs() do
    for x in run:batches(train) do
      opt:zero_grad()
      local l = loss.mse(model(x), x)
      l:backward()
      opt:step()
      run:step(l)
    end
    run:end_epoch { test_loss = test_loss() }
  end

  local pictures = require "aerun.image"
  core.no_grad(function()
    local x = test:batch(1, 32)
    pictures.save_grid(run.dir .. "/reconstructions.png", core.cat({ x, model(x) }, 1), { nrow = 16 })
  end)
  return run:finish {
    dataset = cfg.dataset, epochs = cfg.epochs, test_mse = test_loss(),
    train_mse = run.metrics.train_loss[cfg.epochs],
    samples_per_second = run.metrics.samples_per_second[cfg.epochs],
    parameters = model:num_parameters(),
  }
end

return require("aerun.guard").module("ae.recipes", recipes)
