-- tests/helpers/npy.lua: .npy files and .npz archives written byte by byte, for the specs
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

local function crc32(s)
  local crc = 0xFFFFFFFF
  for i = 1, #s do
    crc = crc ~ s:byte(i)
    for _ = 1, 8 do crc = (crc >> 1) ~ (0xEDB88320 & -(crc & 1)) end
  end
  return crc ~ 0xFFFFFFFF
end
M.crc32 = crc32

-- a zip archive (an .npz) of members {name, data[, deflated data], crc =}:
-- stored, or deflated (method 8) when the deflated bytes are given; crc
-- replaces the checksum (to write a damaged archive)
function M.zip(members)
  local parts, central, offset = {}, {}, 0
  for _, m in ipairs(members) do
    local name, data, stored = m[1], m[2], m[3] or m[2]
    local method = m[3] and 8 or 0
    local crc = m.crc or crc32(data)
    local loc = string.pack("<I4I2I2I2I2I2I4I4I4I2I2", 0x04034b50, 20, 0, method, 0, 0, crc, #stored, #data, #name, 0)
      .. name .. stored
    central[#central + 1] = string.pack("<I4I2I2I2I2I2I2I4I4I4I2I2I2I2I2I4I4", 0x02014b50, 20, 20, 0, method, 0, 0,
      crc, #stored, #data, #name, 0, 0, 0, 0, 0, offset) .. name
    parts[#parts + 1] = loc
    offset = offset + #loc
  end
  local cd = table.concat(central)
  return table.concat(parts) .. cd .. string.pack("<I4I2I2I2I2I4I4I2", 0x06054b50, 0, 0, #members, #members, #cd,
    offset, 0)
end

return M
