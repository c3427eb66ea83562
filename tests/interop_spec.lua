-- interop_spec.lua: aerun checkpoints read by other tools.  h5py must see
-- the documented names, dtypes and shapes, with strings as str
-- (tests/interop/check_h5py.py); PyTorch must load the seed tutorial's MLP
-- autoencoder with load_state_dict(strict=True) and compute aerun's outputs
-- within 1e-5, and a checkpoint written by h5py from a torch model must load
-- into aerun and compute torch's outputs (tests/interop/load_in_torch.py).
-- tools/aerun_torch.py converts one small model of every module type each
-- way (tests/interop/roundtrip.py), a script's β-VAE class
-- (tests/interop/beta_vae.lua) is saved, rebuilt in a fresh aerun process
-- and converted, and the converter's errors name what is wrong.
-- Uses /usr/bin/python3 (Debian's python3-h5py and python3-torch); pending
-- when they are not installed.
local ae = require "aerun"
local nn = ae.nn

local PYTHON = "/usr/bin/python3"

local process = require "tests.helpers.process"
local quote, capture = process.quote, process.capture

local function can_import(modules)
  return os.execute(string.format("%s -c 'import %s' >/dev/null 2>&1", PYTHON, modules)) == true
end

-- runs a python script; returns its output and whether it exited 0
local function python(script, ...)
  local words = {}
  for i, a in ipairs { ... } do words[i] = quote(a) end
  local out = capture(string.format("%s %s %s 2>&1; echo \"rc=$?\"", PYTHON, quote(script), table.concat(words, " ")))
  return out, out:find("\nrc=0$") ~= nil or out == "rc=0"
end

-- the seed tutorial's MLP autoencoder: 784-128-64-32 and the mirror
local function tutorial_ae()
  return nn.AutoEncoder(nn.mlp({ 784, 128, 64, 32 }), nn.mlp({ 32, 64, 128, 784 }, { last = nn.Sigmoid }))
end

describe("interop", function()
  local dir, ckpt, io_path, expected

  setup(function()
    dir = process.tmpdir()
    ae.manual_seed(17)
    local model = tutorial_ae()
    local opt = ae.optim.Adam(model:parameters(), { lr = 1e-3 })
    local x = ae.rand(32, 784)
    for _ = 1, 3 do
      opt:zero_grad()
      ae.loss.mse(model(x), x):backward()
      opt:step()
    end
    ckpt = dir .. "/ae.h5"
    ae.checkpoint.save(ckpt, {
      model = model, optimizer = opt, epoch = 2, step = 3, seed = 17, script = "experiments/ae_mnist.lua",
      metrics = { train_loss = { 0.25, 0.125 }, test_loss = { 0.5, 0.375 } },
      config = { lr = 0.001, epochs = 3, name = "ae ✓", layers = { 784, 128, 64, 32 }, tied = false },
    })
    -- inputs and aerun's outputs, beside the checkpoint
    io_path = dir .. "/io.h5"
    local f = ae.h5.open(io_path, "w")
    local xs = ae.rand(16, 784)
    f:write("x", xs)
    ae.no_grad(function() f:write("y", model(xs)) end)
    f:close()
    -- what check_h5py.py expects; the config is written out by hand
    local params = {}
    for name, p in model:named_parameters() do params[name] = p:shape() end
    local json = require("aerun.checkpoint").json
    local text = json.encode {
      params = params, architecture_type = "AutoEncoder", optimizer = "Adam", epoch = 2, step = 3, seed = 17,
      script = "experiments/ae_mnist.lua", metrics = { train_loss = { 0.25, 0.125 }, test_loss = { 0.5, 0.375 } },
    }
    text = text:sub(1, -2) .. ',"config":{"epochs":3,"layers":[784,128,64,32],"lr":0.001,'
      .. '"name":"ae \\u2713","tied":false}}'
    expected = dir .. "/expected.json"
    local e = assert(io.open(expected, "w"))
    e:write(text)
    e:close()
  end)

  teardown(function() os.execute("rm -rf " .. quote(dir)) end)

  it("h5py reads every documented name, dtype and shape, strings as str", function()
    if not can_import("h5py") then
      pending("python3-h5py not installed")
      return
    end
    local out, ok = python("tests/interop/check_h5py.py", ckpt, expected)
    assert.is_true(ok, out)
    assert.is_truthy(out:find("OK", 1, true), out)
  end)

  it("PyTorch loads the MLP autoencoder strictly and computes the same outputs, and back", function()
    if not can_import("h5py, torch") then
      pending("python3-h5py/python3-torch not installed")
      return
    end
    local export = dir .. "/from_torch.h5"
    local out, ok = python("tests/interop/load_in_torch.py", ckpt, io_path, export)
    assert.is_true(ok, out)
    assert.is_truthy(out:find("OK", 1, true), out)

    -- the checkpoint torch wrote, through aerun: rebuilt from /model alone
    local model, info = ae.checkpoint.model(export)
    assert.are.equal(7, info.epoch)
    assert.are.same({ source = "torch", lr = 0.001 }, info.config)
    local f = ae.h5.open(export)
    local x, y = f:read("interop/x"), f:read("interop/y")
    f:close()
    local diff = ae.no_grad(function() return (model(x) - y):abs():max() end)
    assert.is_true(diff <= 1e-5, "aerun vs torch: max |difference| = " .. diff)
    -- and into a model built by the script
    local m = tutorial_ae()
    ae.checkpoint.load(export, { model = m, restore_rng = false })
    local diff2 = ae.no_grad(function() return (m(x) - y):abs():max() end)
    assert.is_true(diff2 <= 1e-5, "aerun vs torch: max |difference| = " .. diff2)
  end)
end)

-- tools/aerun_torch.py on every module type aerun has, both ways.  One
-- small model per type, saved with a probe (its outputs on a fixed input,
-- in eval mode); tests/interop/roundtrip.py converts each to torch and
-- compares, then writes torch's changed weights back into an aerun
-- checkpoint with torch's outputs, which aerun must reproduce.
--
-- Tolerance 1e-5 absolute, on outputs of magnitude about 1: the two sides
-- run the same float32 arithmetic but sum GEMM and convolution products in
-- different orders (OpenBLAS and aerun's kernels vs ATen's), which moves a
-- sum of n terms by a few ulps times √n; measured differences are 1e-8 to
-- 1e-6, so 1e-5 is tight and still ten times the largest seen.
local TOL = 1e-5

local function seq(list) return nn.Sequential(list) end

local Residual = nn.Module:extend("Residual")
function Residual:init(d) self.fc = nn.Linear(d, d) end
function Residual:forward(x) return x + self.fc(x):tanh() end
nn.register(Residual)

local WideAE = nn.AutoEncoder:extend("WideAE")
function WideAE:init(d, sizes)
  nn.AutoEncoder.init(self, nn.mlp({ d, table.unpack(sizes) }),
    nn.mlp({ sizes[#sizes], d }, { last = nn.Sigmoid }))
end
nn.register(WideAE)

-- name, model maker, probe input maker; every type of nn*.lua appears
local CASES = {
  { "Linear", function() return nn.Linear(5, 3) end, function() return ae.randn(4, 5) end },
  { "Linear without bias", function() return nn.Linear(5, 3, { bias = false }) end, function() return ae.randn(4, 5) end },
  { "ReLU", function() return seq { nn.Linear(5, 6), nn.ReLU() } end, function() return ae.randn(4, 5) end },
  { "Sigmoid", function() return seq { nn.Linear(5, 6), nn.Sigmoid() } end, function() return ae.randn(4, 5) end },
  { "Tanh", function() return seq { nn.Linear(5, 6), nn.Tanh() } end, function() return ae.randn(4, 5) end },
  { "LeakyReLU", function() return seq { nn.Linear(5, 6), nn.LeakyReLU(0.2) } end, function() return ae.randn(4, 5) end },
  { "ELU", function() return seq { nn.Linear(5, 6), nn.ELU(0.7) } end, function() return ae.randn(4, 5) end },
  -- inputs large enough that beta·x crosses the threshold
  { "Softplus", function() return seq { nn.Linear(5, 6), nn.Softplus(2, 1.5) } end, function() return ae.randn(8, 5) * 4 end },
  { "Identity", function() return seq { nn.Identity(), nn.Linear(5, 4) } end, function() return ae.randn(4, 5) end },
  { "Flatten and Reshape", function() return seq { nn.Flatten(), nn.Linear(12, 8), nn.Reshape(2, 4) } end,
    function() return ae.randn(3, 2, 2, 3) end },
  { "Conv2d", function()
    return seq { nn.Conv2d(2, 4, { 3, 5 }, { stride = { 2, 1 }, padding = { 1, 2 } }), nn.ReLU(),
      nn.Conv2d(4, 3, 3, { bias = false }) }
  end, function() return ae.randn(2, 2, 9, 8) end },
  { "ConvTranspose2d", function()
    return seq { nn.ConvTranspose2d(3, 2, 3, { stride = 2, padding = 1, output_padding = 1 }), nn.Tanh(),
      nn.ConvTranspose2d(2, 2, { 2, 3 }, { bias = false }), nn.ReLU() }
  end, function() return ae.randn(2, 3, 5, 4) end },
  { "Conv1d", function()
    return seq { nn.Conv1d(2, 4, 5, { stride = 2, padding = 2 }), nn.ReLU(), nn.Conv1d(4, 3, 3, { bias = false }) }
  end, function() return ae.randn(2, 2, 17) end },
  { "ConvTranspose1d", function()
    return seq { nn.ConvTranspose1d(3, 2, 5, { stride = 2, padding = 2, output_padding = 1 }), nn.Tanh(),
      nn.ConvTranspose1d(2, 2, 4, { bias = false }), nn.ReLU() }
  end, function() return ae.randn(2, 3, 9) end },
  { "MaxPool2d", function()
    return seq { nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.MaxPool2d(3, { stride = 2, padding = 1 }) }
  end, function() return ae.randn(2, 1, 12, 12) end },
  { "Upsample", function() return seq { nn.Conv2d(1, 2, 3, { padding = 1 }), nn.Upsample { scale_factor = 2 },
    nn.Upsample { scale_factor = { 1, 2 } } } end, function() return ae.randn(2, 1, 5, 4) end },
  { "BatchNorm1d", function() return seq { nn.Linear(5, 6), nn.BatchNorm1d(6), nn.ReLU() } end,
    function() return ae.randn(8, 5) end },
  { "BatchNorm2d", function()
    return seq { nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3, { eps = 1e-3, momentum = 0.2 }), nn.ReLU(),
      nn.BatchNorm2d(3, { affine = false }), nn.BatchNorm2d(3, { track_running_stats = false }) }
  end, function() return ae.randn(4, 2, 6, 6) end },
  { "Dropout", function() return seq { nn.Linear(5, 6), nn.Dropout(0.3), nn.Linear(6, 2) } end,
    function() return ae.randn(4, 5) end },
  { "LSTM", function() return nn.LSTM(3, 4, { num_layers = 2, bidirectional = true, batch_first = true }) end,
    function() return ae.randn(2, 5, 3) end },
  { "GRU", function() return nn.GRU(3, 4, { num_layers = 2, bias = false }) end, function() return ae.randn(5, 2, 3) end },
  { "AutoEncoder", function()
    return nn.AutoEncoder(nn.mlp { 6, 4, 2 }, nn.mlp({ 2, 4, 6 }, { last = nn.Sigmoid }))
  end, function() return ae.rand(4, 6) end },
  { "VAE", function()
    return nn.VAE(seq { nn.Linear(6, 5), nn.ReLU() }, nn.Linear(5, 2), nn.Linear(5, 2), seq { nn.Linear(2, 6), nn.Sigmoid() })
  end, function() return ae.rand(4, 6) end },
  { "SeqEncoder and SeqDecoder on LSTMs", function()
    return ae.models.seq_ae { cell = "lstm", steps = 4, width = 3, hidden = 5, code = 2, num_layers = 2 }
  end, function() return ae.rand(3, 12) end },
  { "SeqEncoder and SeqDecoder on GRUs", function()
    return ae.models.seq_ae { cell = "gru", steps = 5, width = 2, hidden = 4, code = 3, output = "linear", flat = false }
  end, function() return ae.randn(3, 5, 2) end },
  -- a script's classes: one that maps to its base, one that needs --class
  { "a script's AutoEncoder subclass", function() return WideAE(6, { 5, 3 }) end, function() return ae.rand(4, 6) end },
  { "a script's class replacing forward", function() return Residual(4) end, function() return ae.randn(3, 4) end,
    { "Residual=torch_classes:Residual" } },
}

local function read_probe(path)
  local f = ae.h5.open(path)
  local out = {}
  for _, name in ipairs(f:list("probe")) do out[name] = f:read("probe/" .. name) end
  f:close()
  return out
end

local function max_diff(a, b)
  local d = (a - b):abs():max()
  return d
end

describe("tools/aerun_torch.py on every module type", function()
  local dir, results, skip

  setup(function()
    if not can_import("h5py, torch") then
      skip = "python3-h5py/python3-torch not installed"
      return
    end
    dir = process.tmpdir()
    local manifest = {}
    for i, c in ipairs(CASES) do
      ae.manual_seed(40 + i)
      local m = c[2]()
      -- training-mode passes, so BatchNorm's running statistics move
      ae.no_grad(function()
        for _ = 1, 3 do m(c[3]() * 1.5 + 0.3) end
      end)
      local ckpt = string.format("%s/case%d.h5", dir, i)
      ae.checkpoint.save(ckpt, { model = m, probe = c[3]() })
      manifest[i] = { name = c[1], checkpoint = ckpt, state_dict = string.format("%s/case%d.pt", dir, i),
        output = string.format("%s/back%d.h5", dir, i), classes = c[4] or {} }
    end
    local json = require("aerun.checkpoint").json
    local mf = dir .. "/manifest.json"
    process.write(mf, json.encode(manifest))
    local out, ok = python("tests/interop/roundtrip.py", mf)
    assert(ok, out)
    results = json.decode(assert(out:match("RESULT (%b{})"), out))
  end)

  teardown(function() if dir then os.execute("rm -rf " .. quote(dir)) end end)

  for i, c in ipairs(CASES) do
    it(c[1] .. ": aerun -> torch, outputs within 1e-5", function()
      if skip then return pending(skip) end
      local r = results[c[1]]
      assert.is_truthy(r, c[1])
      assert.is_true(r.to_torch <= TOL, c[1] .. ": max |torch - aerun| = " .. r.to_torch)
    end)

    it(c[1] .. ": torch -> aerun checkpoint, outputs within 1e-5", function()
      if skip then return pending(skip) end
      local back = string.format("%s/back%d.h5", dir, i)
      local model = ae.checkpoint.model(back)
      local torch_out = read_probe(back)
      local before = read_probe(string.format("%s/case%d.h5", dir, i))
      assert.is_truthy(torch_out.input, "no probe in " .. back)
      local mine = ae.checkpoint.probe(model, torch_out.input)
      local n, changed = 0, false
      for name, t in pairs(mine) do
        n = n + 1
        assert.is_truthy(torch_out[name], name)
        local d = max_diff(t, torch_out[name])
        assert.is_true(d <= TOL, string.format("%s %s: max |aerun - torch| = %g", c[1], name, d))
        -- the weights torch wrote are new: the outputs moved
        changed = changed or max_diff(t, before[name]) > 1e-3
      end
      assert.are.equal(#results[c[1]].probe, n)
      assert.is_true(changed, c[1] .. ": torch's weights did not reach aerun")
      -- and into a model the script builds, with ae.checkpoint.load
      local m = c[2]()
      ae.checkpoint.load(back, { model = m })
      assert.are.equal(0, max_diff(ae.checkpoint.probe(m, torch_out.input)[next(mine)], mine[next(mine)]))
    end)
  end
end)

-- issue 12's done-when: a β-VAE class with conv layers, defined in a
-- script, is saved, rebuilt by ae.checkpoint.model in a fresh process, and
-- converted to PyTorch with outputs equal within 1e-5
describe("a script's β-VAE class", function()
  local dir, ckpt
  local class_file = process.root .. "/tests/interop/beta_vae.lua"

  local function aerun(script, ...)
    local path = dir .. "/script" .. math.random(1e9) .. ".lua"
    process.write(path, script)
    local words = {}
    for i, a in ipairs { ... } do words[i] = quote(a) end
    local out = capture(string.format("%s %s %s 2>&1; echo \"rc=$?\"", quote(process.aerun), quote(path),
      table.concat(words, " ")))
    return out, out:find("\nrc=0$") ~= nil or out == "rc=0"
  end

  setup(function()
    dir = process.tmpdir()
    ckpt = dir .. "/beta_vae.h5"
    local out, ok = aerun([[
      local ae = require "aerun"
      local BetaVAE = dofile(arg[1])
      ae.manual_seed(5)
      local m = BetaVAE(6, 4.0)
      local opt = ae.optim.Adam(m:parameters(), { lr = 1e-3 })
      local x = ae.rand(8, 1, 16, 16)
      for _ = 1, 3 do
        opt:zero_grad()
        m:loss(x):backward()
        opt:step()
      end
      ae.checkpoint.save(arg[2], { model = m, optimizer = opt, probe = ae.rand(4, 1, 16, 16) })
    ]], class_file, ckpt)
    assert(ok, out)
  end)

  teardown(function() os.execute("rm -rf " .. quote(dir)) end)

  it("is rebuilt by ae.checkpoint.model in a fresh process and computes the saved outputs", function()
    if not process.exists(process.aerun) then return pending("no aerun executable") end
    local out, ok = aerun([[
      local ae = require "aerun"
      dofile(arg[1])   -- defines BetaVAE and calls nn.register(BetaVAE)
      local model = ae.checkpoint.model(arg[2])
      local f = ae.h5.open(arg[2])
      local x = f:read("probe/input")
      local worst = 0.0
      for name, t in pairs(ae.checkpoint.probe(model, x)) do
        local d = (t - f:read("probe/" .. name)):abs():max()
        worst = math.max(worst, d)
      end
      f:close()
      print(model._type, model.beta, model.encoder[1]._config.out_channels, "diff=" .. worst)
      model:loss(ae.rand(2, 1, 16, 16)):backward()   -- and trains on
    ]], class_file, ckpt)
    assert.is_true(ok, out)
    -- the same ops on the same weights in the same build: bitwise equal
    assert.is_truthy(out:find("BetaVAE\t4.0\t8\tdiff=0.0", 1, true), out)
  end)

  it("without the class, says which script to load and what to register", function()
    if not process.exists(process.aerun) then return pending("no aerun executable") end
    local out, ok = aerun([[
      local ae = require "aerun"
      ae.checkpoint.model(arg[1])
    ]], ckpt)
    assert.is_false(ok)
    assert.is_truthy(out:find("checkpoint " .. ckpt .. " holds a model of class 'BetaVAE', defined by a script (saved by ",
      1, true), out)
    assert.is_truthy(out:find("load the script that defines it and call nn.register(BetaVAE) before ae.checkpoint.model",
      1, true), out)
  end)

  it("converts to PyTorch with outputs within 1e-5, and the saved torch module loads", function()
    if not can_import("h5py, torch") then return pending("python3-h5py/python3-torch not installed") end
    local pt = dir .. "/beta_vae.pt"
    local out, ok = python("tools/aerun_torch.py", "to-torch", ckpt, "--check", "-o", pt)
    assert.is_true(ok, out)
    local worst = tonumber(out:match("OK: max |torch %- aerun| = (%S+) <="))
    assert.is_truthy(worst, out)
    assert.is_true(worst <= TOL, out)
    for _, name in ipairs { "mu", "logvar", "decoded" } do
      assert.is_truthy(out:find("probe " .. name .. ":", 1, true), out)
    end
    local loaded = capture(string.format("cd tools && %s -c %s 2>&1", PYTHON, quote(
      "import torch, aerun_torch; m = torch.load('" .. pt .. "'); print(type(m).__name__, m.encode(torch.rand(2, 1, 16, 16))[0].shape)")))
    assert.is_truthy(loaded:find("VAE torch.Size([2, 6])", 1, true), loaded)
  end)
end)

describe("tools/aerun_torch.py's errors", function()
  local dir

  setup(function() dir = process.tmpdir() end)
  teardown(function() os.execute("rm -rf " .. quote(dir)) end)

  it("a class replacing forward needs --class, and the message says so", function()
    if not can_import("h5py, torch") then return pending("python3-h5py/python3-torch not installed") end
    local p = dir .. "/residual.h5"
    ae.checkpoint.save(p, { model = Residual(3), probe = ae.randn(2, 3) })
    local out, ok = python("tools/aerun_torch.py", "to-torch", p, "--check")
    assert.is_false(ok)
    assert.is_truthy(out:find("the class Residual replaces forward of Module, which only its script knows: write the "
      .. "torch class and pass --class Residual=module:Class (it is called with the arguments the aerun module was "
      .. "made with: [3])", 1, true), out)
  end)

  it("--check fails, with status 1, when aerun's saved outputs differ by more than --tol", function()
    if not can_import("h5py, torch") then return pending("python3-h5py/python3-torch not installed") end
    local p = dir .. "/moved.h5"
    ae.checkpoint.save(p, { model = nn.Linear(3, 2), probe = ae.randn(4, 3) })
    local out, ok = python("tools/aerun_torch.py", "to-torch", p, "--check")
    assert.is_true(ok, out)
    -- one saved output moved by 2e-5: just outside the tolerance
    assert.are.equal("", capture(string.format("%s -c %s 2>&1", PYTHON, quote(
      "import h5py; f = h5py.File('" .. p .. "', 'r+'); f['probe/output'][1, 1] += 2e-5; f.close()"))))
    out, ok = python("tools/aerun_torch.py", "to-torch", p, "--check")
    assert.is_false(ok)
    assert.is_truthy(out:find("FAILED: 2e-05 > 1e-05", 1, true) and out:find("rc=1", 1, true), out)
  end)

  it("from-torch names every key that is missing, unexpected or of another shape", function()
    if not can_import("h5py, torch") then return pending("python3-h5py/python3-torch not installed") end
    local like = dir .. "/like.h5"
    ae.checkpoint.save(like, { model = nn.Sequential { nn.Linear(4, 3), nn.BatchNorm1d(3) } })
    local sd = dir .. "/bad.pt"
    local out = capture(string.format("%s -c %s 2>&1", PYTHON, quote(
      "import torch; from torch import nn; m = nn.Sequential(nn.Linear(4, 2), nn.BatchNorm1d(2)); sd = m.state_dict(); "
      .. "del sd['1.bias']; sd['2.weight'] = torch.zeros(1); torch.save(sd, '" .. sd .. "')")))
    assert.are.equal("", out)
    local msg, ok = python("tools/aerun_torch.py", "from-torch", sd, "--like", like, "-o", dir .. "/out.h5")
    assert.is_false(ok)
    for _, part in ipairs {
      "the state_dict does not match " .. like, "0.weight: state_dict has (2, 4), " .. like .. " has (3, 4)",
      "1.running_mean: state_dict has (2,)", "2.weight: not in " .. like, "missing in the state_dict: 1.bias",
    } do
      assert.is_truthy(msg:find(part, 1, true), msg)
    end
    assert.is_false(process.exists(dir .. "/out.h5"))
  end)
end)
