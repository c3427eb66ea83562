-- tests/helpers/png_encode.lua: PNG files of any colour type and bit depth,
-- written in plain Lua (zlib stored blocks, no compression), so that the
-- specs and fuzz/make_seeds.lua can make 16-bit, palette, low-depth and
-- alpha pictures that aerun's own writer (8-bit gray and RGB) does not.
--   encode(width, height, samples, {color = "gray"|"rgb"|"palette"|"gray_alpha"|"rgba",
--          depth = 1|2|4|8|16, palette = {{r, g, b}, ...}, trns = bytes|nil}) -> bytes
-- samples: integers, rows top to bottom, channels interleaved (palette
-- indices for "palette").
local M = {}

local COLOR = { gray = { 0, 1 }, rgb = { 2, 3 }, palette = { 3, 1 }, gray_alpha = { 4, 2 }, rgba = { 6, 4 } }

local crc_table = {}
for n = 0, 255 do
  local c = n
  for _ = 1, 8 do c = (c & 1) ~= 0 and (0xEDB88320 ~ (c >> 1)) or (c >> 1) end
  crc_table[n] = c
end

local function crc32(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do c = crc_table[(c ~ s:byte(i)) & 0xFF] ~ (c >> 8) end
  return c ~ 0xFFFFFFFF
end

local function adler32(s)
  local a, b = 1, 0
  for i = 1, #s do
    a = (a + s:byte(i)) % 65521
    b = (b + a) % 65521
  end
  return (b << 16) | a
end

local function chunk(kind, data)
  return string.pack(">I4", #data) .. kind .. data .. string.pack(">I4", crc32(kind .. data))
end

-- zlib stream of stored (uncompressed) deflate blocks
local function zlib(raw)
  local parts, pos = { "\x78\x01" }, 1
  repeat
    local piece = raw:sub(pos, pos + 65534)
    pos = pos + #piece
    local final = pos > #raw and 1 or 0
    parts[#parts + 1] = string.pack("<BI2I2", final, #piece, #piece ~ 0xFFFF) .. piece
  until pos > #raw
  parts[#parts + 1] = string.pack(">I4", adler32(raw))
  return table.concat(parts)
end

-- one row: filter byte 0, then the samples packed MSB first
local function row(samples, first, count, depth)
  local out = { "\0" }
  if depth == 16 then
    for i = first, first + count - 1 do out[#out + 1] = string.pack(">I2", samples[i]) end
  elseif depth == 8 then
    for i = first, first + count - 1 do out[#out + 1] = string.char(samples[i]) end
  else
    local acc, bits = 0, 0
    for i = first, first + count - 1 do
      acc, bits = (acc << depth) | samples[i], bits + depth
      if bits == 8 then out[#out + 1], acc, bits = string.char(acc), 0, 0 end
    end
    if bits > 0 then out[#out + 1] = string.char(acc << (8 - bits)) end
  end
  return table.concat(out)
end

function M.encode(width, height, samples, opts)
  opts = opts or {}
  local ct = assert(COLOR[opts.color or "gray"], "unknown colour type")
  local depth = opts.depth or 8
  local per_row = width * ct[2]
  assert(#samples == per_row * height, "sample count does not match the size")
  local rows = {}
  for y = 0, height - 1 do rows[#rows + 1] = row(samples, y * per_row + 1, per_row, depth) end
  local parts = { "\x89PNG\r\n\x1a\n", chunk("IHDR", string.pack(">I4I4BBBBB", width, height, depth, ct[1], 0, 0, 0)) }
  if opts.palette then
    local p = {}
    for _, rgb in ipairs(opts.palette) do p[#p + 1] = string.char(rgb[1], rgb[2], rgb[3]) end
    parts[#parts + 1] = chunk("PLTE", table.concat(p))
  end
  if opts.trns then parts[#parts + 1] = chunk("tRNS", opts.trns) end
  parts[#parts + 1] = chunk("IDAT", zlib(table.concat(rows)))
  parts[#parts + 1] = chunk("IEND", "")
  return table.concat(parts)
end

return M
