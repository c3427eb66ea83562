-- interop_spec.lua: aerun checkpoints read by other tools.  h5py must see
-- the documented names, dtypes and shapes, with strings as str
-- (tests/interop/check_h5py.py); PyTorch must load the seed tutorial's MLP
-- autoencoder with load_state_dict(strict=True) and compute aerun's outputs
-- within 1e-5, and a checkpoint written by h5py from a torch model must load
-- into aerun and compute torch's outputs (tests/interop/load_in_torch.py).
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
