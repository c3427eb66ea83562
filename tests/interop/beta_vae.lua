-- beta_vae.lua: a β-VAE defined by a script, as a user would write it: a
-- class extending nn.VAE with convolutional encoder and decoder, made from
-- its latent size and β.  tests/interop_spec.lua saves one in one aerun
-- process and rebuilds it in another (dofile this file, then
-- ae.checkpoint.model); tools/aerun_torch.py converts it, as an nn.VAE,
-- since it replaces none of forward, encode and decode.
local ae = require "aerun"
local nn = ae.nn

local BetaVAE = nn.VAE:extend("BetaVAE")

-- 1×16×16 images: two stride-2 convolutions to 16×4×4, and back
function BetaVAE:init(latent, beta)
  local encoder = nn.Sequential {
    nn.Conv2d(1, 8, 3, { stride = 2, padding = 1 }), nn.ReLU(),
    nn.Conv2d(8, 16, 3, { stride = 2, padding = 1 }), nn.ReLU(),
    nn.Flatten(),
  }
  local decoder = nn.Sequential {
    nn.Linear(latent, 16 * 4 * 4), nn.ReLU(), nn.Reshape(16, 4, 4),
    nn.ConvTranspose2d(16, 8, 3, { stride = 2, padding = 1, output_padding = 1 }), nn.ReLU(),
    nn.ConvTranspose2d(8, 1, 3, { stride = 2, padding = 1, output_padding = 1 }), nn.Sigmoid(),
  }
  nn.VAE.init(self, encoder, nn.Linear(256, latent), nn.Linear(256, latent), decoder)
  self.beta = beta
end

-- the β-VAE objective: reconstruction (BCE summed per sample) + β·KL
function BetaVAE:loss(x)
  local xhat, mu, logvar = self(x)
  local n = x:size(1)
  return ae.loss.bce(xhat, x, "sum") / n + ae.kl.normal(mu, logvar) * self.beta
end

return nn.register(BetaVAE)
