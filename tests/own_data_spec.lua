-- Every shipped experiment on data a user brings (--data), the output and
-- standardisation options, `aerun eval`, and experiments/own_data.lua.
-- The data are made here: an HDF5 file of 64 real values a sample, far
-- outside [0, 1] (with h5py, float32, gzip-chunked, when /usr/bin/python3
-- has it; otherwise with ae.h5), normal samples near a 4-dimensional
-- subspace and 5% anomalies (label 1) that are not; and a .npy of 3×12×12
-- images for the convolutional model.
local json = require "aerun.json"
local ae = require "aerun"
local process = require "tests.helpers.process"
local npy = require "tests.helpers.npy"
local root, aerun, sh, q = process.root, process.aerun, process.sh, process.quote

local dir = process.tmpdir()
local h5_path = dir .. "/sensors.h5"
local npy_path = dir .. "/images.npy"
local python = "/usr/bin/python3"
local has_h5py = select(2, sh(python .. " -c 'import h5py, numpy'"))

local function result_of(out)
  local line = out:match("\nresult (%b{})") or out:match("^result (%b{})")
  assert(line, "no result line in:\n" .. out)
  return json.decode(line)
end

-- runs aerun with words in the repository's root; the output and success
local function run(words, env)
  return sh("cd " .. q(root) .. " && " .. (env or "") .. q(aerun) .. " " .. words)
end

local function must_run(words, env)
  local out, ok = run(words, env)
  assert(ok, words .. " failed:\n" .. out)
  return out
end

setup(function()
  if has_h5py then
    process.write(dir .. "/make.py", [[
import sys, h5py, numpy as np
rng = np.random.default_rng(0)
n, d = 2000, 64
x = rng.normal(size=(n, 4)) @ rng.normal(size=(4, d)) * 3 + 10 + rng.normal(size=(n, d)) * 0.1
y = (np.arange(n) % 20 == 19).astype(np.int64)
x[y == 1] = rng.normal(size=(int(y.sum()), d)) * 3 + 10
with h5py.File(sys.argv[1], "w") as f:
    f.create_dataset("x", data=x.astype(np.float32), chunks=(128, d), compression="gzip")
    f.create_dataset("y", data=y)
]])
    local out, ok = sh(python .. " " .. q(dir .. "/make.py") .. " " .. q(h5_path))
    assert(ok, out)
  else
    ae.manual_seed(0)
    local n, d = 2000, 64
    local x = ae.matmul(ae.randn(n, 4), ae.randn(4, d)) * 3 + 10 + ae.randn(n, d) * 0.1
    local labels = {}
    for i = 1, n do labels[i] = i % 20 == 0 and 1 or 0 end
    local y = ae.tensor(labels)
    x = x * (1 - y:reshape(n, 1)) + (ae.randn(n, d) * 3 + 10) * y:reshape(n, 1)
    local f <close> = ae.h5.open(h5_path, "w")
    f:write("x", x)
    f:write("y", y)
  end
  -- 200 images of 3×12×12 in [0, 1], as a little-endian float32 .npy
  ae.manual_seed(1)
  process.write(npy_path, npy.float32(ae.rand(200, 3, 12, 12)))
end)

teardown(function() sh("rm -rf " .. q(dir)) end)

local data = "--data=" .. h5_path .. ":x,y"

