-- tests/helpers/npy.lua: .npy files written byte by byte, for the specs
-- and the fuzz seeds (so that they run where numpy is absent).
local M = {}

-- the bytes of a .npy file: the header (padded to 64 bytes as numpy pads
-- it) and data; opts.dict replaces the dict, opts.version is 1, 2 or 3,
-- opts.fortran sets fortran_order
function M.encode(descr, shape, data, opts)
  opts = opts or {}
  local dict = opts.dict or string.format("{'descr': '%s', 'fortran_order': %s, 'shape': (%s%s), }", descr,
    opts.fortran and "True" or "False", table.concat(shape, ", "), #shape == 1 and "," or "")
  local version = opts.version or 1
  local pre = version == 1 and 10 or 12
  local header = dict .. string.rep(" ", (64 - (pre + #dict + 1) % 64) % 64) .. "\n"
  local len = version == 1 and string.pack("<I2", #header) or string.pack("<I4", #header)
  return "\x93NUMPY" .. string.char(version, 0) .. len .. header .. data
end

-- values packed one after another with string.pack's fmt
function M.pack(fmt, values)
  local parts = {}
  for i, v in ipairs(values) do parts[i] = string.pack(fmt, v) end
  return table.concat(parts)
end

-- a tensor as a little-endian float32 .npy file's bytes
function M.float32(t)
  return M.encode("<f4", t:shape(), M.pack("<f", t:reshape(-1):totable()))
end

return M
