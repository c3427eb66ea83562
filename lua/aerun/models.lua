-- aerun.models: the seed tutorials' models (ae.models), shared by the
-- experiments and the benchmark so that both train the same thing.
--
--   models.mlp_ae(sizes [, opts])                  sizes from the input to the code
--   models.vae(input, hidden, latent [, opts])
--   models.conv_ae([shape [, opts]])               shape {C, H, W}, default {1, 28, 28}
--   models.shallow_ae(input, hidden [, opts])
--   models.seq_ae{steps, width, cell = "lstm", hidden = 128, code = 32, ...}
--   models.conv1d_ae{channels = C, length = L [, hidden = {32, 16}] [, kernel = 5] [, code = n] [, output = "linear"]}
--
-- opts.output is "sigmoid" (the tutorials', for data in [0, 1]) or "linear"
-- (no output activation, for real-valued data).

--- The seed tutorials' models: `ae.models`.  `opts.output` is "sigmoid"
-- (for data in [0, 1]) or "linear" (real-valued data).
-- @module aerun.models

--- An MLP autoencoder: ReLU layers through sizes, mirrored, the output activation last.
-- @param sizes from the input to the code, e.g. {784, 128, 64, 32}
-- @param[opt] opts `{output = "sigmoid"}`
-- @return an nn.AutoEncoder
-- @usage local m = ae.models.mlp_ae { 784, 128, 32 }; assert(m(ae.rand(2, 784)):size(2) == 784)
-- @function mlp_ae

--- PyTorch's VAE example (input-hidden-latent).
-- @param input
-- @param hidden
-- @param latent
-- @param[opt] opts `{output = "sigmoid"}`
-- @return an nn.VAE
-- @usage local v = ae.models.vae(784, 400, 20); assert(v:sample(2):size(2) == 784)
-- @function vae

--- The tutorial's convolutional autoencoder for C×H×W images.
-- @param[opt] shape {C, H, W}, default {1, 28, 28}
-- @param[opt] opts `{output = "sigmoid"}`
-- @return an nn.AutoEncoder (it takes N×C×H×W or N×(C·H·W) and returns N×(C·H·W))
-- @raise when the image is too small
-- @usage assert(ae.models.conv_ae()(ae.rand(2, 1, 28, 28)):size(2) == 784)
-- @function conv_ae

--- A recurrent sequence autoencoder: nn.SeqEncoder and nn.SeqDecoder (sequential MNIST reads an image as 28 steps of 28).
-- @param opts `{steps = 28, width = 28, cell = "lstm" or "gru", hidden = 128, code = 32, num_layers = 1, output = "sigmoid", flat = true}`
-- @return an nn.AutoEncoder that takes N×steps×width or N×(steps·width) and returns N×(steps·width) (N×steps×width with flat = false)
-- @raise when a size is not a positive integer or an option is unknown
-- @usage local m = ae.models.seq_ae { steps = 28, width = 28, hidden = 16, code = 4 }; assert(m(ae.rand(2, 784)):size(2) == 784)
-- @function seq_ae

--- A 1-D convolutional autoencoder for windows of a multichannel time series, N×C×L to N×C×L.
-- Each hidden size is a Conv1d with stride 2 (padding kernel // 2, so the length about halves)
-- and a ReLU; the decoder mirrors them with ConvTranspose1d layers whose output_padding restores
-- each length exactly.  With `code`, a Linear layer maps the last feature map to a flat code of
-- that size (and back); without, the code is the last feature map (hidden[#hidden] × about L/2^#hidden).
-- The output is linear by default here (real-valued, standardized series); "sigmoid" is for data in [0, 1].
-- @param opts `{channels = C, length = L, hidden = {32, 16}, kernel = 5, code = nil, output = "linear"}`
-- @return an nn.AutoEncoder
-- @raise when a size is not a positive integer or an option is unknown
-- @usage local m = ae.models.conv1d_ae { channels = 3, length = 50, hidden = { 8, 4 }, code = 6 }; assert(m:encode(ae.randn(2, 3, 50)):size(2) == 6); assert(m(ae.randn(2, 3, 50)):size(3) == 50)
-- @function conv1d_ae

--- One sigmoid hidden layer (sparse and contractive autoencoders).
-- @param input
-- @param hidden
-- @param[opt] opts `{output = "sigmoid"}`
-- @return an nn.AutoEncoder
-- @usage assert(ae.models.shallow_ae(784, 64):encode(ae.rand(1, 784)):size(2) == 64)
-- @function shallow_ae

local nn = require "aerun.nn"

local models = {}

local function fail(msg) error(msg, 0) end

-- the output layer opts asks for: nn.Sigmoid, or false (linear: none)
local function output_layer(fname, opts)
  opts = require("aerun.guard").options(fname, opts, { output = true })
  local output = opts.output or "sigmoid"
  if output == "sigmoid" then return nn.Sigmoid end
  if output ~= "linear" then
    fail(string.format("%s: output must be \"sigmoid\" or \"linear\", got %s", fname, tostring(output)))
  end
  return false
end

-- MLP autoencoder: sizes from the input to the code, mirrored for the
-- decoder; ReLU between layers and after the code, sigmoid (or no) output
function models.mlp_ae(sizes, opts)
  sizes = sizes or { 784, 128, 64, 32 }
  local last = output_layer("mlp_ae", opts)
  local back = {}
  for i = #sizes, 1, -1 do back[#back + 1] = sizes[i] end
  return nn.AutoEncoder(nn.mlp(sizes, { activation = nn.ReLU }),
    nn.mlp(back, { activation = nn.ReLU, last = last }))
end

-- PyTorch's VAE example: 784-400-(20, 20), 20-400-784 with ReLU, sigmoid output
function models.vae(input, hidden, latent, opts)
  input, hidden, latent = input or 784, hidden or 400, latent or 20
  local last = output_layer("vae", opts)
  local decoder = nn.Sequential { nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, input) }
  if last then decoder:add(last()) end
  return nn.VAE(nn.Sequential { nn.Linear(input, hidden), nn.ReLU() },
    nn.Linear(hidden, latent), nn.Linear(hidden, latent), decoder)
end

-- a sequence autoencoder: the code is the encoder's last hidden state
-- through a Linear, fed at every step of the decoder
function models.seq_ae(opts)
  opts = require("aerun.guard").options("seq_ae", opts or {}, {
    steps = true, width = true, cell = true, hidden = true, code = true, num_layers = true, output = true,
    flat = true,
  })
  local steps, width, cell = opts.steps or 28, opts.width or 28, opts.cell or "lstm"
  local hidden, code, layers = opts.hidden or 128, opts.code or 32, opts.num_layers or 1
  return nn.AutoEncoder(
    nn.SeqEncoder(cell, width, hidden, code, { steps = steps, num_layers = layers }),
    nn.SeqDecoder(cell, code, hidden, width,
      { steps = steps, num_layers = layers, output = opts.output, flat = opts.flat }))
end

-- the size after a 3×3 convolution with stride 2 and padding 1
local function halved(n) return (n + 1) // 2 end

-- a size for nn.Conv2d: one number when height and width agree
local function hw(h, w) if h == w then return h end return { h, w } end

-- the convolutional tutorial's AE, on C×H×W images of any size (1×28×28:
-- 28 → 14 → 7 → 1 and back): two 3×3 convolutions with stride 2, one that
-- covers what is left, and the transposed mirror, whose output_padding
-- restores odd sizes.  It takes and returns flat N×(C·H·W) batches.
function models.conv_ae(shape, opts)
  shape = shape or { 1, 28, 28 }
  if type(shape) ~= "table" or #shape ~= 3 then
    fail("conv_ae: shape must be {C, H, W}, got " .. (type(shape) == "table" and #shape .. " sizes" or type(shape)))
  end
  local c, h, w = shape[1], shape[2], shape[3]
  for i, v in ipairs(shape) do
    if math.type(v) ~= "integer" or v < 1 then
      fail(string.format("conv_ae: shape {%s}: size %d must be a positive integer", table.concat(shape, ", "), i))
    end
  end
  if h < 3 or w < 3 then
    fail(string.format("conv_ae: images of %d×%d×%d are too small; the model needs at least 3×3", c, h, w))
  end
  local last = output_layer("conv_ae", opts)
  local h1, w1 = halved(h), halved(w)
  local h2, w2 = halved(h1), halved(w1)
  local decoder = nn.Sequential {
    nn.ConvTranspose2d(64, 32, hw(h2, w2)), nn.ReLU(),
    nn.ConvTranspose2d(32, 16, 3, { stride = 2, padding = 1, output_padding = hw(h1 - 2 * h2 + 1, w1 - 2 * w2 + 1) }),
    nn.ReLU(),
    nn.ConvTranspose2d(16, c, 3, { stride = 2, padding = 1, output_padding = hw(h - 2 * h1 + 1, w - 2 * w1 + 1) }),
  }
  if last then decoder:add(last()) end
  decoder:add(nn.Flatten())
  return nn.AutoEncoder(
    nn.Sequential {
      nn.Reshape(c, h, w),
      nn.Conv2d(c, 16, 3, { stride = 2, padding = 1 }), nn.ReLU(),
      nn.Conv2d(16, 32, 3, { stride = 2, padding = 1 }), nn.ReLU(),
      nn.Conv2d(32, 64, hw(h2, w2)),
    },
    decoder)
end

-- a positive integer option of conv1d_ae, or def when absent (def nil: required)
local function positive(name, v, def)
  if v == nil and def ~= nil then return def end
  if type(v) ~= "number" or v ~= math.floor(v) or v < 1 or v >= 2 ^ 53 then
    fail(string.format("conv1d_ae: %s must be a positive integer, got %s", name, require("aerun.guard").value(v)))
  end
  return math.tointeger(v)
end

-- Conv1d layers with stride 2 down, ConvTranspose1d layers up.  With
-- padding k // 2 a layer maps length n to (n + 2·(k // 2) - k) // 2 + 1
-- (⌈n/2⌉ for an odd kernel); the transposed layer maps m back to
-- 2·(m - 1) - 2·(k // 2) + k + output_padding, and the output_padding in
-- {0, 1} that gives n exactly always exists.
function models.conv1d_ae(opts)
  opts = require("aerun.guard").options("conv1d_ae", opts,
    { channels = true, length = true, hidden = true, kernel = true, code = true, output = true })
  local c = positive("channels", opts.channels)
  local length = positive("length", opts.length)
  local k = positive("kernel", opts.kernel, 5)
  local hidden = opts.hidden or { 32, 16 }
  if type(hidden) ~= "table" or #hidden == 0 then
    fail("conv1d_ae: hidden must be a non-empty list of channel counts, got "
      .. (type(hidden) == "table" and "{}" or require("aerun.guard").value(hidden)))
  end
  local sizes = { c }
  for i, h in ipairs(hidden) do sizes[i + 1] = positive("hidden[" .. i .. "]", h) end
  local code = opts.code ~= nil and positive("code", opts.code) or nil
  local last = output_layer("conv1d_ae", { output = opts.output or "linear" })
  local pad = k // 2
  local lengths = { length }
  local encoder, decoder = nn.Sequential {}, nn.Sequential {}
  for i = 2, #sizes do
    lengths[i] = (lengths[i - 1] + 2 * pad - k) // 2 + 1
    encoder:add(nn.Conv1d(sizes[i - 1], sizes[i], k, { stride = 2, padding = pad }))
    -- the last feature map is the code itself when there is no Linear code
    if code or i < #sizes then encoder:add(nn.ReLU()) end
  end
  local depth, flat = #sizes, sizes[#sizes] * lengths[#sizes]
  if code then
    encoder:add(nn.Flatten())
    encoder:add(nn.Linear(flat, code))
    decoder:add(nn.Linear(code, flat))
    decoder:add(nn.ReLU())
    decoder:add(nn.Reshape(sizes[depth], lengths[depth]))
  end
  for i = depth, 2, -1 do
    local op = lengths[i - 1] - (2 * (lengths[i] - 1) - 2 * pad + k)
    decoder:add(nn.ConvTranspose1d(sizes[i], sizes[i - 1], k, { stride = 2, padding = pad, output_padding = op }))
    if i > 2 then decoder:add(nn.ReLU()) end
  end
  if last then decoder:add(last()) end
  return nn.AutoEncoder(encoder, decoder)
end

-- one sigmoid hidden layer, the classic sparse / contractive AE
function models.shallow_ae(input, hidden, opts)
  input, hidden = input or 784, hidden or 256
  local last = output_layer("shallow_ae", opts)
  local decoder = nn.Sequential { nn.Linear(hidden, input) }
  if last then decoder:add(last()) end
  return nn.AutoEncoder(nn.Sequential { nn.Linear(input, hidden), nn.Sigmoid() }, decoder)
end

return require("aerun.guard").module("ae.models", models)
