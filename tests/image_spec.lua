-- PNG files and pictures (aerun.image, ae.canvas, ae.png_read): exact
-- pixels of grids against torchvision's layout and rounding rule, round
-- trips through files, failures that leave nothing behind, and plots whose
-- marks land where their data says.
local ae = require "aerun"
local image = require "aerun.image"

local dir

local function path(name) return dir .. "/" .. name end

local function listing(d)
  local p = io.popen("ls -A '" .. d .. "'")
  local out = {}
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

-- a loaded C×H×W tensor as bytes [c][y][x], 1-based
local function bytes(t)
  local v = t:totable()
  for _, plane in ipairs(v) do
    for _, row in ipairs(plane) do
      for x, p in ipairs(row) do row[x] = math.floor(p * 255 + 0.5) end
    end
  end
  return v
end

-- torchvision's rule: ⌊255·clamp(v, 0, 1) + ½⌋
local function byte_of(v)
  return math.floor(math.max(0, math.min(1, v)) * 255 + 0.5)
end

local function errors(f)
  local ok, err = pcall(f)
  assert(not ok, "expected an error")
  return tostring(err)
end

-- the pixels of an RGB picture with exactly colour rgb: count, mean x, mean y
local function find_color(b, rgb)
  local n, sx, sy = 0, 0, 0
  for y = 1, #b[1] do
    for x = 1, #b[1][1] do
      if b[1][y][x] == rgb[1] and b[2][y][x] == rgb[2] and b[3][y][x] == rgb[3] then
        n, sx, sy = n + 1, sx + x, sy + y
      end
    end
  end
  return n, n > 0 and sx / n or nil, n > 0 and sy / n or nil
end