describe("an experiment on the user's data", function()
  it("trains ae_mnist on a real-valued h5 file with --output=linear, and aerun eval scores anomalies", function()
    if not has_h5py then print("(h5py absent: the file is written by ae.h5, not gzip-chunked)") end
    local out = must_run("experiments/ae_mnist.lua " .. data ..
      " --output=linear --standardize --epochs=8 --batch_size=64 --quiet --out=" .. dir .. "/ae")
    local r = result_of(out)
    -- standardised data have variance 1 a feature; normal samples live in 4
    -- dimensions, which a 32-wide code keeps: the error must fall far below 1
    assert.is_true(r.test_mse < 0.3, "test_mse " .. r.test_mse)
    assert.equal(h5_path .. ":x,y", r.dataset)
    local ev = must_run("eval " .. dir .. "/ae/checkpoint.h5 " .. data .. " --normal=0 --scores=" .. dir .. "/s.csv")
    local e = result_of(ev)
    assert.equal(2000, e.samples)
    -- anomalies are full-rank, normal samples are not: they score higher
    assert.is_true(e.mean_score_by_label["1"] > 3 * e.mean_score_by_label["0"], ev)
    assert.is_true(e.auc > 0.95, ev)
    local csv = process.read_all(dir .. "/s.csv")
    local lines = select(2, csv:gsub("\n", ""))
    assert.equal(2001, lines)
    assert.truthy(csv:find("^sample,label,score\n1,0,"))
  end)

  it("keeps the standardisation in the checkpoint and eval applies it", function()
    must_run("experiments/ae_mnist.lua " .. data ..
      " --output=linear --standardize --epochs=1 --quiet --out=" .. dir .. "/st")
    local info = ae.checkpoint.info(dir .. "/st/checkpoint.h5")
    assert.equal("linear", info.data.output)
    assert.equal(h5_path .. ":x,y", info.data.source)
    -- the training split's per-feature mean and (population) std
    local all = ae.data.load(h5_path .. ":x,y")
    local train = ae.data.split(all, { 0.9, 0.1 }, 42)[1]
    local x = train:images()
    local mean = x:mean(1)
    local std = ((x - mean) ^ 2):mean(1):sqrt()
    local m, s = info.data.mean:totable(), info.data.std:totable()
    local em, es = mean:totable(), std:totable()
    for i = 1, 64 do
      -- float64 accumulation in C against float32 reductions here: a few ulps of 10
      assert.is_true(math.abs(m[i] - em[i]) < 1e-4, "mean " .. i)
      assert.is_true(math.abs(s[i] - es[i]) < 1e-4 * es[i] + 1e-5, "std " .. i)
    end
  end)

  it("refuses --output=sigmoid on data outside [0, 1], saying what to do", function()
    local out, ok = run("experiments/ae_mnist.lua " .. data .. " --epochs=1 --quiet --out=" .. dir .. "/sig")
    assert.is_falsy(ok)
    assert.truthy(out:find("--output=sigmoid needs data in [0, 1]", 1, true), out)
    assert.truthy(out:find("--output=linear", 1, true), out)
  end)

  it("save_samples draws images or a heat map and refuses an option it does not know", function()
    local images = ae.data.tensor(ae.rand(4, 1, 5, 6))
    ae.experiment.save_samples(dir .. "/grid.png", { ae.rand(4, 30), ae.rand(4, 30) }, images, { nrow = 4 })
    assert.same({ 1, 2 * (5 + 2) + 2, 4 * (6 + 2) + 2 }, ae.image.load(dir .. "/grid.png"):shape())
    local vectors = ae.data.tensor(ae.randn(4, 7))
    ae.experiment.save_samples(dir .. "/heat.png", { ae.randn(4, 7), ae.randn(4, 7) }, vectors)
    assert.same({ 1, 8, 7 }, ae.image.load(dir .. "/heat.png"):shape())
    local ok, err = pcall(ae.experiment.save_samples, dir .. "/x.png", { ae.rand(4, 30) }, images, { nrows = 2 })
    assert.is_false(ok)
    assert.truthy(err:find("unknown option 'nrows'", 1, true), err)
  end)

  it("refuses an unknown --output", function()
    local out, ok = run("experiments/ae_mnist.lua " .. data .. " --output=tanh --epochs=1 --quiet")
    assert.is_falsy(ok)
    assert.truthy(out:find("--output must be sigmoid", 1, true), out)
  end)

  it("says that the conv model needs images when given vectors", function()
    local out, ok = run("experiments/conv_ae_mnist.lua " .. data .. " --output=linear --epochs=1 --quiet")
    assert.is_falsy(ok)
    assert.truthy(out:find("conv_ae_mnist needs images", 1, true), out)
    assert.truthy(out:find("vectors of 64 values", 1, true), out)
  end)

  it("trains the conv model on 3×12×12 images from a .npy", function()
    local out = must_run("experiments/conv_ae_mnist.lua --data=" .. npy_path ..
      " --epochs=1 --quiet --out=" .. dir .. "/conv")
    local r = result_of(out)
    assert.equal(npy_path, r.dataset)
    local model = ae.checkpoint.model(dir .. "/conv/checkpoint.h5")
    local y = ae.no_grad(function() return model(ae.rand(2, 3 * 12 * 12)) end)
    assert.same({ 2, 432 }, y:shape())
    assert.truthy(process.exists(dir .. "/conv/reconstructions.png"))
  end)

  it("trains the conv model on a folder of RGB pictures of an odd size", function()
    local pics = dir .. "/pics"
    ae.manual_seed(2)
    for _, class in ipairs { "a", "b" } do
      assert(ae.mkdir_p(pics .. "/" .. class))
      for i = 1, 12 do ae.image.save(pics .. "/" .. class .. "/" .. i .. ".png", ae.rand(3, 10, 9)) end
    end
    local out = must_run("experiments/conv_ae_mnist.lua --data=" .. pics .. " --epochs=1 --quiet --out=" .. dir .. "/pics_run")
    assert.equal(pics, result_of(out).dataset)
    local model = ae.checkpoint.model(dir .. "/pics_run/checkpoint.h5")
    local y = ae.no_grad(function() return model(ae.rand(2, 3 * 10 * 9)) end)
    assert.same({ 2, 270 }, y:shape())
  end)

  local others = {
    { "deep_ae_mnist", "" }, { "vae_mnist", "" }, { "dae_mnist", "" }, { "cae_mnist", "" },
    { "sparse_ae_mnist", "" }, { "latent_mnist", "" }, { "features_mnist", " --labels=100 --code=8" },
    { "anomaly_mnist", " --normal=0" },
  }
  for _, case in ipairs(others) do
    it(case[1] .. " runs on it with --output=linear --standardize", function()
      local out = must_run("experiments/" .. case[1] .. ".lua " .. data .. case[2] ..
        " --output=linear --standardize --epochs=1 --quiet --out=" .. dir .. "/" .. case[1])
      local r = result_of(out)
      assert.equal(h5_path .. ":x,y", r.dataset)
      if case[1] == "anomaly_mnist" then assert.is_true(r.auc > 0.9, out) end
    end)
  end

  it("resumes a run on the user's data exactly", function()
    local base = " " .. data .. " --output=linear --standardize --batch_size=64 --quiet"
    -- single-threaded, so that the GEMMs are deterministic
    local one = "AERUN_THREADS=1 OPENBLAS_NUM_THREADS=1 "
    local straight = result_of(must_run("experiments/ae_mnist.lua" .. base ..
      " --epochs=2 --out=" .. dir .. "/r1", one))
    must_run("experiments/ae_mnist.lua" .. base .. " --epochs=1 --out=" .. dir .. "/r2", one)
    local resumed = result_of(must_run("experiments/ae_mnist.lua" .. base ..
      " --epochs=2 --out=" .. dir .. "/r2 --resume", one))
    assert.equal(straight.test_mse, resumed.test_mse)
  end)
end)

