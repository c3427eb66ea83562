-- The applications of the tutorials (the classification ops they rest on
-- are in classify_spec.lua): each application script on a small budget
-- with its metric in a sane range: anomaly detection's ROC AUC above
-- chance, a probe on codes above the majority class, the latent space
-- files, the VAE's pictures.
local ae = require "aerun"
local json = require "aerun.json"

local process = require "tests.helpers.process"
local root, aerun, sh, exists = process.root, process.aerun, process.sh, process.exists

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

