-- fuzz/make_seeds.lua: writes the seed corpora under fuzz/corpus/<target>/.
--   build/aerun fuzz/make_seeds.lua        (from the repository's root)
-- Each seed is a small valid input of its driver (fuzz/drivers/*.lua), so
-- that mutations start from files that get past the first checks.
local ae = require "aerun"
local json = require "aerun.json"

-- the specs' helpers, found from the repository's root
local process = require "tests.helpers.process"
local quote, write, read = process.quote, process.write, process.read_all

local dir = "fuzz/corpus"
for _, t in ipairs { "idx", "checkpoint", "config", "tensor", "image" } do
  assert(os.execute("mkdir -p " .. quote(dir .. "/" .. t)))
end

-- IDX: type byte, dims, big-endian values
local function idx(type_byte, dims, values, fmt)
  local parts = { string.char(0, 0, type_byte, #dims) }
  for _, d in ipairs(dims) do parts[#parts + 1] = string.pack(">I4", d) end
  for _, v in ipairs(values) do parts[#parts + 1] = string.pack(fmt, v) end
  return table.concat(parts)
end
local function range(n, f)
  local out = {}
  for i = 1, n do out[i] = f(i) end
  return out
end
local images = idx(8, { 3, 2, 2 }, range(12, function(i) return i * 20 end), "B")
local labels = idx(8, { 3 }, { 1, 7, 3 }, "B")
write(dir .. "/idx/ubyte_3d", "\0" .. images)
write(dir .. "/idx/float_1d", "\0" .. idx(0x0D, { 3 }, { 0.5, -1, 1e30 }, ">f"))
write(dir .. "/idx/double_2d", "\0" .. idx(0x0E, { 2, 2 }, { 1, 2, 3, 4 }, ">d"))
write(dir .. "/idx/short_1d", "\0" .. idx(0x0B, { 2 }, { -3, 300 }, ">i2"))
write(dir .. "/idx/int_1d", "\0" .. idx(0x0C, { 2 }, { -70000, 5 }, ">i4"))
write(dir .. "/idx/byte_1d", "\0" .. idx(0x09, { 2 }, { -3, 5 }, ">i1"))
local tmp = os.tmpname()
write(tmp, images)
local gz = io.popen("gzip -9 -n -c " .. quote(tmp)):read("a")
os.remove(tmp)
write(dir .. "/idx/gzip_3d", "\0" .. gz)
write(dir .. "/idx/pair", "\1" .. string.pack(">I2", 2 + #images) .. images .. labels)

-- checkpoints: the driver's model after one Adam step, as a file and as
-- the driver's description of one
ae.manual_seed(1)
local nn = ae.nn
local model = nn.Sequential { nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 4) }
local opt = ae.optim.Adam(model:parameters(), { lr = 1e-3 })
local x = ae.rand(2, 4)
ae.loss.mse(model(x), x):backward()
opt:step()
local h5path = os.tmpname()
ae.checkpoint.save(h5path, { model = model, optimizer = opt, epoch = 1, step = 1,
  config = { lr = 1e-3, name = "seed" }, metrics = { loss = { 0.25 } } })
write(dir .. "/checkpoint/raw.h5", read(h5path))

local lines = { "#aerun-fuzz-h5" }
local f = ae.h5.open(h5path, "r")
local function attrs(obj)
  local a = f:attrs(obj)
  local keys = {}
  for k in pairs(a) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = a[k]
    if math.type(v) == "integer" then lines[#lines + 1] = string.format("i %s %s %d", obj, k, v)
    elseif type(v) == "number" then lines[#lines + 1] = string.format("f %s %s %.17g", obj, k, v)
    else lines[#lines + 1] = string.format("a %s %s %s", obj, k, tostring(v):gsub("\n", " ")) end
  end
end
local function visit(group)
  attrs(group)
  for _, name in ipairs(f:list(group)) do
    local child = (group == "/" and "" or group) .. "/" .. name
    if f:kind(child) == "group" then
      lines[#lines + 1] = "g " .. child
      visit(child)
    elseif child:match("rng_state$") then
      lines[#lines + 1] = "b " .. child .. " " .. f:read_bytes(child):gsub("[\n]", " ")
    elseif child:match("metrics/") then
      lines[#lines + 1] = "n " .. child .. " " .. table.concat(f:read_numbers(child), ",")
    else
      lines[#lines + 1] = string.format("t %s %s %.9g", child, table.concat(f:shape(child), "x"),
        f:read(child):reshape(-1):narrow(1, 1, 1):item())
    end
  end
end
visit("/")
f:close()
os.remove(h5path)
write(dir .. "/checkpoint/described", table.concat(lines, "\n") .. "\n")

-- config: argv words separated by NUL; JSON
write(dir .. "/config/argv_vae", "\0\0" .. table.concat({ "--epochs=3", "--lr=1e-4", "--name=x", "--no-verbose",
  "--kl-warmup=2" }, "\0"))
write(dir .. "/config/argv_args", "\0\1" .. table.concat({ "--n=0x10", "--mode=", "--flag=off", "--", "a", "b" }, "\0"))
write(dir .. "/config/experiment", "\2\0" .. table.concat({ "--epochs=2", "--resume", "--on-nan=skip", "--quiet" }, "\0"))
write(dir .. "/config/json_architecture", "\3" .. json.encode(model:architecture()))
write(dir .. "/config/json_escapes", "\3" .. '{"a":[1,2.5,-3e10,true,false,null],"s":"\\u00e9\\ud83d\\ude00\\n","o":{}}')

-- tensor programs (see the opcodes in fuzz/drivers/tensor.lua)
local function program(...) return string.char(...) end
write(dir .. "/tensor/matrix", program(0, 2, 129, 2, 130, 1, 0, 2, 131, 2, 132, 1))
write(dir .. "/tensor/nested_repeat", program(0, 0, 2, 129, 12, 3, 1, 12, 4, 1))
write(dir .. "/tensor/specials", program(0, 7, 8, 1, 8, 0, 4) .. string.pack("<d", 1e308) .. program(9)
  .. string.pack("<i8", math.maxinteger))
write(dir .. "/tensor/ragged", program(0, 2, 129, 1, 0, 2, 129, 2, 130, 1))
write(dir .. "/tensor/mixed", program(0, 2, 129, 5, 3, 120, 121, 122, 6, 1, 10, 2, 130, 11, 107, 1))

-- HDF5 data sets (see the byte layout in fuzz/drivers/h5_data.lua): mode,
-- options, rows, features, rows of y, then the values and labels
assert(os.execute("mkdir -p " .. quote(dir .. "/h5_data")))
local function h5_data(mode, opts, n, d, ny, tail)
  local v = {}
  for i = 1, n * d do v[i] = string.char((i * 37) % 120) end
  for i = 1, (ny == 255 and n or ny) do v[#v + 1] = string.char((i * 2) % 20) end
  return string.char(mode, opts, n, d, ny) .. table.concat(v) .. (tail or "")
end
write(dir .. "/h5_data/loaded", h5_data(0, 2, 12, 3, 255))
write(dir .. "/h5_data/streamed", h5_data(0, 3 + 8 * 3, 40, 4, 255))
write(dir .. "/h5_data/scaled_no_y", h5_data(0, 4 + 1, 9, 2, 0))
write(dir .. "/h5_data/y_short", h5_data(0, 2, 10, 2, 7))
write(dir .. "/h5_data/nan", h5_data(0, 1 + 8, 20, 3, 0):gsub("^(.....)(.......)(.)", "%1%2\127"))
write(dir .. "/h5_data/truncated", h5_data(1, 2, 30, 4, 255, "\3\0"))
write(dir .. "/h5_data/truncated_mid_epoch", h5_data(2, 2 + 8 * 2, 60, 4, 255, "\4\0"))
write(dir .. "/h5_data/not_hdf5", "\3\1" .. "\137HDF\r\n\26\n not really")

-- images (see fuzz/drivers/image.lua): the mode byte, then the file(s);
-- PNGs of each colour type and depth, JPEGs from libjpeg (and cjpeg's
-- subsampled and progressive ones where it is installed)
do
  local png = require "tests.helpers.png_encode"
  local core = require "aerun.core"
  local function ramp(n, max)
    local out = {}
    for i = 1, n do out[i] = (i * 37) % (max + 1) end
    return out
  end
  local img = dir .. "/image/"
  write(img .. "png_gray", "\0" .. png.encode(4, 3, ramp(12, 255)))
  write(img .. "png_rgb_resized", "\2" .. png.encode(3, 2, ramp(18, 255), { color = "rgb" }))
  write(img .. "png_gray16_rgb", "\12" .. png.encode(2, 2, ramp(4, 65535), { depth = 16 }))
  write(img .. "png_rgba16_gray", "\4" .. png.encode(2, 2, ramp(16, 65535), { color = "rgba", depth = 16 }))
  write(img .. "png_palette", "\0" .. png.encode(5, 2, { 0, 1, 2, 3, 0, 1, 2, 3, 0, 1 },
    { color = "palette", depth = 2, palette = { { 1, 2, 3 }, { 200, 100, 0 }, { 9, 9, 9 }, { 255, 255, 255 } },
      trns = "\0" }))
  write(img .. "png_bits1", "\0" .. png.encode(9, 2, ramp(18, 1), { depth = 1 }))
  local a = png.encode(2, 2, ramp(4, 255))
  local b = png.encode(3, 2, ramp(6, 255))
  write(img .. "png_two_sizes", "\18" .. string.pack(">I2", 3 + #a) .. a .. b)
  local tmp = os.tmpname()
  local function jpeg(t, quality)
    core.jpeg_write(tmp, t, quality)
    return read(tmp)
  end
  local function grid(c, h, w)
    local planes = {}
    for k = 1, c do
      planes[k] = {}
      for y = 1, h do
        planes[k][y] = {}
        for x = 1, w do planes[k][y][x] = ((x * 7 + y * 13 + k * 5) % 16) / 15 end
      end
    end
    return ae.tensor(planes)
  end
  write(img .. "jpeg_gray", "\1" .. jpeg(grid(1, 9, 11), 75))
  write(img .. "jpeg_rgb_gray", "\5" .. jpeg(grid(3, 8, 8), 90))
  write(img .. "jpeg_cmyk", "\1" .. jpeg(grid(4, 8, 8), 90))
  local j1, j2 = jpeg(grid(3, 16, 8), 50), jpeg(grid(1, 16, 8), 50)
  write(img .. "jpeg_two", "\19" .. string.pack(">I2", 3 + #j1) .. j1 .. j2)
  if os.execute("command -v cjpeg >/dev/null 2>&1") then
    local ppm = { "P6\n10 6\n255\n" }
    for i = 1, 180 do ppm[#ppm + 1] = string.char((i * 41) % 256) end
    write(tmp, table.concat(ppm))
    write(img .. "jpeg_420", "\1" .. io.popen("cjpeg -quality 70 " .. quote(tmp)):read("a"))
    write(img .. "jpeg_progressive", "\3" .. io.popen("cjpeg -progressive -quality 70 " .. quote(tmp)):read("a"))
  end
  os.remove(tmp)
end
print("seeds written under " .. dir)
