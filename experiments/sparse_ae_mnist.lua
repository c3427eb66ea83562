-- A sparse autoencoder: one sigmoid hidden layer whose code is pushed
-- towards sparsity by a penalty, λ·Σ_j KL(ρ‖ρ̂_j) (--penalty=kl) or λ·|h|₁
-- (--penalty=l1), beside the MSE.  Reports how sparse the code became.
--   aerun experiments/sparse_ae_mnist.lua --penalty=l1 --lambda=1e-3
-- The body is the function train(cfg), so that a sweep can run it
-- (experiments/sweep_sparsity.lua loads this file with ae.sweep.load).
local ae = require "aerun"
local sweep = require "aerun.sweep"
local ex = ae.experiment

local defaults = {
  dataset = "mnist", epochs = 10, batch_size = 128, lr = 1e-3, seed = 42, limit = 0,
  hidden = 256, penalty = "kl", lambda = 1e-3, rho = 0.05,
}

local function train(cfg)
  if cfg.penalty ~= "kl" and cfg.penalty ~= "l1" then error("--penalty must be kl or l1") end
  ae.manual_seed(cfg.seed)

  local train_set, test, data = ex.data(cfg)

  local model = ae.models.shallow_ae(train_set:dim(), cfg.hidden, { output = cfg.output })
  local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
  local run = ex.start("sparse_ae_mnist", cfg, { model = model, optimizer = opt, data = data })

  local function penalty(h)
    if cfg.penalty == "kl" then return ae.kl.sparsity(h, cfg.rho) end
    return ae.penalty.l1(h)
  end

  -- test MSE, mean activation, and the fraction of codes below 0.05 (near zero)
  local function evaluate()
    local mse, act, near, n = 0, 0, 0, 0
    ae.no_grad(function()
      for x in test:batches(1000) do
        local h = model:encode(x)
        local b = x:size(1)
        mse = mse + ae.loss.mse(model:decode(h), x):item() * b
        act = act + h:mean():item() * b
        near = near + h:lt(0.05):mean():item() * b
        n = n + b
      end
    end)
    return { test_loss = mse / n, mean_activation = act / n, near_zero = near / n }
  end

  for _ in run:epochs() do
    for x in run:batches(train_set) do
      opt:zero_grad()
      local h = model:encode(x)
      local loss = ae.loss.mse(model:decode(h), x) + penalty(h) * cfg.lambda
      loss:backward()
      opt:step()
      run:step(loss)
    end
    run:end_epoch(evaluate())
  end

  local final = evaluate()
  return run:finish {
    dataset = data.name, epochs = cfg.epochs, penalty = cfg.penalty, lambda = cfg.lambda,
    rho = cfg.rho, test_mse = final.test_loss, mean_activation = final.mean_activation,
    near_zero_fraction = final.near_zero,
  }
end

return sweep.experiment("sparse_ae_mnist", defaults, train)
