-- image_folder_spec.lua: core.image_folder(dir [, opts]), a folder of PNG
-- and JPEG pictures read into an N×C×H×W tensor (runtime/io/imagedir.c).
-- Every picture is written by the test: PNGs of each colour type and depth
-- by tests/helpers/png_encode.lua (plain Lua), JPEGs by core.jpeg_write
-- (libjpeg) and, for chroma subsampling and progressive files, by cjpeg.
-- Values are checked exactly: sample/255 (sample/65535 for 16 bits) as
-- float32, Pillow's integer luma for RGB to gray, libjpeg's reference
-- decoder (djpeg, where installed) for JPEGs, and torch's
-- F.interpolate(bilinear, align_corners=False) for resizing (where
-- /usr/bin/python3 has torch).  Labels, class order, file order, and every
-- refusal (its message naming the file) are checked too.
local ae = require "aerun"
local core = require "aerun.core"
local png = require "tests.helpers.png_encode"
local process = require "tests.helpers.process"
local check = require "tests.helpers.check"

local quote, write, sh = process.quote, process.write, process.sh
local f32, ulps, flatten = check.f32, check.ulps, check.flatten

local PYTHON = "/usr/bin/python3"

local function mkdir(path) assert(os.execute("mkdir -p " .. quote(path))) end

