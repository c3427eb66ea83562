-- 100,000 training steps of the VAE keep resident memory flat: within 5%
-- of its level after a warm-up of 10,000 steps, sampled every 5,000.
-- make test-long runs it (about a minute; make test has the 10,000-step
-- version in tests/memory_spec.lua).  The model is experiments/vae_mnist.lua's
-- VAE (784-h-20, BCE + KL, Adam, MNIST batches) with h = 64 and batch 16
-- instead of 400 and 128, so that a step costs about 0.4 ms: the same ops,
-- graph and allocation pattern per step, on smaller buffers.
local root = os.getenv("PWD")
local aerun = os.getenv("AERUN_BIN") or "build/aerun"
if aerun:sub(1, 1) ~= "/" then aerun = root .. "/" .. aerun end
local STEPS = tonumber(os.getenv("AERUN_MEMORY_STEPS") or "100000")
local EVERY, WARMUP = 5000, 10000

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

describe("memory over a long run", function()
  it("stays flat over " .. STEPS .. " VAE training steps (resident memory within 5% after warm-up)", function()
    local cmd = string.format("cd %s && AERUN_DATA=%s %s tests/long/memory_steps.lua %d %d 64 16 2>&1",
      quote(root), quote(os.getenv("AERUN_DATA") or root .. "/data"), quote(aerun), STEPS, EVERY)
    local p = io.popen(cmd)
    local out = p:read("a")
    assert.is_true(p:close(), out)
    local samples, base, lo, hi, live_hi, live_base = {}, nil, math.huge, 0, 0, nil
    for step, rss, live in out:gmatch("rss (%d+) (%d+) (%d+)") do
      step, rss, live = tonumber(step), tonumber(rss), tonumber(live)
      samples[#samples + 1] = string.format("%d:%d", step, rss)
      if step == WARMUP then base, live_base = rss, live end
      if step >= WARMUP then
        lo, hi = math.min(lo, rss), math.max(hi, rss)
        live_hi = math.max(live_hi, live)
      end
    end
    assert.is_not_nil(base, "no sample at the end of the warm-up:\n" .. out)
    assert.are.equal(STEPS // EVERY, #samples, out)
    print(string.format("\nmemory: %d steps (%s); resident %d KiB after warm-up, then %d..%d KiB (%.2f%%); "
      .. "live tensor bytes at most %d", STEPS, out:match("done %d+ steps in ([%d.]+ s)") or "?", base, lo, hi,
      100 * (hi - lo) / base, live_hi))
    assert.is_true(hi <= base * 1.05 and lo >= base * 0.95,
      string.format("resident memory left the 5%% band around %d KiB: %s", base, table.concat(samples, " ")))
    -- tensors alive between steps: a few batches' worth, never a growth
    assert.is_true(live_hi <= 4 * live_base + (1 << 20), "live tensor bytes grew to " .. live_hi)
  end)
end)
