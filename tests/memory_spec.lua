-- Training must not grow the process: graph buffers are freed after
-- backward and tensor memory is recycled through the pool.
local ae = require "aerun"

local function rss_kib()
  local f = assert(io.open("/proc/self/statm"))
  local _, resident = f:read("n", "n")
  f:close()
  return resident * 4
end

describe("memory", function()
  it("stays flat over 10,000 training steps", function()
    ae.manual_seed(3)
    local nn = ae.nn
    local model = nn.Sequential { nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 64), nn.Sigmoid() }
    local opt = ae.optim.Adam(model:parameters(), { lr = 1e-3 })
    local x = ae.rand(32, 64)
    -- a full collection every 500 steps bounds the Lua heap's garbage, whose
    -- high-water mark depends on what the rest of the suite left alive in
    -- this process; what is measured is the C side (graphs, the pool)
    local function steps(n)
      for i = 1, n do
        opt:zero_grad()
        local loss = ae.loss.mse(model(x), x)
        loss:backward()
        opt:step()
        if i % 500 == 0 then collectgarbage() end
      end
    end
    -- 2,000 steps first, so that the allocators' high-water marks (the
    -- pool's, malloc's arenas, the Lua heap's between collections) are
    -- reached before the measurement, whatever ran before in this process
    steps(2000)
    collectgarbage()
    local rss0, live0 = rss_kib(), ae.memory()
    steps(9500)
    collectgarbage()
    local rss1, live1 = rss_kib(), ae.memory()
    -- live tensor bytes return to where they were; resident memory may
    -- wobble by allocator pages, not by the 9,500 steps' worth of graphs
    assert.is_true(live1 <= live0, string.format("live tensor bytes grew from %d to %d", live0, live1))
    assert.is_true(rss1 - rss0 < 2048, string.format("resident memory grew by %d KiB", rss1 - rss0))
  end)

  it("frees the graph after backward", function()
    local w = ae.randn(100, 100):requires_grad_(true)
    local block = 100 * 100 * 4
    collectgarbage()
    local before = ae.memory()
    local loss = (w:sigmoid() * w:tanh()):exp():sum()
    collectgarbage()
    -- only loss is referenced from Lua; its graph holds the intermediates
    local during = ae.memory()
    assert.is_true(during - before >= 3 * block,
      string.format("graph holds only %d bytes before backward", during - before))
    loss:backward()
    collectgarbage()
    local after = ae.memory()
    -- what remains: w's new .grad and the loss scalar
    assert.is_true(after - before <= block + 64,
      string.format("graph kept %d bytes after backward", after - before))
    assert.has_error(function() loss:backward() end)
  end)
end)