describe("aerun eval on a script's model", function()
  it("scores a conv β-VAE a script defined, with its script or as its built-in base", function()
    -- 1×16×16 images in [0, 1] and the β-VAE of tests/interop/beta_vae.lua
    local images = dir .. "/faces.npy"
    ae.manual_seed(3)
    process.write(images, npy.float32(ae.rand(40, 1, 16, 16)))
    local script = root .. "/tests/interop/beta_vae.lua"
    local ck = dir .. "/beta.h5"
    process.write(dir .. "/save_beta.lua", string.format([[
      local ae = require "aerun"
      local BetaVAE = dofile(%q)
      ae.manual_seed(1)
      local m = BetaVAE(4, 2.0)
      ae.checkpoint.save(%q, { model = m })
      m:eval()
      local x = ae.data.npy(%q):images():reshape(40, 1, 16, 16)
      local mu = m:encode(x)
      local err = ae.loss.mse(m:decode(mu), x, "none"):reshape(40, -1):mean(2):totable()
      print("first", string.format("%%.9g", err[1]))
    ]], script, ck, images))
    local saved = must_run(q(dir .. "/save_beta.lua"))
    local first = saved:match("first\t(%S+)")
    local with = must_run("eval " .. q(ck) .. " --data=" .. q(images) .. " --require=" .. q(script) ..
      " --scores=" .. q(dir .. "/beta.csv"))
    assert.equal(40, result_of(with).samples)
    -- the score of sample 1 is the reconstruction error of its mean code
    assert.equal(first, process.read_all(dir .. "/beta.csv"):match("\n1,,(%S+)\n"))
    local without = must_run("eval " .. q(ck) .. " --data=" .. q(images))
    assert.truthy(without:find("scored as its built-in base", 1, true), without)
    assert.equal(result_of(with).mean_score, result_of(without).mean_score)
  end)
end)

describe("experiments/own_data.lua", function()
  it("writes its example, trains, draws reconstructions and scores anomalies", function()
    local work = dir .. "/own"
    assert(ae.mkdir_p(work))
    local out, ok = sh("cd " .. q(work) .. " && " .. q(aerun) .. " " .. q(root .. "/experiments/own_data.lua") ..
      " --epochs=10 --quiet")
    assert(ok, out)
    local r = result_of(out)
    assert.equal("checkpoints/own_data/example.h5:x,y", r.data)
    assert.is_true(r.auc > 0.95, out)
    assert.truthy(process.exists(work .. "/" .. r.run_dir .. "/reconstructions.png"))
  end)
end)
