-- aerun.noise: input corruption for denoising autoencoders (ae.noise).
-- The kernels run in C (runtime/noise.c) and draw from the runtime RNG, so
-- ae.manual_seed fixes the noise.  Each returns a new tensor and records no
-- graph: noise corrupts data, it is not part of what is differentiated
-- (the result never requires grad, even when x does).
local core = require "aerun.core"

local noise = {}

local tensor_mt = debug.getregistry()["aerun.Tensor"]

local function options(name, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error(name .. ": options must be a table", 3) end
  for k in pairs(opts) do
    if not known[k] then error(string.format("%s: unknown option %s", name, tostring(k)), 3) end
  end
  return opts
end

-- noise.gaussian(x, std[, {clip = true}]): x + std·N(0, 1), clipped to
-- [0, 1] unless clip = false (the default suits images in [0, 1]).
function noise.gaussian(x, std, opts)
  opts = options("noise.gaussian", opts, { clip = true })
  local clip = opts.clip
  if clip == nil then clip = true end
  if type(clip) ~= "boolean" then error("noise.gaussian: clip must be a boolean", 2) end
  -- checked here too, so that the error points at the script's line
  if getmetatable(x) ~= tensor_mt then error("noise.gaussian: x must be a tensor, got " .. type(x), 2) end
  if type(std) ~= "number" or not (std >= 0 and std < math.huge) then
    error("noise.gaussian: std must be a finite number >= 0, got " .. tostring(std), 2)
  end
  local y = core.noise_gaussian(x, std, clip)
  return y
end

-- noise.masking(x, p): each element set to 0 with probability p.
noise.masking = core.noise_masking

-- noise.salt_pepper(x, p): each element, with probability p, set to 0 or 1
-- with equal chance.
noise.salt_pepper = core.noise_salt_pepper

return require("aerun.guard").module("ae.noise", noise)
