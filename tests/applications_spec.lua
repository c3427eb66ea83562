-- The applications of the tutorials: the classification ops they rest on
-- (log_softmax, cross_entropy, argmax, eigh; runtime/ops_classify.c), and
-- each application script on a small budget with its metric in a sane
-- range: anomaly detection's ROC AUC above chance, a probe on codes above
-- the majority class, the latent space files, the VAE's pictures.
local ae = require "aerun"
local gc = require "tests.helpers.gradcheck"
local json = require "aerun.json"

local process = require "tests.helpers.process"
local root, aerun, sh, exists = process.root, process.aerun, process.sh, process.exists

local function close(a, b, tol)
  local fa, fb = gc.flatten(a:totable()), gc.flatten(b:totable())
  assert.are.equal(#fa, #fb)
  for i = 1, #fa do
    assert(math.abs(fa[i] - fb[i]) <= tol * (1 + math.abs(fb[i])),
      string.format("element %d: %.8g vs %.8g", i, fa[i], fb[i]))
  end
end

describe("classification ops", function()
  before_each(function()
    ae.manual_seed(11)
    math.randomseed(11)
  end)

  it("log_softmax is x - log Σ exp(x) along the last dimension, even for large x", function()
    local x = ae.randn(5, 7) * 3
    close(x:log_softmax(), x - x:exp():sum(2, true):log(), 1e-5)
    local x3 = ae.randn(2, 3, 4)
    close(ae.log_softmax(x3), x3 - x3:exp():sum(3, true):log(), 1e-5)
    -- exp(1000) overflows; the max taken out first keeps it exact
    local big = ae.tensor { { 1000, 1001, 1002 } }
    close(big:log_softmax(), ae.tensor { { 1, 2, 3 } }:log_softmax(), 1e-6)
    local rows = big:log_softmax():exp():sum(2)
    close(rows, ae.ones(1), 1e-6)
  end)

  it("cross_entropy is the mean of -log_softmax at the label, as F.cross_entropy", function()
    local z = ae.randn(6, 4) * 2
    local y = ae.tensor { 0, 3, 1, 1, 2, 0 }
    local ls = z:log_softmax():totable()
    local per, sum = {}, 0
    for i, label in ipairs(y:totable()) do
      per[i] = -ls[i][math.tointeger(label) + 1]
      sum = sum + per[i]
    end
    close(ae.cross_entropy(z, y, "none"), ae.tensor(per), 1e-5)
    assert.is_near(sum, ae.cross_entropy(z, y, "sum"):item(), 1e-4)
    assert.is_near(sum / 6, ae.cross_entropy(z, y):item(), 1e-5)
    -- shifting every logit changes nothing, even by 1000
    local shifted = ae.cross_entropy(ae.tensor { { 1000, 1001, 1002 } }, ae.tensor { 1 }):item()
    assert.is_near(ae.cross_entropy(ae.tensor { { 0, 1, 2 } }, ae.tensor { 1 }):item(), shifted, 1e-6)
    -- uniform logits: log K
    assert.is_near(math.log(10), ae.cross_entropy(ae.zeros(3, 10), ae.tensor { 0, 5, 9 }):item(), 1e-6)
  end)

  it("gradients match finite differences", function()
    local y = ae.tensor { 2, 0, 1, 2 }
    for _, r in ipairs { "mean", "sum", "none" } do
      assert(gc.check(function(z) return ae.cross_entropy(z, y, r) end, { gc.uniform({ 4, 3 }, -2, 2) }))
    end
    assert(gc.check(function(x) return x:log_softmax() end, { gc.uniform({ 3, 5 }, -2, 2) }))
    assert(gc.check(function(x) return x:log_softmax() end, { gc.uniform({ 2, 2, 3 }, -2, 2) }))
  end)

  it("a softmax classifier trained with cross_entropy fits separable data", function()
    local x = ae.tensor { { 2, 0 }, { 0, 2 }, { -2, 0 }, { 0, -2 }, { 2.5, 0.5 }, { 0.5, 2.5 }, { -2.5, -0.5 }, { -0.5, -2.5 } }
    local y = ae.tensor { 0, 1, 2, 3, 0, 1, 2, 3 }
    local lin = ae.nn.Linear(2, 4)
    local opt = ae.optim.Adam(lin:parameters(), { lr = 0.1 })
    for _ = 1, 200 do
      opt:zero_grad()
      local l = ae.cross_entropy(lin(x), y)
      l:backward()
      opt:step()
    end
    assert.are.equal(1, ae.metrics.accuracy(lin(x), y))
    assert.are.same(y:totable(), (lin(x):argmax() - 1):totable())
  end)

  it("refuses labels that are not class ids, and bad shapes", function()
    local z = ae.zeros(3, 4)
    local cases = {
      { ae.tensor { 0, 4, 1 }, "label 4 of row 2 is not a class id 0..3" },
      { ae.tensor { 0, -1, 1 }, "label %-1 of row 2" },
      { ae.tensor { 0, 1.5, 1 }, "label 1.5 of row 2" },
      { ae.tensor { 0, 1 }, "labels 2 must be one class id per row of logits 3×4" },
      { ae.zeros(3, 1), "labels 3×1 must be one class id per row" },
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(ae.cross_entropy, z, c[1])
      assert.is_false(ok)
      assert.matches(c[2], err)
    end
    local ok, err = pcall(ae.cross_entropy, ae.zeros(4), ae.zeros(4))
    assert.is_false(ok)
    assert.matches("logits must be N×K", err)
    ok, err = pcall(ae.cross_entropy, z, ae.zeros(3), "avg")
    assert.is_false(ok)
    assert.matches("invalid option 'avg'", err)
  end)

  it("argmax gives 1-based positions, the first on ties, along any dimension", function()
    local x = ae.tensor { { 1, 5, 5 }, { 7, 0, 7 } }
    assert.are.same({ 2, 1 }, x:argmax():totable())
    assert.are.same({ 2, 1 }, x:argmax(2):totable())
    assert.are.same({ 2, 1, 2 }, x:argmax(1):totable())
    assert.are.same({ 2, 1, 2 }, ae.argmax(x, -2):totable())
    local t = ae.randn(3, 4, 5)
    local pos = t:argmax(2):totable()
    local v = t:totable()
    for i = 1, 3 do
      for k = 1, 5 do
        local best, arg = -math.huge, 0
        for j = 1, 4 do if v[i][j][k] > best then best, arg = v[i][j][k], j end end
        assert.are.equal(arg, pos[i][k])
      end
    end
    local nan = ae.tensor { 1, 0 / 0, 3 }
    assert.are.equal(2, nan:argmax():item())
    assert.has_error(function() ae.argmax(ae.zeros(2, 0), 2) end)
    assert.has_error(function() x:argmax(3) end)
  end)

  it("eigh: A·V = V·diag(w), VᵀV = I, ascending, as torch.linalg.eigh", function()
    for _, n in ipairs { 1, 2, 5, 40 } do
      local b = ae.randn(n, n)
      local a = b + b:t()
      local w, v = ae.eigh(a)
      assert.are.same({ n }, w:shape())
      assert.are.same({ n, n }, v:shape())
      close(ae.matmul(a, v), v * w:reshape(1, n), 1e-4)
      close(ae.matmul(v:t(), v), ae.eye and ae.eye(n) or (function()
        local rows = {}
        for i = 1, n do
          rows[i] = {}
          for j = 1, n do rows[i][j] = i == j and 1 or 0 end
        end
        return ae.tensor(rows)
      end)(), 1e-5)
      local wl = w:totable()
      for i = 2, n do assert.is_true(wl[i - 1] <= wl[i]) end
    end
    -- a known spectrum: [[2, 1], [1, 2]] has 1 and 3
    local w, v = ae.eigh(ae.tensor { { 2, 1 }, { 1, 2 } })
    close(w, ae.tensor { 1, 3 }, 1e-6)
    local vt = v:totable()
    assert.is_near(math.abs(vt[1][2]), math.sqrt(0.5), 1e-6)
    -- the lower triangle is what counts
    close(ae.eigh(ae.tensor { { 2, 99 }, { 1, 2 } }), ae.tensor { 1, 3 }, 1e-6)
  end)

  it("eigh refuses what it cannot decompose", function()
    local cases = {
      { ae.zeros(2, 3), "eigh: expects a square n×n matrix, got 2×3" },
      { ae.zeros(4), "eigh: expects a square n×n matrix, got 4" },
      { ae.tensor { { 1, 0 }, { 0 / 0, 1 } }, "eigh: element 3 of the 2×2 matrix is %-?nan" },
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(ae.eigh, c[1])
      assert.is_false(ok)
      assert.matches(c[2], err)
    end
    local ok, err = pcall(ae.eigh, ae.ones(2, 2):requires_grad_(true))
    assert.is_false(ok)
    assert.matches("eigh: has no gradient", err)
    assert.is_true((ae.no_grad(function() return ae.eigh(ae.ones(2, 2):requires_grad_(true)) end)) ~= nil)
  end)
end)

describe("application scripts", function()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  local env = string.format("cd %q && export OPENBLAS_NUM_THREADS=1 AERUN_DATA=%q;", dir, root .. "/data")

  -- runs an experiment; returns its result table (the last result line)
  local function run(script, args)
    local out, ok = sh(string.format("%s %q %q/experiments/%s %s --quiet", env, aerun, root, script, args))
    assert.is_true(ok, out)
    local last
    for line in out:gmatch("result (%b{})") do last = line end
    assert.is_not_nil(last, out)
    return json.decode(last), out
  end

  it("anomaly_mnist: one normal digit, AUC above chance, the threshold at the FPR", function()
    local r = run("anomaly_mnist.lua", "--normal=3 --epochs=1 --limit=1000 --fpr=0.1")
    assert.are.equal(3, r.normal)
    assert.is_true(r.auc > 0.5 and r.auc <= 1, "AUC " .. r.auc)
    assert.are.equal(1000, r.test_samples)
    assert.are.equal(1000, r.train_samples)
    assert.are.equal(0.1, r.fpr)
    assert.is_true(r.tpr > 0.1 and r.tpr <= 1, "TPR " .. r.tpr)   -- better than chance at 10% FPR
    assert.is_true(r.threshold > 0)
    for _, f in ipairs { "result.json", "metrics.csv", "loss.png", "config.json" } do
      assert.is_true(exists(dir .. "/" .. r.run_dir .. "/" .. f), f)
    end
  end)

  it("anomaly_mnist --normal=all: ten runs, each AUC and their mean", function()
    local r = run("anomaly_mnist.lua", "--normal=all --epochs=1 --limit=300 --no-checkpoint")
    assert.are.equal(10, #r.auc)
    local sum = 0
    for _, a in ipairs(r.auc) do
      assert.is_true(a > 0 and a <= 1)
      sum = sum + a
    end
    assert.is_near(sum / 10, r.mean_auc, 1e-12)
    assert.is_true(r.mean_auc > 0.5, "mean AUC " .. r.mean_auc)
    -- the ten runs are a sweep: a directory each and a summary
    local f = assert(io.open(dir .. "/checkpoints/anomaly_mnist/sweep.csv"))
    local n = 0
    for _ in f:lines() do n = n + 1 end
    f:close()
    assert.are.equal(11, n)
  end)

  it("features_mnist: probes on codes, pixels and PCA all beat the majority class", function()
    local r = run("features_mnist.lua", "--epochs=2 --limit=3000 --labels=500 --code=32 --probe_epochs=100 --no-checkpoint")
    -- the trivial classifier: always the most frequent digit of the test images
    local most = 0
    for _, n in pairs(ae.data.mnist { split = "test", limit = 3000, root = root .. "/data/mnist" }:counts()) do
      most = math.max(most, n)
    end
    local trivial = most / 3000
    for _, k in ipairs { "accuracy_ae", "accuracy_raw", "accuracy_pca" } do
      assert.is_true(r[k] > trivial + 0.1 and r[k] <= 1, k .. " " .. r[k] .. ", trivial " .. trivial)
    end
    assert.are.equal(500, r.labels)
    assert.are.equal(32, r.code)
  end)

  it("latent_mnist --model=vae: codes in HDF5, a scatter plot and the decoded plane", function()
    local r = run("latent_mnist.lua", "--model=vae --epochs=1 --limit=500 --grid=8 --no-checkpoint")
    local run_dir = dir .. "/" .. r.run_dir
    local f = ae.h5.open(run_dir .. "/latent.h5")
    local codes, labels = f:read("codes"), f:read("labels")
    f:close()
    assert.are.same({ 500, 2 }, codes:shape())
    assert.are.same({ 500 }, labels:shape())
    assert.is_true(labels:max() <= 9 and labels:min() >= 0)
    local scatter = ae.image.load(run_dir .. "/latent.png")
    assert.are.equal(3, scatter:size(1))
    -- an 8 × 8 grid of 28-pixel digits without padding
    local manifold = ae.image.load(run_dir .. "/manifold.png")
    assert.are.equal(8 * 28, manifold:size(2))
    assert.are.equal(8 * 28, manifold:size(3))
    assert.are.equal(2, #r.code_std)
  end)

  it("latent_mnist --model=ae: codes and scatter, no decoded plane", function()
    local r = run("latent_mnist.lua", "--model=ae --epochs=1 --limit=500 --no-checkpoint")
    local run_dir = dir .. "/" .. r.run_dir
    assert.is_true(exists(run_dir .. "/latent.h5"))
    assert.is_true(exists(run_dir .. "/latent.png"))
    assert.is_false(exists(run_dir .. "/manifold.png"))
  end)

  it("vae_mnist draws samples from the prior and an interpolation", function()
    local r = run("vae_mnist.lua", "--epochs=1 --limit=500 --no-checkpoint")
    local run_dir = dir .. "/" .. r.run_dir
    local samples = ae.image.load(run_dir .. "/samples.png")
    assert.are.same({ 8 * 30 + 2, 8 * 30 + 2 }, { samples:size(2), samples:size(3) })
    local interpolation = ae.image.load(run_dir .. "/interpolation.png")
    assert.are.same({ 30 + 2, 10 * 30 + 2 }, { interpolation:size(2), interpolation:size(3) })
    -- the two ends are different digits, so the frames change along the way
    assert.is_true(interpolation:max() > 0.5)
  end)

  it("cleans up", function()
    sh("rm -rf " .. dir)
  end)
end)
