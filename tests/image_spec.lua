-- PNG files and pictures (aerun.image, ae.canvas, ae.png_read): exact
-- pixels of grids against torchvision's layout and rounding rule, round
-- trips through files, failures that leave nothing behind, and plots
-- (cairo) whose curves land where their data says, with gaps, dots,
-- legends that hide nothing, and metrics grouped into panels.
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
    it("clips rectangles, and shows gray as the colour's luma", function()
      local c = ae.canvas(10, 10, 3, 0)
      c:clip(2, 2, 5, 5)
      c:rect(0, 0, 10, 10, { 255, 255, 255 })
      c:clip()
      local b = bytes(c:totensor())
      local lit = 0
      for y = 1, 10 do for x = 1, 10 do if b[1][y][x] > 0 then lit = lit + 1 end end end
      assert.equal(9, lit)
      assert.equal(255, b[1][3][3])
      local g = ae.canvas(4, 4, 1, 255)
      g:rect(0, 0, 2, 2, { 255, 0, 0 })
      assert.equal((77 * 255 + 128) // 256, bytes(g:totensor())[1][1][1])
    end)
  end)

  -- Plots are anti-aliased (cairo), so a curve's pixels are its colour
  -- blended with the white background.  A pixel "is" a series when every
  -- channel is within 40 of the series' colour: a 2-pixel line always has
  -- a core that close (its centre pixels are covered by at least 3/4),
  -- and the palette's colours are over 100 apart from each other and from
  -- the grid's, the frame's and the text's grays.
  local function near(b, x, y, rgb)
    return math.abs(b[1][y][x] - rgb[1]) <= 40 and math.abs(b[2][y][x] - rgb[2]) <= 40
      and math.abs(b[3][y][x] - rgb[3]) <= 40
  end

  -- data to pixel, from the layout plot returns (1-based pixel indices)
  local function mapper(panel)
    local b = panel.box
    local function frac(v, lim, log)
      if log then return (math.log(v, 10) - math.log(lim[1], 10)) / (math.log(lim[2], 10) - math.log(lim[1], 10)) end
      return (v - lim[1]) / (lim[2] - lim[1])
    end
    return function(x, y)
      return b[1] + frac(x, panel.xlim) * (b[3] - b[1]) + 1, b[4] - frac(y, panel.ylim, panel.log) * (b[4] - b[2]) + 1
    end
  end

  -- is a pixel of colour rgb within r pixels of (px, py)?
  local function ink_near(b, px, py, rgb, r)
    for y = math.floor(py - r), math.ceil(py + r) do
      for x = math.floor(px - r), math.ceil(px + r) do
        if b[1][y] and b[1][y][x] and near(b, x, y, rgb) then return true end
      end
    end
    return false
  end

  -- the mean row of the pixels of colour rgb in column x, or nil
  local function column_row(b, x, rgb, y0, y1)
    local n, sum = 0, 0
    for y = y0, y1 do
      if near(b, x, y, rgb) then n, sum = n + 1, sum + y end
    end
    return n > 0 and sum / n or nil
  end

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
      assert(n0 > 10 and n3 > 10, "both labels drawn")
      -- label 0 is bottom-left of label 3 (y grows downwards in pixels)
      assert(x0 < x3 - 100 and y0 > y3 + 50, ("label 0 at (%g, %g), label 3 at (%g, %g)"):format(x0, y0, x3, y3))
      -- the background is white, the frame a dark gray
      assert.same({ 255, 255, 255 }, { b[1][2][2], b[2][2][2], b[3][2][2] })
      local frame = 0
      for y = 1, 200 do
        for x = 1, 300 do
          local v = b[1][y][x]
          if v < 100 and v == b[2][y][x] and v == b[3][y][x] then frame = frame + 1 end
        end
      end
      assert(frame > 400, "a frame")
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
    it("puts a monotonic curve's pixels where its data says, in the requested size", function()
      local file = path("mono.png")
      local xs, ys = {}, {}
      for i = 0, 20 do xs[i + 1], ys[i + 1] = i, i * i end
      local layout = image.plot(file, { series = { { x = xs, y = ys } }, title = "Loss", xlabel = "epoch",
        ylabel = "loss", size = { 400, 300 } })
      local t = image.load(file)
      assert.same({ 3, 300, 400 }, t:shape())
      local b = bytes(t)
      local p = layout[1]
      -- the axes are the data's range plus 5% each side
      assert.near(-1, p.xlim[1], 1e-12)
      assert.near(21, p.xlim[2], 1e-12)
      assert.near(-20, p.ylim[1], 1e-12)
      assert.near(420, p.ylim[2], 1e-12)
      local map = mapper(p)
      -- every point has ink of the series' colour within 1.5 pixels (the
      -- line is 2 wide), so the first point sits 5/110 of the box's
      -- height above its bottom and the last as far below its top
      local c = image.palette[1]
      for i = 1, #xs do
        local px, py = map(xs[i], ys[i])
        assert(ink_near(b, px, py, c, 1.5), ("point %d (%g, %g) not drawn at (%.1f, %.1f)"):format(i, xs[i], ys[i], px, py))
      end
      local _, top = map(0, 400)
      local _, bottom = map(0, 0)
      assert.near(p.box[2] + 1 + (p.box[4] - p.box[2]) * 20 / 440, top, 1e-9)
      assert.near(p.box[4] + 1 - (p.box[4] - p.box[2]) * 20 / 440, bottom, 1e-9)
      -- a rising curve: the line's row in each column never goes down
      -- (rows grow downwards) by more than the anti-aliasing's half pixel
      local x0 = math.ceil(map(0, 0)) + 2
      local x1 = math.floor(map(20, 0)) - 2
      local last, columns = math.huge, 0
      for x = x0, x1 do
        local r = column_row(b, x, c, math.floor(p.box[2]) + 2, math.floor(p.box[4]))
        if r then
          columns = columns + 1
          assert(r <= last + 0.5, ("column %d: row %.2f below %.2f"):format(x, r, last))
          last = r
        end
      end
      assert(columns >= x1 - x0 - 1, "the line covers every column")
      -- the title is dark ink in the top rows
      local ink = 0
      for y = 1, 20 do for x = 1, 400 do if b[1][y][x] < 100 then ink = ink + 1 end end end
      assert(ink > 30, "title drawn")
    end)

    it("keeps limits it is given, and maps log axes in decades", function()
      local file = path("log.png")
      local layout = image.plot(file, { series = { { y = { 1000, 100, 10, 1 } } }, log = true, xlim = { 0, 5 } })
      local p = layout[1]
      assert.is_true(p.log)
      assert.same({ 0, 5 }, p.xlim)
      -- decades 1..1000 plus 5% of three decades each side
      assert.near(10 ^ -0.15, p.ylim[1], 1e-12)
      assert.near(10 ^ 3.15, p.ylim[2], 1e-9)
      local b = bytes(image.load(file))
      local map = mapper(p)
      local rows = {}
      for i, v in ipairs { 1000, 100, 10, 1 } do
        local px, py = map(i, v)
        assert(ink_near(b, px, py, image.palette[1], 1.5), "point " .. i)
        rows[i] = py
      end
      -- equal steps for equal ratios
      assert.near(rows[2] - rows[1], rows[3] - rows[2], 1e-9)
      assert.near(rows[3] - rows[2], rows[4] - rows[3], 1e-9)
      layout = image.plot(file, { series = { { y = { 1, 2 } } }, ylim = { 0, 10 } })
      assert.same({ 0, 10 }, layout[1].ylim)
    end)

    it("leaves a gap at NaN, inf and missing points, and draws a lone point as a dot", function()
      local file = path("gap.png")
      local nan, inf = 0 / 0, math.huge
      local layout = image.plot(file, { series = { { y = { 1, 2, 3, nan, 5, 6, inf, 8, 9 } } }, size = { 500, 300 } })
      local b = bytes(image.load(file))
      local p = layout[1]
      local map = mapper(p)
      local c = image.palette[1]
      local y0, y1 = math.floor(p.box[2]) + 2, math.floor(p.box[4])
      local function inked(xa, xb)
        local n = 0
        for x = math.ceil(xa), math.floor(xb) do if column_row(b, x, c, y0, y1) then n = n + 1 end end
        return n
      end
      -- nothing between points 3 and 5, nor 6 and 8, beyond the line's
      -- round caps (1 pixel) and anti-aliasing
      assert.equal(0, inked(map(3, 0) + 3, map(5, 0) - 3))
      assert.equal(0, inked(map(6, 0) + 3, map(8, 0) - 3))
      -- and the segments either side are drawn
      assert(inked(map(1, 0) + 2, map(3, 0) - 2) > 20)
      assert(inked(map(5, 0) + 2, map(6, 0) - 2) > 20)
      -- lone points between gaps, and a one-point series, are dots
      layout = image.plot(file, { series = { { y = { 1, nan, 3, nan, 5 } }, { name = "one", x = { 2 }, y = { 4 } } } })
      b = bytes(image.load(file))
      map = mapper(layout[1])
      for _, pt in ipairs { { 1, 1 }, { 3, 3 }, { 5, 5 } } do
        local qx, qy = map(pt[1], pt[2])
        assert(ink_near(b, qx, qy, c, 1), "dot at " .. pt[1])
      end
      local px, py = map(2, 4)
      assert(ink_near(b, px, py, image.palette[2], 1), "the one-point series")
      -- no line joins the dots
      assert.equal(0, (function()
        local n = 0
        local q = layout[1]
        local yy0, yy1 = math.floor(q.box[2]) + 2, math.floor(q.box[4])
        for x = math.ceil(map(1, 0) + 5), math.floor(map(3, 0) - 5) do
          if column_row(b, x, c, yy0, yy1) then n = n + 1 end
        end
        return n
      end)())
    end)

    it("draws a constant series as a level line in the middle of its axes", function()
      local file = path("flat.png")
      local layout = image.plot(file, { series = { { y = { 2, 2, 2, 2 } } } })
      local p = layout[1]
      -- a band of 10% either side, then the 5% margins
      assert.near(1.8 - 0.02, p.ylim[1], 1e-12)
      assert.near(2.2 + 0.02, p.ylim[2], 1e-12)
      local b = bytes(image.load(file))
      local map = mapper(p)
      local _, mid = map(1, 2)
      assert.near((p.box[2] + p.box[4]) / 2 + 1, mid, 1e-9)
      for x = math.ceil(map(1, 0)) + 2, math.floor(map(4, 0)) - 2, 7 do
        local r = column_row(b, x, image.palette[1], 1, 400)
        assert(r and math.abs(r - mid) <= 1.5, "column " .. x)
      end
    end)

    it("places the legend where it hides no data: a free corner, else beside the axes", function()
      local file = path("legend.png")
      local down = { name = "falling", y = { 5, 4, 3, 2, 1 } }
      local up = { name = "rising", y = { 1, 2, 3, 4, 5 } }
      local inside = image.plot(file, { series = { down } })[1]
      -- an X covers every corner, the sides' middles and the centre
      local xs = {}
      for i = 1, 41 do xs[i] = (i - 1) / 10 + 1 end
      local wave = {}
      for i, x in ipairs(xs) do wave[i] = 3 + 2 * math.sin(x * 6) end
      local beside = image.plot(file, { series = { down, up, { name = "wave", x = xs, y = wave } } })[1]
      -- beside the axes, the box is narrower by the legend's width
      assert(beside.box[3] < inside.box[3] - 40, ("box right %g vs %g"):format(beside.box[3], inside.box[3]))
      -- and every point of every series is still visible
      local b = bytes(image.load(file))
      local map = mapper(beside)
      for i = 1, 5 do
        assert(ink_near(b, select(1, map(i, 6 - i)), select(2, map(i, 6 - i)), image.palette[1], 1.5), "falling " .. i)
        assert(ink_near(b, select(1, map(i, i)), select(2, map(i, i)), image.palette[2], 1.5), "rising " .. i)
      end
      for i, x in ipairs(xs) do
        assert(ink_near(b, select(1, map(x, wave[i])), select(2, map(x, wave[i])), image.palette[3], 1.5), "wave " .. i)
      end
    end)

    it("lays panels out in a grid, each with its own axes", function()
      local file = path("panels.png")
      local layout = image.plot(file, { title = "run", xlabel = "epoch", panels = {
        { title = "loss", series = { { name = "train", y = { 3, 2, 1 } }, { name = "test", y = { 3.5, 2.5, 2 } } } },
        { title = "kl", series = { { y = { 1, 4, 9 } } }, log = true },
        { title = "lr", series = { { y = { 1e-3, 1e-3, 1e-4 } } } },
      } })
      local t = image.load(file)
      -- ⌈√3⌉ = 2 columns of 480, 2 rows of 320, and the title's 27
      assert.same({ 3, 2 * 320 + 27, 2 * 480 }, t:shape())
      assert.equal(3, #layout)
      local a, k, l = layout[1].box, layout[2].box, layout[3].box
      assert(k[1] > a[3] and math.abs(k[2] - a[2]) < 1, "panel 2 right of panel 1")
      assert(l[2] > a[4] and l[1] < a[3], "panel 3 under panel 1")
      assert.is_true(layout[2].log)
      -- each panel's curves inside its own box
      local b = bytes(t)
      for i, q in ipairs(layout) do
        local map = mapper(q)
        local ys = ({ { 3, 2, 1 }, { 1, 4, 9 }, { 1e-3, 1e-3, 1e-4 } })[i]
        for j, v in ipairs(ys) do
          assert(ink_near(b, select(1, map(j, v)), select(2, map(j, v)), image.palette[1], 1.5), ("panel %d point %d"):format(i, j))
        end
      end
      layout = image.plot(file, { cols = 3, size = { 900, 300 }, panels = {
        { series = { { y = { 1 } } } }, { series = { { y = { 1 } } } }, { series = { { y = { 1 } } } } } })
      assert(layout[3].box[1] > layout[2].box[3] and layout[2].box[1] > layout[1].box[3])
    end)

    it("refuses bad input clearly and writes nothing", function()
      local file = path("bad.png")
      local function plot_err(spec, p) return errors(function() image.plot(p or file, spec) end) end
      assert.matches("series must be a list", plot_err {}, 1, true)
      assert.matches("series[1] has 2 x values and 3 y values",
        plot_err { series = { { x = { 1, 2 }, y = { 1, 2, 3 } } } }, 1, true)
      assert.matches("series[2].y[2] is string, not a number",
        plot_err { series = { { y = { 1 } }, { y = { 1, "2" } } } }, 1, true)
      assert.matches("series[1] has no values", plot_err { series = { { y = {} } } }, 1, true)
      assert.matches("series[1] has no y values", plot_err { series = { { x = { 1 } } } }, 1, true)
      assert.matches("series[1].x must be a table or a tensor, got string",
        plot_err { series = { { x = "1", y = { 1 } } } }, 1, true)
      assert.matches("series[1].y must be 1-D, got 2×2", plot_err { series = { { y = ae.ones(2, 2) } } }, 1, true)
      assert.matches("unknown option 'titel'", plot_err { series = { { y = { 1 } } }, titel = "x" }, 1, true)
      assert.matches("panels[2].series must be a non-empty list",
        plot_err { panels = { { series = { { y = { 1 } } } }, { series = {} } } }, 1, true)
      assert.matches("not both", plot_err { series = { { y = { 1 } } }, panels = { { series = { { y = { 1 } } } } } }, 1, true)
      assert.matches("ylim must be {lo, hi} with lo < hi", plot_err { series = { { y = { 1 } } }, ylim = { 2, 1 } }, 1, true)
      assert.matches("ylim must be positive on a log axis",
        plot_err { series = { { y = { 1 } } }, log = true, ylim = { 0, 1 } }, 1, true)
      assert.matches("size 20000×100 is too large", plot_err { series = { { y = { 1 } } }, size = { 20000, 100 } }, 1, true)
      assert.matches("plot: path must be a string", errors(function() image.plot(nil, { series = { { y = { 1 } } } }) end), 1, true)
      assert.is_nil(io.open(file, "rb"))
      local e = plot_err({ series = { { y = { 1 } } } }, path("missing/dir/x.png"))
      assert.matches("png: cannot write " .. path("missing/dir/x.png") .. ": No such file or directory", e, 1, true)
      -- the C side checks too: a table core.plot cannot use is an error, not a crash
      local core = require "aerun.core"
      assert.matches("panels[1].series[1].y[1] is string", errors(function()
        core.plot(file, { panels = { { series = { { y = { "x" } } } } } }) end), 1, true)
      assert.matches("has 1 x values and 2 y values", errors(function()
        core.plot(file, { panels = { { series = { { x = { 1 }, y = { 1, 2 } } } } } }) end), 1, true)
      assert.matches("spec.panels must list 1 to", errors(function() core.plot(file, { panels = {} }) end), 1, true)
      assert.matches("size", errors(function() core.plot(file, { width = 1e300, panels = { { series = {} } } }) end), 1, true)
    end)
  end)

  describe("metric_groups", function()
    it("puts losses, regularisers, schedules and throughput in their panels, the rest each in one", function()
      local groups, skipped = image.metric_groups {
        "train_loss", "test_loss", "test_bce", "test_mse", "recon", "test_kl", "kl_loss", "l1_penalty", "beta_kl",
        "lr", "beta", "noise_std", "lambda", "learning_rate", "samples_per_second", "eval_samples_per_second",
        "seconds", "step", "epoch", "test_auc", "train_auc", "psnr", "grad_norm",
      }
      local by = {}
      for _, g in ipairs(groups) do by[g.title] = g end
      assert.same({ "loss", "KL / regularisers", "schedules", "throughput (samples/s)", "auc", "psnr", "grad_norm" },
        (function() local t = {} for i, g in ipairs(groups) do t[i] = g.title end return t end)())
      assert.same({ "train_loss", "test_loss", "test_bce", "test_mse", "recon" }, by.loss.names)
      assert.same({ "test_kl", "kl_loss", "l1_penalty", "beta_kl" }, by["KL / regularisers"].names)
      assert.same({ "lr", "beta", "noise_std", "lambda", "learning_rate" }, by.schedules.names)
      assert.same({ "samples_per_second", "eval_samples_per_second" }, by["throughput (samples/s)"].names)
      assert.same({ "test_auc", "train_auc" }, by.auc.names)
      assert.same({ "seconds", "step", "epoch" }, skipped)
      assert.same({}, (image.metric_groups {}))
      assert.matches("names[2] is number, not a string", errors(function() image.metric_groups { "a", 3 } end), 1, true)
    end)
  end)

  describe("plot_metrics", function()
    it("draws one panel per group, with gaps for missing epochs, skipping what is not numeric", function()
      local file = path("loss.png")
      local m = { train_loss = {}, test_loss = {}, test_kl = {}, lr = {}, beta = {}, seconds = {}, step = {},
        samples_per_second = {}, note = { "a", "b" } }
      for e = 1, 100 do
        m.train_loss[e] = 1 / e
        if e % 10 ~= 0 then m.test_loss[e] = 1.1 / e end
        m.test_kl[e] = 5 + e / 10
        m.lr[e] = 1e-3
        m.beta[e] = math.min(1, e / 50)
        m.seconds[e], m.step[e], m.samples_per_second[e] = 1.5, 100 * e, 2000 + e
      end
      local layout = image.plot_metrics(file, m, { title = "run" })
      -- loss, KL, schedules, throughput: a 2×2 grid
      assert.equal(4, #layout)
      assert.same({ 3, 667, 960 }, image.load(file):shape())
      -- train_loss falls 100×: a log axis
      assert.is_true(layout[1].log)
      assert.is_false(layout[2].log)
      -- the schedules panel holds lr and beta as fractions of their maxima
      assert(layout[3].ylim[1] < 0.05 and layout[3].ylim[2] > 1 and layout[3].ylim[2] < 1.1)
      local b = bytes(image.load(file))
      local map = mapper(layout[1])
      assert(ink_near(b, select(1, map(1, 1)), select(2, map(1, 1)), image.palette[1], 1.5))
      -- step as x
      layout = image.plot_metrics(file, m, { x = "step" })
      assert.near(100 - 0.05 * 9900, layout[1].xlim[1], 1e-9)
      assert.is_nil(image.plot_metrics(file, { seconds = { 1 } }))
      assert.matches("x = \"nope\" is not a numeric metric",
        errors(function() image.plot_metrics(file, m, { x = "nope" }) end), 1, true)
      assert.matches("metrics must be a table", errors(function() image.plot_metrics(file, 3) end), 1, true)
    end)
  end)
end)
