-- fuzz/make_seeds_files.lua: the seed corpora of the data-file readers'
-- fuzz targets (fuzz/drivers/npy.lua, npz.lua, csv.lua) under
-- fuzz/corpus/<target>/, as fuzz/make_seeds.lua writes the others'.
--   build/aerun fuzz/make_seeds_files.lua        (from the repository's root)
-- The .npy files and a stored archive are written byte by byte, a deflated
-- member comes from gzip's stream (gzip -n is a 10-byte header, the raw
-- deflate data, then the CRC-32 and size); where /usr/bin/python3 has
-- numpy, np.savez and np.savez_compressed write two more archives (zip64
-- extra fields and all).
local process = require "tests.helpers.process"
local quote, write = process.quote, process.write

local dir = "fuzz/corpus"
for _, t in ipairs { "npy", "npz", "csv" } do
  assert(os.execute("mkdir -p " .. quote(dir .. "/" .. t)))
end

local npy_file = require "tests.helpers.npy"
local npy, pack, zip = npy_file.encode, npy_file.pack, npy_file.zip

-- .npy
local seeds = {
  f4_2d = npy("<f4", { 2, 3 }, pack("<f", { 1, -2.5, 0, 1e30, 3, 0.125 })),
  i8_be = npy(">i8", { 3 }, pack(">i8", { math.mininteger, -1, 7 })),
  u2_3d = npy("<u2", { 2, 1, 2 }, pack("<I2", { 0, 65535, 300, 1 })),
  bool = npy("|b1", { 4 }, "\1\0\1\0"),
  f2 = npy("<f2", { 3 }, pack("<I2", { 0x3C00, 0x7C00, 0x0001 })),
  f8_v2 = npy("<f8", { 2, 2 }, pack("<d", { 0.1, -1e-50, 3e38, 2 }), { version = 2 }),
  u1_v3 = npy("|u1", { 3 }, "\0\127\255", { version = 3 }),
  scalar = npy("<f8", {}, pack("<d", { 2.5 })),
  empty = npy("<i4", { 0, 3 }, ""),
  fortran_1d = npy("<f4", { 3 }, pack("<f", { 1, 2, 3 }), { fortran = true }),
}
for name, bytes in pairs(seeds) do write(dir .. "/npy/" .. name, bytes) end

-- .npz: zip archives of .npy members
local function deflate(data)
  local tmp = os.tmpname()
  write(tmp, data)
  local gz = io.popen("gzip -9 -n -c " .. quote(tmp)):read("a")
  os.remove(tmp)
  return gz:sub(11, #gz - 8)
end

local x = seeds.f4_2d
write(dir .. "/npz/stored", zip { { "x.npy", x }, { "y.npy", seeds.i8_be }, { "sub/", "" } })
write(dir .. "/npz/deflated", zip { { "x.npy", x, deflate(x) }, { "s.npy", seeds.scalar, deflate(seeds.scalar) } })
write(dir .. "/npz/empty", zip {})

if os.execute("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == true then
  local script = [[
import sys, numpy as np
a = dict(x=np.arange(12.0).reshape(3, 4), y=np.array([1, 0, 1], dtype='<i8'), flag=np.array(True))
np.savez(sys.argv[1], **a)
np.savez_compressed(sys.argv[2], **a)
]]
  local tmp = os.tmpname()
  write(tmp, script)
  assert(os.execute(string.format("/usr/bin/python3 %s %s %s", quote(tmp), quote(dir .. "/npz/numpy_savez.npz"),
    quote(dir .. "/npz/numpy_compressed.npz"))))
  os.remove(tmp)
  os.rename(dir .. "/npz/numpy_savez.npz", dir .. "/npz/numpy_savez")
  os.rename(dir .. "/npz/numpy_compressed.npz", dir .. "/npz/numpy_compressed")
end

-- CSV: the options byte (see fuzz/drivers/csv.lua), then the file
local function options(header, label, delimiter) return string.char(header | label << 2 | delimiter << 5) end
write(dir .. "/csv/header_label", options(0, 4, 0) .. "a,b,label\n1,2.5,0\n-3,4e-3,1\n")
write(dir .. "/csv/crlf_quoted", options(1, 2, 0) .. '"x, 1","y ""q"""\r\n"1",2\r\n3,  "4"  \r\n')
write(dir .. "/csv/tabs", options(2, 1, 2) .. "1\t2\t3\n\n4\t5\t6")
write(dir .. "/csv/semicolon", options(0, 3, 1) .. "\xEF\xBB\xBFa;b;c\n.5;+7;-0\n1.;2E3;3\n")
write(dir .. "/csv/pandas_index", options(0, 5, 0) .. ",a,b\n0,1.5,2\n1,2.5,3\n")
write(dir .. "/csv/missing", options(0, 0, 0) .. "a,b\n1,\n2,nan\n")
print("seeds written under " .. dir .. "/{npy,npz,csv}")