local function errors(f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error")
  return tostring(err)
end

local function has(s, ...)
  for _, word in ipairs { ... } do
    assert(s:find(word, 1, true), string.format("%q does not mention %q", s, word))
  end
end

-- n pseudo-random integers in 0..max (deterministic)
local function samples(n, max, seed)
  math.randomseed(seed)
  local out = {}
  for i = 1, n do out[i] = math.random(0, max) end
  return out
end

-- v / max as float32: the correctly rounded quotient, as ToTensor's float
-- division gives it.  Lua divides in double and rounds to float32; that
-- double rounding is exact here: v/255 (v/65535) has a binary expansion of
-- period 8 (16) bits, never within 2^-53 of a float32 halfway point
local function unit(v, max) return f32(v / max) end

-- the flat values of x[i] (1-based sample)
local function sample_values(x, i) return flatten(x[i]:totable()) end

-- planar C×H×W expected values from interleaved samples
local function planar(s, channels, max)
  local n, out = #s // channels, {}
  for c = 1, channels do
    for i = 1, n do out[(c - 1) * n + i] = unit(s[(i - 1) * channels + c], max) end
  end
  return out
end

local function assert_exact(what, got, want)
  assert(#got == #want, string.format("%s: %d values, expected %d", what, #got, #want))
  for k = 1, #want do
    if got[k] ~= want[k] then
      error(string.format("%s element %d: expected %.9g, got %.9g", what, k, want[k], got[k]), 2)
    end
  end
end

-- Pillow's rgb2l (libImaging/Convert.c): L24(rgb) >> 16
local function luma(r, g, b) return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16 end

local have_djpeg = os.execute("command -v djpeg >/dev/null 2>&1 && command -v cjpeg >/dev/null 2>&1") == true
local have_torch = os.execute(PYTHON .. " -c 'import torch' >/dev/null 2>&1") == true

-- djpeg's decoding of a JPEG (PGM or PPM): width, height, channels, bytes
local function djpeg(path)
  local out = process.capture("djpeg -pnm " .. quote(path) .. " | od -An -v -tu1")
  local bytes = {}
  for b in out:gmatch("%d+") do bytes[#bytes + 1] = tonumber(b) end
  -- the header "P5\nW H\n255\n" as bytes
  local text = string.char(table.unpack(bytes, 1, math.min(#bytes, 40)))
  local kind, w, h, max, header = text:match("^P(%d)%s+(%d+)%s+(%d+)%s+(%d+)%s()")
  assert(kind and max == "255", "djpeg: unexpected output")
  local data = table.move(bytes, header, #bytes, 1, {})
  return tonumber(w), tonumber(h), kind == "5" and 1 or 3, data
end

describe("core.image_folder", function()
  local root
  local count = 0

  -- a fresh folder under root
  local function folder()
    count = count + 1
    local d = root .. "/f" .. count
    mkdir(d)
    return d
  end

  setup(function() root = process.tmpdir() end)
  teardown(function() os.execute("rm -rf " .. quote(root)) end)

  describe("PNG", function()
    it("reads 8-bit gray pictures as byte / 255, sorted by name, without labels", function()
      local d = folder()
      local a, b = samples(12, 255, 1), samples(12, 255, 2)
      a[1], a[2], b[1] = 0, 255, 128
      write(d .. "/b.png", png.encode(4, 3, b))
      write(d .. "/a.png", png.encode(4, 3, a))
      local x, y, classes, files, skipped = core.image_folder(d)
      assert.same({ 2, 1, 3, 4 }, x:shape())
      assert.is_nil(y)
      assert.is_nil(classes)
      assert.same({ d .. "/a.png", d .. "/b.png" }, files)
      assert.same({}, skipped)
      assert_exact("a.png", sample_values(x, 1), planar(a, 1, 255))
      assert_exact("b.png", sample_values(x, 2), planar(b, 1, 255))
    end)

    it("reads 8-bit RGB pictures as planes, R then G then B", function()
      local d = folder()
      local s = samples(5 * 2 * 3, 255, 3)
      write(d .. "/rgb.png", png.encode(5, 2, s, { color = "rgb" }))
      local x = core.image_folder(d)
      assert.same({ 1, 3, 2, 5 }, x:shape())
      assert_exact("rgb.png", sample_values(x, 1), planar(s, 3, 255))
    end)

    it("reads 16-bit gray and RGB as sample / 65535", function()
      local d = folder()
      local g, c = samples(6, 65535, 4), samples(18, 65535, 5)
      g[1], g[2], g[3] = 0, 65535, 257
      write(d .. "/g16.png", png.encode(3, 2, g, { depth = 16 }))
      write(d .. "/c16.png", png.encode(3, 2, c, { color = "rgb", depth = 16 }))
      local x, _, _, files = core.image_folder(d)
      assert.same({ d .. "/c16.png", d .. "/g16.png" }, files)
      assert_exact("c16.png", sample_values(x, 1), planar(c, 3, 65535))
      -- the gray picture repeated in the three channels
      local want = planar(g, 1, 65535)
      assert_exact("g16.png", sample_values(x, 2), table.move(want, 1, 6, 13, table.move(want, 1, 6, 7, want)))
      -- the low byte counts: 257 is not 256
      assert.are_not.equal(unit(256, 65535), sample_values(x, 2)[3])
    end)

    it("expands palettes and 1-, 2- and 4-bit gray, drops alpha and tRNS", function()
      local d = folder()
      local palette = { { 255, 0, 0 }, { 0, 128, 255 }, { 7, 8, 9 }, { 250, 251, 252 } }
      local idx = { 0, 1, 2, 3, 3, 2 }
      write(d .. "/1pal.png", png.encode(3, 2, idx, { color = "palette", depth = 2, palette = palette, trns = "\0\128" }))
      write(d .. "/2bit1.png", png.encode(3, 2, { 0, 1, 1, 0, 0, 1 }, { depth = 1 }))
      write(d .. "/3bit4.png", png.encode(3, 2, { 0, 15, 7, 8, 1, 14 }, { depth = 4 }))
      write(d .. "/4ga.png", png.encode(3, 2, { 10, 0, 20, 255, 30, 9, 40, 99, 50, 1, 60, 200 }, { color = "gray_alpha" }))
      local rgba = samples(24, 255, 6)
      write(d .. "/5rgba.png", png.encode(3, 2, rgba, { color = "rgba" }))
      local x = core.image_folder(d)
      assert.same({ 5, 3, 2, 3 }, x:shape())
      local pal = {}
      for _, i in ipairs(idx) do
        for c = 1, 3 do pal[#pal + 1] = palette[i + 1][c] end
      end
      assert_exact("palette", sample_values(x, 1), planar(pal, 3, 255))
      -- gray repeated in R, G and B; a 1-bit 1 is 255, a 4-bit v is 17·v
      local function gray3(v)
        local out = {}
        for _ = 1, 3 do
          for _, s in ipairs(v) do out[#out + 1] = unit(s, 255) end
        end
        return out
      end
      assert_exact("1-bit", sample_values(x, 2), gray3 { 0, 255, 255, 0, 0, 255 })
      assert_exact("4-bit", sample_values(x, 3), gray3 { 0, 255, 119, 136, 17, 238 })
      assert_exact("gray+alpha", sample_values(x, 4), gray3 { 10, 20, 30, 40, 50, 60 })
      local rgb = {}
      for i = 0, 5 do
        for c = 1, 3 do rgb[#rgb + 1] = rgba[i * 4 + c] end
      end
      assert_exact("rgba", sample_values(x, 5), planar(rgb, 3, 255))
    end)

    it("turns RGB into gray with Pillow's ITU-R 601 luma, 8- and 16-bit", function()
      local d = folder()
      local s = samples(4 * 4 * 3, 255, 7)
      -- the extremes and a value on each weight alone
      for i, v in ipairs { 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255 } do s[i] = v end
      write(d .. "/a8.png", png.encode(4, 4, s, { color = "rgb" }))
      local s16 = samples(4 * 4 * 3, 65535, 8)
      write(d .. "/b16.png", png.encode(4, 4, s16, { color = "rgb", depth = 16 }))
      local x = core.image_folder(d, { channels = 1 })
      assert.same({ 2, 1, 4, 4 }, x:shape())
      local want8, want16 = {}, {}
      for i = 0, 15 do
        want8[i + 1] = unit(luma(s[3 * i + 1], s[3 * i + 2], s[3 * i + 3]), 255)
        want16[i + 1] = unit(luma(s16[3 * i + 1], s16[3 * i + 2], s16[3 * i + 3]), 65535)
      end
      assert_exact("8-bit luma", sample_values(x, 1), want8)
      assert_exact("16-bit luma", sample_values(x, 2), want16)
      -- Pillow's values for pure red, green and blue: 76, 150, 29
      assert.same({ 255, 0, 76, 150, 29 }, { luma(255, 255, 255), luma(0, 0, 0), luma(255, 0, 0), luma(0, 255, 0),
        luma(0, 0, 255) })
    end)

    it("chooses 3 channels when any picture has colour, 1 when none has", function()
      local d = folder()
      write(d .. "/g.png", png.encode(2, 1, { 3, 4 }))
      assert.same({ 1, 1, 1, 2 }, core.image_folder(d):shape())
      write(d .. "/p.png", png.encode(2, 1, { 0, 0 }, { color = "palette", depth = 8, palette = { { 9, 9, 9 } } }))
      assert.same({ 2, 3, 1, 2 }, core.image_folder(d):shape())
      assert.same({ 2, 1, 1, 2 }, core.image_folder(d, { channels = 1 }):shape())
      -- a forced RGB of gray pictures repeats them
      local x = core.image_folder(d, { channels = 3, extensions = { "PNG" } })
      assert_exact("repeated", sample_values(x, 1), { unit(3, 255), unit(4, 255), unit(3, 255), unit(4, 255),
        unit(3, 255), unit(4, 255) })
    end)
  end)

  describe("classes", function()
    it("label subfolders 0..K-1 in sorted order and keep files sorted in each", function()
      local d = folder()
      for _, c in ipairs { "dog", "Cat", "ant" } do mkdir(d .. "/" .. c) end
      local v = 0
      local function pic(path)
        v = v + 10
        write(path, png.encode(1, 1, { v }))
        return v
      end
      local vals = {}
      vals["dog/b"] = pic(d .. "/dog/b.png")
      vals["dog/a"] = pic(d .. "/dog/a.PNG")
      vals["Cat/z"] = pic(d .. "/Cat/z.png")
      vals["ant/2"] = pic(d .. "/ant/2.png")
      vals["ant/10"] = pic(d .. "/ant/10.png")
      write(d .. "/dog/README.txt", "not a picture")
      write(d .. "/notes.md", "beside the classes")
      write(d .. "/dog/.hidden.png", "ignored, even though it is no PNG")
      local x, y, classes, files, skipped = core.image_folder(d)
      -- byte order, as Python's sorted(): upper case first, "10" before "2"
      assert.same({ "Cat", "ant", "dog" }, classes)
      assert.same({ d .. "/Cat/z.png", d .. "/ant/10.png", d .. "/ant/2.png", d .. "/dog/a.PNG", d .. "/dog/b.png" }, files)
      assert.same({ 0, 1, 1, 2, 2 }, y:totable())
      assert.same({ d .. "/notes.md", d .. "/dog/README.txt" }, skipped)
      local want = {}
      for i, k in ipairs { "Cat/z", "ant/10", "ant/2", "dog/a", "dog/b" } do want[i] = unit(vals[k], 255) end
      assert_exact("values in sample order", flatten(x:totable()), want)
    end)

    it("reads only the extensions asked for", function()
      local d = folder()
      write(d .. "/a.png", png.encode(1, 1, { 1 }))
      core.jpeg_write(d .. "/b.jpg", ae.zeros(1, 1, 1), 90)
      local x, _, _, files, skipped = core.image_folder(d, { extensions = { ".jpg" } })
      assert.same({ 1, 1, 1, 1 }, x:shape())
      assert.same({ d .. "/b.jpg" }, files)
      assert.same({ d .. "/a.png" }, skipped)
    end)
  end)

  describe("JPEG", function()
    it("decodes constant gray blocks exactly (their DCT has a DC term only)", function()
      local d = folder()
      -- 16×16 in four 8×8 blocks of one level each
      local levels = { 0, 77, 200, 255 }
      local rows, vals = {}, {}
      for y = 1, 16 do
        rows[y] = {}
        for xx = 1, 16 do
          local v = levels[((y - 1) // 8) * 2 + (xx - 1) // 8 + 1]
          rows[y][xx] = v / 255
          vals[#vals + 1] = unit(v, 255)
        end
      end
      core.jpeg_write(d .. "/blocks.jpg", ae.tensor { rows }, 100)
      local x = core.image_folder(d)
      assert.same({ 1, 1, 16, 16 }, x:shape())
      assert_exact("blocks", sample_values(x, 1), vals)
    end)

    it("keeps colours in their channels (quality 100, within JPEG's rounding)", function()
      local d = folder()
      -- four quadrants of distinct colours, in 8×8 blocks
      local colours = { { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 }, { 30, 140, 220 } }
      local planes = {}
      for c = 1, 3 do
        planes[c] = {}
        for y = 1, 16 do
          planes[c][y] = {}
          for xx = 1, 16 do planes[c][y][xx] = colours[((y - 1) // 8) * 2 + (xx - 1) // 8 + 1][c] / 255 end
        end
      end
      local img = ae.tensor(planes)
      core.jpeg_write(d .. "/q.jpg", img, 100)
      local x = core.image_folder(d)
      assert.same({ 1, 3, 16, 16 }, x:shape())
      -- YCbCr conversions round twice: a few levels at most
      local worst = (x[1] - img):abs():max()
      assert.is_true(worst <= 3 / 255, "worst difference " .. worst * 255 .. " levels")
    end)

    it("gives libjpeg's reference decoding (djpeg): gray, 4:4:4, 4:2:0 and progressive", function()
      if not have_djpeg then
        pending("skipped: djpeg and cjpeg are not installed (apt-get install libjpeg-turbo-progs)")
        return
      end
      local d = folder()
      math.randomseed(11)
      local g = ae.rand(1, 13, 19)
      local c = ae.rand(3, 17, 11)
      core.jpeg_write(d .. "/a_gray.jpg", g, 80)
      core.jpeg_write(d .. "/b_444.jpg", c, 85)
      -- cjpeg's defaults subsample chroma 2×2 (4:2:0), which the decoder
      -- upsamples ("fancy" upsampling, Pillow's default too)
      local ppm = { string.format("P6\n%d %d\n255\n", 15, 9) }
      for _, v in ipairs(samples(15 * 9 * 3, 255, 12)) do ppm[#ppm + 1] = string.char(v) end
      write(root .. "/in.ppm", table.concat(ppm))
      assert(os.execute("cjpeg -quality 75 " .. quote(root .. "/in.ppm") .. " > " .. quote(d .. "/c_420.jpg")))
      assert(os.execute("cjpeg -progressive -quality 60 " .. quote(root .. "/in.ppm") .. " > "
        .. quote(d .. "/d_prog.jpg")))
      for _, name in ipairs { "a_gray.jpg", "b_444.jpg", "c_420.jpg", "d_prog.jpg" } do
        local sub = folder()
        assert(os.execute("cp " .. quote(d .. "/" .. name) .. " " .. quote(sub)))
        local x = core.image_folder(sub)
        local w, h, ch, bytes = djpeg(sub .. "/" .. name)
        assert.same({ 1, ch, h, w }, x:shape(), name)
        assert_exact(name, sample_values(x, 1), planar(bytes, ch, 255))
      end
      -- all four at once: one RGB tensor, gray repeated
      local x = core.image_folder(d, { size = { 9, 15 } })
      assert.same({ 4, 3, 9, 15 }, x:shape())
    end)

    it("turns RGB JPEGs into gray with the same luma as PNGs", function()
      if not have_djpeg then
        pending("skipped: djpeg is not installed (apt-get install libjpeg-turbo-progs)")
        return
      end
      local d = folder()
      math.randomseed(13)
      core.jpeg_write(d .. "/c.jpg", ae.rand(3, 5, 6), 90)
      local x = core.image_folder(d, { channels = 1 })
      local w, h, ch, bytes = djpeg(d .. "/c.jpg")
      assert.same({ 6, 5, 3 }, { w, h, ch })
      local want = {}
      for i = 0, w * h - 1 do want[i + 1] = unit(luma(bytes[3 * i + 1], bytes[3 * i + 2], bytes[3 * i + 3]), 255) end
      assert_exact("luma", sample_values(x, 1), want)
    end)

    it("decodes by content: a .png that holds a JPEG reads", function()
      local d = folder()
      core.jpeg_write(d .. "/really_a_jpeg.png", ae.full(1, 8, 8, 100 / 255), 100)
      local x = core.image_folder(d)
      local want = {}
      for i = 1, 64 do want[i] = unit(100, 255) end
      assert_exact("constant", sample_values(x, 1), want)
    end)

    it("refuses CMYK JPEGs, naming the file", function()
      local d = folder()
      core.jpeg_write(d .. "/ink.jpg", ae.rand(4, 8, 8), 90)
      has(errors(core.image_folder, d), d .. "/ink.jpg", "CMYK", "convert it to RGB")
    end)
  end)

  describe("sizes", function()
    it("refuses pictures of different sizes, naming two and their sizes, without size", function()
      local d = folder()
      write(d .. "/a.png", png.encode(4, 3, samples(12, 255, 1)))
      write(d .. "/b.png", png.encode(4, 3, samples(12, 255, 2)))
      write(d .. "/c.png", png.encode(5, 3, samples(15, 255, 3)))
      local err = errors(core.image_folder, d)
      has(err, d .. "/a.png is 3×4", d .. "/c.png is 3×5", "size = {h, w}")
    end)

    it("copies a picture already at the size unchanged", function()
      local d = folder()
      local s = samples(12, 255, 1)
      write(d .. "/a.png", png.encode(4, 3, s))
      write(d .. "/b.png", png.encode(2, 2, { 0, 85, 170, 255 }))
      local x = core.image_folder(d, { size = { 3, 4 } })
      assert.same({ 2, 1, 3, 4 }, x:shape())
      assert_exact("a.png", sample_values(x, 1), planar(s, 1, 255))
    end)

    it("resizes as torch's F.interpolate(mode='bilinear', align_corners=False)", function()
      if not have_torch then
        pending("skipped: " .. PYTHON .. " cannot import torch (apt-get install python3-torch)")
        return
      end
      -- up, down (by more than 2, where no antialiasing shows), mixed,
      -- from one row, to one pixel; gray and RGB
      local cases = {
        { 3, 1, 5, 7, 9, 4 }, { 3, 3, 13, 11, 6, 5 }, { 1, 1, 3, 3, 8, 8 }, { 1, 1, 1, 5, 4, 2 },
        { 3, 3, 7, 2, 1, 1 }, { 1, 1, 31, 17, 7, 40 }, { 3, 3, 4, 4, 4, 4 },
      }
      local lines, want_all, got_all = {}, {}, {}
      for k, cs in ipairs(cases) do
        local ch, h0, w0, h, w = cs[2], cs[3], cs[4], cs[5], cs[6]
        local d = folder()
        local s = samples(ch * h0 * w0, 255, 100 + k)
        write(d .. "/p.png", png.encode(w0, h0, s, { color = ch == 3 and "rgb" or "gray" }))
        local x = core.image_folder(d, { size = { h, w } })
        assert.same({ 1, ch, h, w }, x:shape())
        got_all[k] = sample_values(x, 1)
        lines[#lines + 1] = string.format("%d %d %d %d %d %s", ch, h0, w0, h, w, table.concat(s, ","))
      end
      write(root .. "/cases.txt", table.concat(lines, "\n") .. "\n")
      -- a gray picture goes to torch as three equal channels too: torch
      -- sends a one-channel tensor to its channels-last kernel, whose sums
      -- are ordered differently (see imagedir.c); both are printed
      write(root .. "/resize.py", [[
import sys, torch
import torch.nn.functional as F
def show(y): print(" ".join("%.9g" % t for t in y.flatten().tolist()))
for line in open(sys.argv[1]):
    ch, h0, w0, h, w, s = line.split()
    ch, h0, w0, h, w = int(ch), int(h0), int(w0), int(h), int(w)
    v = torch.tensor([int(t) for t in s.split(",")], dtype=torch.uint8)
    x = v.reshape(h0, w0, ch).permute(2, 0, 1).to(torch.float32).div(255).unsqueeze(0)
    rgb = x.expand(1, 3, h0, w0).contiguous()
    y = F.interpolate(rgb, size=(h, w), mode="bilinear", align_corners=False, antialias=False)
    show(y[:, :ch])
    show(F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=False))
]])
      local out, ok = sh(PYTHON .. " " .. quote(root .. "/resize.py") .. " " .. quote(root .. "/cases.txt"))
      assert(ok, out)
      local results = {}
      for line in out:gmatch("[^\n]+") do
        local want = {}
        for t in line:gmatch("%S+") do want[#want + 1] = f32(tonumber(t)) end
        results[#results + 1] = want
      end
      assert.equal(2 * #cases, #results)
      local worst_one = 0
      for k = 1, #cases do
        local generic, direct = results[2 * k - 1], results[2 * k]
        -- the generic kernel: the same float32 operations in the same
        -- order, so the same bits
        assert_exact("case " .. k, got_all[k], generic)
        for i = 1, #direct do worst_one = math.max(worst_one, math.abs(got_all[k][i] - direct[i])) end
      end
      -- torch's one-channel path: a convex combination of values in [0, 1]
      -- summed in another order; 6 roundings of at most 2^-25 each bound
      -- the gap (measured: 2^-23 at most)
      assert.is_true(worst_one <= 6 * 2 ^ -25, string.format("one-channel path: worst difference %.3g", worst_one))
    end)
  end)

  describe("bad input", function()
    it("an empty folder, or one with no pictures, names the folder and the extensions", function()
      local d = folder()
      has(errors(core.image_folder, d), "no pictures in " .. d, ".png, .jpg, .jpeg")
      write(d .. "/a.txt", "x")
      has(errors(core.image_folder, d), "no pictures in " .. d, "(skipped: " .. d .. "/a.txt)")
    end)

    it("a class folder without pictures is named", function()
      local d = folder()
      mkdir(d .. "/a")
      mkdir(d .. "/b")
      write(d .. "/a/1.png", png.encode(1, 1, { 1 }))
      write(d .. "/b/notes.txt", "x")
      has(errors(core.image_folder, d), "class folder " .. d .. "/b has no pictures")
    end)

    it("pictures beside class folders, and folders inside them, are refused", function()
      local d = folder()
      mkdir(d .. "/a/deeper")
      write(d .. "/a/1.png", png.encode(1, 1, { 1 }))
      has(errors(core.image_folder, d), d .. "/a/deeper", "inside the class folder")
      os.execute("rmdir " .. quote(d .. "/a/deeper"))
      write(d .. "/loose.png", png.encode(1, 1, { 1 }))
      has(errors(core.image_folder, d), "loose.png", "both class folders")
    end)

    it("a FIFO named like a picture is skipped, not read (a read would block)", function()
      local d = folder()
      write(d .. "/a.png", png.encode(1, 1, { 1 }))
      assert(os.execute("mkfifo " .. quote(d .. "/b.png")))
      local x, _, _, files, skipped = core.image_folder(d)
      assert.same({ 1, 1, 1, 1 }, x:shape())
      assert.same({ d .. "/a.png" }, files)
      assert.same({ d .. "/b.png" }, skipped)
    end)

    it("a missing folder is named", function()
      has(errors(core.image_folder, root .. "/nowhere"), root .. "/nowhere", "No such file")
    end)

    it("a file that is not a picture is named", function()
      local d = folder()
      write(d .. "/a.png", png.encode(1, 1, { 1 }))
      write(d .. "/b.png", "hello, I am text")
      has(errors(core.image_folder, d), d .. "/b.png", "not a PNG or JPEG file")
      write(d .. "/b.png", "")
      has(errors(core.image_folder, d), d .. "/b.png", "empty")
      os.remove(d .. "/b.png")
      write(d .. "/c.jpg", "\255\216\255 then nothing JPEG-like")
      has(errors(core.image_folder, d), d .. "/c.jpg", "jpeg")
    end)

    it("truncated and corrupt PNGs are named, whatever the cut", function()
      local d = folder()
      local bytes = png.encode(6, 5, samples(90, 255, 21), { color = "rgb" })
      -- every cut: in the signature, the header, the data, the end
      for cut = 1, #bytes - 1, 3 do
        write(d .. "/t.png", bytes:sub(1, cut))
        local err = errors(core.image_folder, d)
        has(err, d .. "/t.png")
      end
      local function flip(pos) return bytes:sub(1, pos - 1) .. string.char(bytes:byte(pos) ~ 1) .. bytes:sub(pos + 1) end
      -- a flipped bit in the header (its CRC) and in the pixels (zlib's check)
      write(d .. "/t.png", flip(20))
      has(errors(core.image_folder, d), d .. "/t.png", "CRC")
      write(d .. "/t.png", flip(#bytes - 30))
      has(errors(core.image_folder, d), d .. "/t.png", "incorrect data check")
    end)

    it("truncated and corrupt JPEGs are named, not filled with gray", function()
      local d = folder()
      core.jpeg_write(root .. "/full.jpg", ae.rand(3, 24, 24), 90)
      local bytes = process.read_all(root .. "/full.jpg")
      for cut = 2, #bytes - 2, 7 do
        write(d .. "/t.jpg", bytes:sub(1, cut))
        has(errors(core.image_folder, d), d .. "/t.jpg")
      end
      -- garbage in the entropy-coded data: a warning libjpeg would skip
      local pos = #bytes - 40
      write(d .. "/t.jpg", bytes:sub(1, pos - 1) .. string.rep("\255", 4) .. bytes:sub(pos + 4))
      has(errors(core.image_folder, d), d .. "/t.jpg", "Corrupt JPEG data")
    end)

    it("options are checked", function()
      local d = folder()
      write(d .. "/a.png", png.encode(1, 1, { 1 }))
      has(errors(core.image_folder, d, { channels = 2 }), "channels must be 1 (gray) or 3 (RGB)")
      has(errors(core.image_folder, d, { size = { 0, 3 } }), "size must be {h, w}")
      has(errors(core.image_folder, d, { size = 28 }), "size must be {h, w}")
      has(errors(core.image_folder, d, { size = { 2, 2.5 } }), "size must be {h, w}")
      has(errors(core.image_folder, d, { extensions = { "bmp" } }), "bmp is not one of png, jpg, jpeg")
      has(errors(core.image_folder, d, { extensions = {} }), "extensions must be a list")
      has(errors(core.image_folder, d, { chanels = 1 }), "unknown option 'chanels'")
    end)
  end)
end)
