-- 08_own_data.lua: data of your own, from a file.  It writes a small CSV
-- (--n rows of 16 numeric features around three centres, and a `class`
-- column 0, 1 or 2) so that it runs anywhere, then does what you would do
-- with yours: read it (ae.data.csv), hold out a test split, standardise
-- with the training split's mean and std, train an autoencoder with a
-- linear output, and train a classifier on its codes with
-- ae.loss.cross_entropy (labels 0..K-1), predicting with argmax.
--   build/aerun examples/08_own_data.lua --epochs=20
--   build/aerun examples/08_own_data.lua --epochs=2 --limit=1000   (CI's budget)
-- Every other source (HDF5, NumPy, image folders) gives the same data set
-- object: README.md "Your own data" and docs/data.md.
-- docs/guide.md, "Your own data".
local ae = require "aerun"
local nn = ae.nn

local cfg = ae.config { epochs = 20, batch_size = 64, lr = 1e-3, seed = 1, limit = 0, n = 3000 }
ae.manual_seed(cfg.seed)
local n = cfg.limit > 0 and math.min(cfg.n, cfg.limit) or cfg.n

-- the file: three clusters in 16 dimensions, on a scale far from [0, 1]
local dir = "checkpoints/own_data_example"
assert(ae.mkdir_p(dir))
local path = dir .. "/points.csv"
do
  local centres = ae.randn(3, 16) * 4
  local x = ae.randn(n, 16) * 2 + 50
  local f = assert(io.open(path, "w"))
  local names = {}
  for j = 1, 16 do names[j] = "f" .. j end
  f:write(table.concat(names, ","), ",class\n")
  for i, row in ipairs(x:totable()) do
    local class = (i - 1) % 3
    local c = centres[class + 1]:totable()
    for j = 1, 16 do row[j] = string.format("%.5f", row[j] + c[j]) end
    f:write(table.concat(row, ","), ",", class, "\n")
  end
  f:close()
end

local all = ae.data.csv { path, label = "class" }          -- the label column by name
local train, test = table.unpack(ae.data.split(all, { 0.8, 0.2 }, cfg.seed))
local st = ae.data.standardizer(train)                      -- fitted on the training split only
train, test = train:standardize(st), test:standardize(st)
print(string.format("%s: %d training and %d test samples of %d features", path, #train, #test, train:dim()))

-- real-valued data: no sigmoid at the output (last = false), MSE
local d = train:dim()
local model = nn.AutoEncoder(nn.mlp { d, 32, 4 }, nn.mlp({ 4, 32, d }, { last = false }))
local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })
local function test_mse() return ae.experiment.evaluate(test, function(x) return ae.loss.mse(model(x), x) end) end

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
  print(string.format("epoch %d  test_mse %.4f", epoch, last))
end

-- a linear classifier on the 4 codes: cross-entropy of logits N×K against labels 0..K-1
local codes = ae.no_grad(function() return model:encode(train:images()) end)
local test_codes = ae.no_grad(function() return model:encode(test:images()) end)
local classifier = nn.Linear(4, 3)
local copt = ae.optim.Adam(classifier:parameters(), { lr = 1e-2 })
for _ = 1, 200 do
  copt:zero_grad()
  local loss = ae.loss.cross_entropy(classifier(codes), train:labels())
  loss:backward()
  copt:step()
end
local accuracy, confidence = ae.no_grad(function()
  local logits = classifier(test_codes)
  local predicted = logits:argmax(2) - 1                     -- argmax counts from 1, classes from 0
  local probability = logits:log_softmax():exp():max(2)      -- the winning class's probability
  return (predicted - test:labels()):eq(0):mean():item(), probability:mean():item()
end)
print(string.format("classifier on the codes: test accuracy %.3f, mean confidence %.3f", accuracy, confidence))
ae.experiment.result("own_data_example", { first_test_mse = first, test_mse = last, accuracy = accuracy })
