-- aerun.recipes: whole training procedures that several experiments share
-- (ae.recipes).  Each is the plain loop a script would write, kept here
-- once so that the scripts differ only in what really differs.

--- Whole training procedures several experiments share: `ae.recipes`.
-- @module aerun.recipes

--- Trains a reconstruction autoencoder with MSE and Adam on the run's data (a run: directory, checkpoints, result).
-- @param name the experiment's name
-- @param cfg a config with dataset, epochs, batch_size, lr, limit (and the run options)
-- @param model a module, or a function(train) that builds one for the training set's samples
-- @return the result table
-- @usage local cfg = ae.experiment.config({ dataset = "mnist", epochs = 1, batch_size = 32, lr = 1e-3, limit = 64, seed = 1 }, { "--quiet" })
-- local r = ae.recipes.autoencoder("doc_recipe", cfg, ae.models.mlp_ae { 784, 16 }); assert(r.test_mse and r.run_dir)
-- @function autoencoder

local core = require "aerun.core"
local loss = require "aerun.loss"
local optim = require "aerun.optim"
local experiment = require "aerun.experiment"

local recipes = {}

-- trains a reconstruction autoencoder with MSE and Adam on the run's data
-- (experiment.data: --dataset, or --data with --output and --standardize);
-- model is a module, or a function(train) that builds one for the training
-- set's samples.  cfg needs dataset, epochs, batch_size, lr, limit (0 for
-- all); returns the result table
function recipes.autoencoder(name, cfg, model)
  local ex = experiment
  local train, test, data = ex.data(cfg)
  if type(model) == "function" then model = model(train) end
  local opt = optim.Adam(model:parameters(), { lr = cfg.lr })
  local run = ex.start(name, cfg, { model = model, optimizer = opt, data = data })

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

  core.no_grad(function()
    local x = test:batch(1, math.min(32, #test))
    ex.save_samples(run.dir .. "/reconstructions.png", { x, (model(x)) }, test, { nrow = 16 })
  end)
  return run:finish {
    dataset = data.name, epochs = cfg.epochs, test_mse = test_loss(),
    train_mse = run.metrics.train_loss[cfg.epochs],
    samples_per_second = run.metrics.samples_per_second[cfg.epochs],
    parameters = model:num_parameters(),
  }
end

return require("aerun.guard").module("ae.recipes", recipes)
