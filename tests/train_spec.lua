-- A short end-to-end run of the first experiment on the real data: the
-- loss must fall, the result line must parse, result.json must be written.
local cjson = require "cjson"

local root = os.getenv("PWD")
local aerun = os.getenv("AERUN_BIN") or "build/aerun"
if aerun:sub(1, 1) ~= "/" then aerun = root .. "/" .. aerun end

local function run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok, code
end

describe("experiments/ae_mnist.lua", function()
  it("trains: the test loss falls and the result is reported", function()
    local dir = os.tmpname()
    os.remove(dir)
    -- run elsewhere, so the data is found through AERUN_DATA like a user's would be
    local out, ok = run(string.format(
      "mkdir -p %q && cd %q && AERUN_DATA=%q %q %q/experiments/ae_mnist.lua --epochs=2 --limit=3000",
      dir, dir, root .. "/data", aerun, root))
    assert.is_true(ok, out)
    local losses = {}
    for l in out:gmatch("test_loss ([%d%.e%-]+)") do losses[#losses + 1] = tonumber(l) end
    assert.are.equal(2, #losses, out)
    local json = out:match("\nresult (%b{})")
    assert.is_truthy(json, out)
    local r = cjson.decode(json)
    assert.is_true(r.test_mse < losses[1], "test loss did not fall: " .. out)
    -- a fresh net's reconstruction MSE on MNIST is about 0.2; trained, well under 0.1
    assert.is_true(r.test_mse < 0.1, out)
    local f = assert(io.open(dir .. "/checkpoints/ae_mnist/result.json"))
    local csv = assert(io.open(dir .. "/checkpoints/ae_mnist/limit=3000/metrics.csv")):read("a")
    assert.are.equal("epoch,step,seconds,train_loss,test_loss,eval_seconds,samples_per_second", csv:match("^[^\n]+"))
    assert.are.equal(3, select(2, csv:gsub("\n", "")))
    local saved = cjson.decode(f:read("a"))
    f:close()
    assert.are.equal(r.test_mse, saved.test_mse)
    os.execute("rm -rf " .. dir)
  end)
end)
