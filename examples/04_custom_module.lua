-- 04_custom_module.lua: modules of your own.  An encoder written from
-- nn.Module (init makes the layers, forward uses them), a VAE class derived
-- from the built-in nn.VAE, nn.register so that a checkpoint can rebuild
-- it, and samples from the prior (model:sample).  The decoder ends without
-- an activation (nn.mlp's last = false): it outputs logits, trained with
-- ae.loss.bce_logits, which is stable for any logit.
--   build/aerun examples/04_custom_module.lua --epochs=5
--   build/aerun examples/04_custom_module.lua --epochs=2 --limit=1000   (CI's budget)
-- Writes checkpoints/custom_module/vae.h5 and samples.png.  docs/modules.md
-- has the rest (what arguments a checkpoint records, PyTorch).
-- docs/guide.md, "Custom modules".
local ae = require "aerun"
local nn = ae.nn

local cfg = ae.config { epochs = 5, batch_size = 128, lr = 1e-3, seed = 1, limit = 0, latent = 16 }
ae.manual_seed(cfg.seed)
local limit = cfg.limit > 0 and cfg.limit or nil
local train = ae.data.mnist { split = "train", limit = limit }
local test = ae.data.mnist { split = "test", limit = limit }

-- a module from scratch: fields that hold modules or parameters register themselves
local Encoder = nn.Module:extend("Encoder")
function Encoder:init(d, hidden)
  self.fc1 = nn.Linear(d, hidden)
  self.fc2 = nn.Linear(hidden, hidden)
end
function Encoder:forward(x) return self.fc2(self.fc1(x):relu()):relu() end
nn.register(Encoder)   -- every class of the script that a checkpoint holds is registered

-- a VAE class: the built-in nn.VAE's encode, decode, forward and sample, its own loss
local LogitVAE = nn.VAE:extend("LogitVAE")
function LogitVAE:init(d, hidden, latent)
  nn.VAE.init(self, Encoder(d, hidden), nn.Linear(hidden, latent), nn.Linear(hidden, latent),
    nn.mlp({ latent, hidden, d }, { last = false }))   -- no activation after the last Linear: logits
end
-- the negative ELBO per sample: Bernoulli likelihood on the logits plus KL
function LogitVAE:loss(x)
  local logits, mu, logvar = self(x)
  return ae.loss.bce_logits(logits, x, "sum") / x:size(1) + ae.kl.normal(mu, logvar)
end
nn.register(LogitVAE)   -- ae.checkpoint.model can now rebuild both from a file

local model = LogitVAE(784, 256, cfg.latent)
print(model)
local opt = ae.optim.Adam(model:parameters(), { lr = cfg.lr })

local function test_loss()
  return ae.experiment.evaluate(test, function(x) return model:loss(x) end)
end

local first, last
for epoch = 1, cfg.epochs do
  for x in train:batches(cfg.batch_size, { shuffle = true }) do
    opt:zero_grad()
    local loss = model:loss(x)
    loss:backward()
    opt:step()
  end
  last = test_loss()
  first = first or last
  print(string.format("epoch %d  test_loss %.3f nats", epoch, last))
end

-- save, then rebuild from the file alone: LogitVAE(784, 256, latent), then the weights
local dir = "checkpoints/custom_module"
assert(ae.mkdir_p(dir))
ae.checkpoint.save(dir .. "/vae.h5", { model = model, optimizer = opt, epoch = cfg.epochs })
local again = ae.checkpoint.model(dir .. "/vae.h5")
local x = test:batch(1, 8)
local diff = ae.no_grad(function() return (again:encode(x) - model:encode(x)):abs():max() end)
print(again._type .. " rebuilt from the checkpoint; largest difference in mu: " .. diff)

-- 64 samples from the prior through the decoder (logits, so a sigmoid for pixels)
ae.no_grad(function()
  ae.image.save_grid(dir .. "/samples.png", model:sample(64):sigmoid(), { nrow = 8 })
end)
ae.experiment.result("custom_module", { first_test_loss = first, test_loss = last,
  rebuilt_class = again._type, rebuilt_difference = diff, parameters = model:num_parameters() })
