-- tests/long/memory_steps.lua: trains a VAE for many steps and prints the
-- resident memory (from /proc/self/statm) every `every` steps, as
-- "rss <step> <KiB> <live tensor bytes>" lines, for tests/memory_long_spec.lua.
--   aerun tests/long/memory_steps.lua <steps> <every> <hidden> <batch>
-- The model is the VAE of experiments/vae_mnist.lua (784-h-20, ReLU,
-- sigmoid output, BCE summed + KL, Adam) with a smaller hidden layer and
-- batch so that 100,000 steps take seconds; the data pipeline is the
-- real one (MNIST batches gathered in C, reshuffled every epoch).
local ae = require "aerun"
local steps, every = tonumber(arg[1] or 100000), tonumber(arg[2] or 5000)
local hidden, batch = tonumber(arg[3] or 64), tonumber(arg[4] or 16)

ae.manual_seed(1)
local train = ae.data.mnist { split = "train", limit = 4096 }
local model = ae.models.vae(784, hidden, 20)
local opt = ae.optim.Adam(model:parameters(), { lr = 1e-3 })

local function rss_kib()
  local f = assert(io.open("/proc/self/statm"))
  local _, resident = f:read("n", "n")
  f:close()
  return resident * 4
end

local step, t0 = 0, ae.time()
while step < steps do
  for x in train:batches(batch, { shuffle = true, drop_last = true }) do
    opt:zero_grad()
    local recon, mu, logvar = model(x)
    local loss = ae.loss.bce(recon, x, "sum") + ae.kl.normal(mu, logvar, "sum")
    loss:backward()
    opt:step()
    step = step + 1
    if step % every == 0 then
      print(string.format("rss %d %d %d %.1f", step, rss_kib(), ae.memory(), loss:item() / batch))
      io.stdout:flush()
    end
    if step >= steps then break end
  end
end
print(string.format("done %d steps in %.1f s", steps, ae.time() - t0))