describe("aerun.image", function()
  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir '" .. dir .. "'"))
  end)
  teardown(function()
    os.execute("rm -rf '" .. dir .. "'")
  end)

  describe("save_grid", function()
    it("places tiles row by row with nrow and padding, pixel for pixel", function()
      -- five 3×4 images; pixel (r, c) of image k holds ((12k + 4r + c) % 5)/4
      local n, h, w = 5, 3, 4
      local vals = {}
      for k = 0, n - 1 do
        vals[k + 1] = {}
        for r = 0, h - 1 do
          vals[k + 1][r + 1] = {}
          for c = 0, w - 1 do vals[k + 1][r + 1][c + 1] = ((12 * k + 4 * r + c) % 5) / 4 end
        end
      end
      local file = path("grid.png")
      image.save_grid(file, ae.tensor(vals), { nrow = 2, padding = 1, pad_value = 0.5 })
      local t = image.load(file)
      -- 2 columns, 3 rows: (4 + 1)·2 + 1 wide, (3 + 1)·3 + 1 high, gray
      assert.same({ 1, 13, 11 }, t:shape())
      local b = bytes(t)[1]
      for y = 0, 12 do
        for x = 0, 10 do
          local want = 128   -- pad_value 0.5
          local col, row = (x - 1) // 5, (y - 1) // 4
          local tx, ty = (x - 1) % 5, (y - 1) % 4
          local k = row * 2 + col
          if x >= 1 and y >= 1 and tx < w and ty < h and k < n then
            want = byte_of(vals[k + 1][ty + 1][tx + 1])
          end
          assert(b[y + 1][x + 1] == want, ("pixel (%d, %d): %d, expected %d"):format(x, y, b[y + 1][x + 1], want))
        end
      end
    end)

    it("takes N×784 as 28×28 and N×D with a shape; torchvision's default padding 2 and nrow 8", function()
      local x = ae.zeros(10, 784)
      ae.no_grad(function() x:narrow(1, 10, 1):fill_(1) end)
      local file = path("mnist.png")
      image.save_grid(file, x)
      local t = image.load(file)
      -- 8 per row: 8·30 + 2 wide, 2 rows: 2·30 + 2 high
      assert.same({ 1, 62, 242 }, t:shape())
      local b = bytes(t)[1]
      -- the 10th image (white) is the second of row 2; the 9th is black
      assert.equal(255, b[33][33])       -- top-left pixel of tile 10 at (32, 32)
      assert.equal(255, b[32 + 28][32 + 28])
      assert.equal(0, b[33][32])         -- padding just left of it
      assert.equal(0, b[33][3])          -- tile 9
      image.save_grid(file, ae.ones(3, 12), { shape = { 3, 4 }, nrow = 3, padding = 0 })
      assert.same({ 1, 3, 12 }, image.load(file):shape())
    end)

    it("writes RGB for N×3×H×W and gray for N×1×H×W", function()
      local red, zero, half = { { 1, 1 }, { 1, 1 } }, { { 0, 0 }, { 0, 0 } }, { { 0.5, 0.5 }, { 0.5, 0.5 } }
      -- image 1 red, image 2 red with blue at half
      local x = ae.tensor { { red, zero, zero }, { red, zero, half } }
      local file = path("rgb.png")
      image.save_grid(file, x, { padding = 1 })
      local t = image.load(file)
      assert.same({ 3, 4, 7 }, t:shape())
      local b = bytes(t)
      assert.same({ 255, 0, 0 }, { b[1][2][2], b[2][2][2], b[3][2][2] })
      assert.same({ 255, 0, 128 }, { b[1][2][5], b[2][2][5], b[3][2][5] })
      assert.same({ 0, 0, 0 }, { b[1][1][1], b[2][1][1], b[3][1][1] })
      image.save_grid(file, ae.full(2, 1, 2, 2, 0.25), { padding = 0 })
      assert.same({ 1, 2, 4 }, image.load(file):shape())
      assert.equal(64, bytes(image.load(file))[1][1][1])
    end)

    it("clips to [0, 1] unless normalize, which maps the range (or min..max) to 0..255", function()
      local x = ae.tensor { { { -1, 0.5, 2 } } }
      local file = path("clip.png")
      image.save_grid(file, x, { padding = 0 })
      assert.same({ 0, 128, 255 }, bytes(image.load(file))[1][1])
      image.save_grid(file, x, { padding = 0, normalize = true })
      -- (v + 1)/3: 0, 0.5, 1
      assert.same({ 0, 128, 255 }, bytes(image.load(file))[1][1])
      image.save_grid(file, x, { padding = 0, normalize = true, range = { 0, 4 } })
      assert.same({ 0, byte_of(0.125), 128 }, bytes(image.load(file))[1][1])
      -- scale_each: every tile to its own min..max
      image.save_grid(file, ae.tensor { { { 0, 1 } }, { { 10, 30 } } }, { padding = 0, normalize = true, scale_each = true })
      assert.same({ 0, 255, 0, 255 }, bytes(image.load(file))[1][1])
    end)

    it("writes a file that starts with the PNG signature", function()
      local file = path("sig.png")
      image.save_grid(file, ae.rand(4, 784))
      local f = assert(io.open(file, "rb"))
      local sig = f:read(8)
      f:close()
      assert.equal("\137PNG\r\n\26\n", sig)
    end)

    it("refuses shapes it cannot picture and unknown options", function()
      assert.matches("not a square; give opts.shape", errors(function() image.save_grid(path("x.png"), ae.ones(2, 10)) end), 1, true)
      assert.matches("shape {3, 3} holds 9 values but each row of images 2×10 has 10",
        errors(function() image.save_grid(path("x.png"), ae.ones(2, 10), { shape = { 3, 3 } }) end), 1, true)
      assert.matches("images 2×2×3×3 have 2 channels", errors(function() image.save_grid(path("x.png"), ae.ones(2, 2, 3, 3)) end), 1, true)
      assert.matches("images must be N×D, N×H×W, N×1×H×W or N×3×H×W, got 4",
        errors(function() image.save_grid(path("x.png"), ae.ones(4)) end), 1, true)
      assert.matches("unknown option 'nrows'", errors(function() image.save_grid(path("x.png"), ae.ones(2, 4), { nrows = 2 }) end), 1, true)
      assert.matches("nrow must be at least 1", errors(function() image.save_grid(path("x.png"), ae.ones(2, 4), { nrow = 0 }) end), 1, true)
    end)
  end)

  describe("save and load", function()
    it("round-trip gray and RGB images exactly at multiples of 1/255", function()
      local g = ae.arange(0, 12):reshape(3, 4) * (20 / 255)
      image.save(path("g.png"), g)
      local t = image.load(path("g.png"))
      assert.same({ 1, 3, 4 }, t:shape())
      assert.same(bytes(g:reshape(1, 3, 4)), bytes(t))
      local c = ae.rand(3, 5, 6)
      image.save(path("c.png"), c)
      local u = image.load(path("c.png"))
      assert.same({ 3, 5, 6 }, u:shape())
      assert.same(bytes(c), bytes(u))
      image.save(path("one.png"), ae.zeros(1, 2, 2))
      assert.same({ 1, 2, 2 }, image.load(path("one.png")):shape())
    end)

    it("an unwritable path is a clear error and leaves no file behind", function()
      local e = errors(function() image.save(path("missing/dir/x.png"), ae.zeros(2, 2)) end)
      assert.matches("png: cannot write " .. path("missing/dir/x.png") .. ": No such file or directory", e, 1, true)
      -- the target is a directory: the temporary file is written, the
      -- rename fails, and the temporary file must be gone
      local target = path("adir")
      assert(os.execute("mkdir '" .. target .. "'"))
      local before = #listing(dir)
      e = errors(function() image.save_grid(target, ae.ones(2, 4)) end)
      assert.matches("png: cannot write " .. target, e, 1, true)
      assert.equal(before, #listing(dir))
      for _, name in ipairs(listing(dir)) do assert.is_nil(name:find(".tmp.", 1, true), name) end
    end)

    it("a missing, foreign or truncated file is an error naming it", function()
      assert.matches("png: cannot open " .. path("nope.png"), errors(function() image.load(path("nope.png")) end), 1, true)
      local f = assert(io.open(path("text.png"), "wb"))
      f:write("hello, not a picture")
      f:close()
      assert.matches("is not a PNG file", errors(function() image.load(path("text.png")) end), 1, true)
      image.save(path("full.png"), ae.rand(20, 20))
      local src = assert(io.open(path("full.png"), "rb"))
      local data = src:read("a")
      src:close()
      for _, cut in ipairs { 12, 40, #data // 2, #data - 5 } do
        local out = assert(io.open(path("cut.png"), "wb"))
        out:write(data:sub(1, cut))
        out:close()
        assert.matches("png: cannot read " .. path("cut.png"), errors(function() image.load(path("cut.png")) end), 1, true)
      end
    end)
  end)

  describe("canvas", function()
    it("text draws inside its 6-pixel cells, in gray as the colour's luma", function()
      local c = ae.canvas(40, 12, 1, 255)
      assert.equal(18, c:text(2, 3, "E1=", { 255, 0, 0 }))
      assert.equal(18, ae.text_width("E1="))
      assert.equal(36, ae.text_width("E1=", 2))
      local b = bytes(c:totensor())[1]
      local luma = (77 * 255 + 128) // 256
      local inked = 0
      for y = 1, 12 do
        for x = 1, 40 do
          if b[y][x] ~= 255 then
            inked = inked + 1
            assert.equal(luma, b[y][x])
            assert(x - 1 >= 2 and x - 1 < 20 and y - 1 >= 3 and y - 1 < 10, ("ink at (%d, %d)"):format(x - 1, y - 1))
          end
        end
      end
      -- 'E' lights 5 + 1 + 1 + 4 + 1 + 1 + 5 = 18 pixels of its 5×7 cell
      local e = 0
      for y = 4, 10 do for x = 3, 7 do if b[y][x] ~= 255 then e = e + 1 end end end
      assert.equal(18, e)
      assert(inked > 18)
    end)

    it("clips drawing, including lines to points far outside", function()
      local c = ae.canvas(10, 10, 3, 0)
      c:clip(2, 2, 5, 5)
      c:rect(0, 0, 10, 10, { 255, 255, 255 })
      c:line(-1e30, 3, 1e30, 3, 128)
      c:clip()
      local b = bytes(c:totensor())
      local lit = 0
      for y = 1, 10 do for x = 1, 10 do if b[1][y][x] > 0 then lit = lit + 1 end end end
      assert.equal(9, lit)
      assert.equal(128, b[1][4][3])
    end)
  end)

  describe("scatter", function()
    it("draws an image of the requested size with each label's colour where its points are", function()
      local pts = ae.tensor { { 0, 0 }, { 0.1, 0.05 }, { 1, 1 }, { 0.95, 0.9 } }
      local file = path("scatter.png")
      image.scatter(file, pts, { 0, 0, 3, 3 }, { size = { 300, 200 }, legend = false, point = 3 })
      local t = image.load(file)
      assert.same({ 3, 200, 300 }, t:shape())
      local b = bytes(t)
      local n0, x0, y0 = find_color(b, image.palette[1])
      local n3, x3, y3 = find_color(b, image.palette[4])
      assert(n0 > 20 and n3 > 20, "both labels drawn")
      -- label 0 is bottom-left of label 3 (y grows downwards in pixels)
      assert(x0 < x3 - 100 and y0 > y3 + 50, ("label 0 at (%g, %g), label 3 at (%g, %g)"):format(x0, y0, x3, y3))
      -- the background is white, the frame black
      assert.same({ 255, 255, 255 }, { b[1][2][2], b[2][2][2], b[3][2][2] })
      local blacks = find_color(b, { 0, 0, 0 })
      assert(blacks > 400, "a frame")
    end)

    it("with a legend, a default square size and no labels", function()
      local file = path("s2.png")
      ae.manual_seed(1)
      image.scatter(file, ae.randn(100, 2), nil)
      assert.same({ 3, 512, 512 }, image.load(file):shape())
      local labels = {}
      for i = 1, 100 do labels[i] = i % 3 end
      image.scatter(file, ae.randn(100, 2), ae.tensor(labels), { title = "z" })
      local b = bytes(image.load(file))
      for k = 0, 2 do assert(find_color(b, image.palette[k + 1]) > 0, "label " .. k) end
      assert.equal(0, (find_color(b, image.palette[4])))
      assert.matches("3 labels for 100 points",
        errors(function() image.scatter(file, ae.randn(100, 2), { 1, 2, 3 }) end), 1, true)
      assert.matches("points must be an N×2 tensor, got 4×3",
        errors(function() image.scatter(file, ae.randn(4, 3)) end), 1, true)
    end)
  end)

  describe("plot", function()
    it("draws rising curves that rise, in the requested size, with a title", function()
      local file = path("plot.png")
      image.plot(file, {
        series = { { x = { 1, 2, 3, 4 }, y = { 0, 1, 2, 3 } }, { y = { 3, 2, 1, 0 } } },
        title = "Loss", xlabel = "epoch", ylabel = "loss", size = { 320, 240 },
      })
      local t = image.load(file)
      assert.same({ 3, 240, 320 }, t:shape())
      local b = bytes(t)
      -- series 1 rises left to right, series 2 falls
      local function ends(rgb)
        local left, right
        for x = 1, 320 do
          for y = 1, 240 do
            if b[1][y][x] == rgb[1] and b[2][y][x] == rgb[2] and b[3][y][x] == rgb[3] then
              if not left then left = { x, y } end
              right = { x, y }
            end
          end
        end
        return left, right
      end
      local l1, r1 = ends(image.palette[1])
      local l2, r2 = ends(image.palette[2])
      assert(l1 and l2, "both series drawn")
      assert(l1[2] > r1[2] + 100, "series 1 rises")
      assert(l2[2] + 100 < r2[2], "series 2 falls")
      -- the title is dark ink in the top rows
      local ink = 0
      for y = 1, 24 do for x = 1, 320 do if b[1][y][x] < 100 then ink = ink + 1 end end end
      assert(ink > 30, "title drawn")
    end)

    it("has a legend with a swatch per named series, and skips non-finite values", function()
      local file = path("legend.png")
      image.plot(file, { series = {
        { name = "train", y = { 5, 4, 0 / 0, 2, 1 } },
        { name = "test", y = ae.tensor { 5.5, 4.5, 3.5, 2.5, 1.5 } },
      } })
      local b = bytes(image.load(file))
      assert.same({ 3, 400, 640 }, { #b, #b[1], #b[1][1] })
      local n1 = find_color(b, image.palette[1])
      local n2 = find_color(b, image.palette[2])
      assert(n1 > 50 and n2 > 50)
      assert.matches("series must be a list", errors(function() image.plot(file, {}) end), 1, true)
      assert.matches("series[1] has 2 x values and 3 y values",
        errors(function() image.plot(file, { series = { { x = { 1, 2 }, y = { 1, 2, 3 } } } }) end), 1, true)
      assert.matches("unknown option 'titel'", errors(function() image.plot(file, { series = { { y = { 1 } } }, titel = "x" }) end), 1, true)
    end)
  end)
end)
