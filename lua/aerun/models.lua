-- aerun.models: the seed tutorials' models (ae.models), shared by the
-- experiments and the benchmark so that both train the same thing.
local nn = require "aerun.nn"

local models = {}

-- MLP autoencoder: sizes from the input to the code, mirrored for the
-- decoder; ReLU between layers and after the code, sigmoid output
function models.mlp_ae(sizes)
  sizes = sizes or { 784, 128, 64, 32 }
  local back = {}
  for i = #sizes, 1, -1 do back[#back + 1] = sizes[i] end
  return nn.AutoEncoder(nn.mlp(sizes, { activation = nn.ReLU }),
    nn.mlp(back, { activation = nn.ReLU, last = nn.Sigmoid }))
end

-- PyTorch's VAE example: 784-400-(20, 20), 20-400-784 with ReLU, sigmoid output
function models.vae(input, hidden, latent)
  input, hidden, latent = input or 784, hidden or 400, latent or 20
  return nn.VAE(
    nn.Sequential { nn.Linear(input, hidden), nn.ReLU() },
    nn.Linear(hidden, latent), nn.Linear(hidden, latent),
    nn.Sequential { nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, input), nn.Sigmoid() })
end

-- the convolutional tutorial's AE on 1×28×28 images (28 → 14 → 7 → 1 and back);
-- it takes and returns flat N×784 batches
function models.conv_ae()
  return nn.AutoEncoder(
    nn.Sequential {
      nn.Reshape(1, 28, 28),
      nn.Conv2d(1, 16, 3, { stride = 2, padding = 1 }), nn.ReLU(),
      nn.Conv2d(16, 32, 3, { stride = 2, padding = 1 }), nn.ReLU(),
      nn.Conv2d(32, 64, 7),
    },
    nn.Sequential {
      nn.ConvTranspose2d(64, 32, 7), nn.ReLU(),
      nn.ConvTranspose2d(32, 16, 3, { stride = 2, padding = 1, output_padding = 1 }), nn.ReLU(),
      nn.ConvTranspose2d(16, 1, 3, { stride = 2, padding = 1, output_padding = 1 }), nn.Sigmoid(),
      nn.Flatten(),
    })
end

-- one sigmoid hidden layer, the classic sparse / contractive AE
function models.shallow_ae(input, hidden)
  input, hidden = input or 784, hidden or 256
  return nn.AutoEncoder(nn.Sequential { nn.Linear(input, hidden), nn.Sigmoid() },
    nn.Sequential { nn.Linear(hidden, input), nn.Sigmoid() })
end

return require("aerun.guard").module("ae.models", models)
