-- 01_plain_loop.lua: a whole experiment as a plain Lua loop, with nothing
-- but tensors, modules, a loss and an optimizer: an MLP autoencoder on
-- MNIST, its test MSE after every epoch, and a picture of reconstructions.
--   build/aerun examples/01_plain_loop.lua --epochs=5
--   build/aerun examples/01_plain_loop.lua --epochs=2 --limit=1000   (CI's budget)
-- Writes plain_loop.png and checkpoints/plain_loop/result.json; the last
-- line printed is `result {json}`.  docs/guide.md, "A plain loop".
local ae = require "aerun"
local nn = ae.nn

local cfg = ae.config { epochs = 5, batch_size = 128, lr = 1e-3, seed = 1, limit = 0 }
ae.manual_seed(cfg.seed)

local limit = cfg.limit > 0 and cfg.limit or nil   -- the first n samples, for quick runs
local train = ae.data.mnist { split = "train", limit = limit }
local test = ae.data.mnist { split = "test", limit = limit }

-- nn.mlp: a Linear between consecutive sizes, ReLU after each, `last` after the final one
local model = nn.AutoEncoder(nn.mlp { 784, 128, 32 }, nn.mlp({ 32, 128, 784 }, { last = nn.Sigmoid }))
print(model)
print(model:num_parameters() .. " parameters")
local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })

-- the test MSE a batch at a time and without a graph, so that evaluating
-- costs no more memory than a training step
local function test_mse()
  local sum = 0
  ae.no_grad(function()
    for x in test:batches(1000) do sum = sum + ae.loss.mse(model(x), x):item() * x:size(1) end
  end)
  return sum / #test
end

local first, last
for epoch = 1, cfg.epochs do
  for x in train:batches(cfg.batch_size, { shuffle = true }) do
    opt:zero_grad()
    local loss = ae.loss.mse(model(x), x)
    loss:backward()
    opt:step()
  end
  last = test_mse()
  first = first or last
  print(string.format("epoch %d  test_mse %.5f", epoch, last))
end

-- eight test digits (ds:batch(start, count)) above their reconstructions (ae.cat joins rows)
ae.no_grad(function()
  local x = test:batch(1, 8)
  ae.image.save_grid("plain_loop.png", ae.cat({ x, model(x) }, 1), { nrow = 8 })
end)
ae.experiment.result("plain_loop", { first_test_mse = first, test_mse = last, epochs = cfg.epochs })
