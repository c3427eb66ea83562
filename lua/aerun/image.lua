-- aerun.image: pictures of experiments as PNG files (ae.image).
--
--   save_grid(path, images, opts)   a grid of images, like torchvision's save_image
--   save(path, image, opts)         one H×W, 1×H×W or 3×H×W image
--   load(path)                      a PNG as a C×H×W tensor in [0, 1]
--   scatter(path, points, labels, opts)   an N×2 embedding coloured by label
--   plot(path, spec)                curves (losses per epoch) with axes and a legend
--
-- The pixels are drawn in C on a canvas (ae.canvas: rect, line, disc, text
-- in a 5×7 bitmap font, blit); this module lays the pictures out.  Every
-- file is written beside its target and renamed into place.

--- Pictures of experiments as PNG files: `ae.image`.  Every file is
-- written beside its target and renamed into place.
-- @module aerun.image

--- A grid of images, like torchvision's save_image.
-- @param path a .png
-- @param images N×H×W, N×C×H×W, or N×D with `shape`
-- @param[opt] opts `{nrow = 8, padding = 2, pad_value = 0, shape = {h, w}, normalize = false, range = {lo, hi}, scale_each = false}`
-- @raise on no images, an unknown option or a shape that does not fit
-- @usage ae.image.save_grid("grid.png", ae.rand(16, 784), { shape = { 28, 28 } })
-- @function save_grid

--- One H×W, 1×H×W or 3×H×W image in [0, 1].
-- @param path a .png
-- @param image a tensor
-- @param[opt] opts
-- @usage ae.image.save("one.png", ae.rand(28, 28)); assert(ae.image.load("one.png"):size(2) == 28)
-- @function save

--- A PNG or JPEG as a C×H×W tensor in [0, 1].
-- @param path
-- @return a tensor
-- @raise when the file is not a picture (naming it)
-- @usage ae.image.save("one.png", ae.rand(1, 4, 6)); assert(ae.image.load("one.png"):size(3) == 6)
-- @function load

--- An N×2 embedding coloured by label (non-finite points skipped).
-- @param path a .png
-- @param points N×2
-- @param[opt] labels N
-- @param[opt] opts `{size = 512, point = 2, title, xlabel, ylabel, legend = true}`
-- @usage ae.image.scatter("latent.png", ae.randn(50, 2), ae.arange(50):gt(24))
-- @function scatter

--- Curves with axes and a legend (non-finite values break a line).
-- @param path a .png
-- @param spec `{series = {{name =, x =, y =}, ...}, title, xlabel, ylabel, size = {640, 400}, xlim, ylim}`
-- @raise when series is empty or an option is unknown
-- @usage ae.image.plot("loss.png", { series = { { name = "train", y = { 3, 2, 1.5 } } }, xlabel = "epoch" })
-- @function plot

--- A canvas to draw on (from `ae.canvas(w, h[, channels, background])`).
-- Colours are a number 0..255, `{r, g, b}` or `"#rrggbb"`.
-- @type Canvas

--- The width, height and channels.
-- @return w, h, channels
-- @usage local w, h = ae.canvas(8, 4):size(); assert(w == 8 and h == 4)
-- @function Canvas:size

--- Fills a rectangle.
-- @param x0
-- @param y0
-- @param x1
-- @param y1
-- @param colour
-- @usage local c = ae.canvas(8, 8); c:rect(0, 0, 3, 3, { 255, 0, 0 })
-- @function Canvas:rect

--- Draws a line.
-- @param x0
-- @param y0
-- @param x1
-- @param y1
-- @param colour
-- @param[opt=1] width 1..100
-- @usage ae.canvas(8, 8):line(0, 0, 7, 7, 255, 2)
-- @function Canvas:line

--- Fills a disc.
-- @param x
-- @param y
-- @param r radius 0..1000
-- @param colour
-- @usage ae.canvas(8, 8):disc(4, 4, 2, 200)
-- @function Canvas:disc

--- Writes text in the 5×7 bitmap font.
-- @param x
-- @param y
-- @param s
-- @param colour
-- @param[opt=1] scale 1..64
-- @param[opt=false] vertical
-- @return the advance in pixels
-- @usage assert(ae.canvas(64, 16):text(1, 1, "hi", 255) > 0)
-- @function Canvas:text

--- Draws an image tensor (values lo..hi mapped to 0..255) at x, y.
-- @param image C×H×W or H×W
-- @param x
-- @param y
-- @param[opt=0] lo
-- @param[opt=1] hi
-- @usage ae.canvas(8, 8):blit(ae.rand(1, 4, 4), 2, 2)
-- @function Canvas:blit

--- Limits later drawing to a rectangle; `clip()` lifts it.
-- @param[opt] x0
-- @param[opt] y0
-- @param[opt] x1
-- @param[opt] y1
-- @usage local c = ae.canvas(8, 8); c:clip(0, 0, 3, 3); c:clip()
-- @function Canvas:clip

--- Writes the canvas as a PNG.
-- @param path
-- @usage ae.canvas(8, 8, 3, "#ffffff"):save("c.png"); assert(ae.image.load("c.png"):size(1) == 3)
-- @function Canvas:save

--- The pixels as a C×H×W tensor in [0, 1].
-- @return a tensor
-- @usage assert(ae.canvas(4, 2, 1):totensor():size(2) == 2)
-- @function Canvas:totensor

--- Frees the pixels now rather than at garbage collection.
-- @usage local c = ae.canvas(4, 4); c:free(); assert(not pcall(c.size, c))
-- @function Canvas:free

local core = require "aerun.core"

local M = {}

local tensor_mt = debug.getregistry()["aerun.Tensor"]
local function is_tensor(v) return getmetatable(v) == tensor_mt end

-- matplotlib's "tab10", the colours of labels 0..9
M.palette = {
  { 31, 119, 180 }, { 255, 127, 14 }, { 44, 160, 44 }, { 214, 39, 40 }, { 148, 103, 189 },
  { 140, 86, 75 }, { 227, 119, 194 }, { 127, 127, 127 }, { 188, 189, 34 }, { 23, 190, 207 },
}

local INK, GRID, FRAME = 30, 225, 0

local function shape_str(t) return table.concat(t:shape(), "×") end

local options = require("aerun.guard").options

local function integer(fname, name, v, default, min)
  if v == nil then return default end
  if math.type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) then
    error(("%s: %s must be an integer, got %s"):format(fname, name, tostring(v)))
  end
  if v < min then error(("%s: %s must be at least %d, got %d"):format(fname, name, min, v)) end
  return math.tointeger(v)
end

-- saves and frees the canvas, whether the save works or not
local function save_canvas(canvas, path)
  local ok, err = pcall(canvas.save, canvas, path)
  canvas:free()
  if not ok then error(err, 0) end   -- as raised: the guard positions it
end

local function check_path(fname, path)
  if type(path) ~= "string" then
    error(("%s: path must be a string, got %s"):format(fname, type(path)))
  end
end

-- the value range an image's [lo, hi] maps to 0..255 from: [0, 1] unless
-- normalize, then opts.range or the tensor's own min and max
local function value_range(fname, t, opts)
  local range = opts.range or opts.value_range
  if range ~= nil and (type(range) ~= "table" or type(range[1]) ~= "number" or type(range[2]) ~= "number") then
    error(fname .. ": range must be {lo, hi}")
  end
  if not opts.normalize then return 0, 1 end
  if range then return range[1], range[2] end
  return (t:min()), (t:max())
end

-- images as N×C×H×W: N×D (D = H·W, or C·H·W, from opts.shape; a square D
-- needs none), N×H×W, N×1×H×W or N×3×H×W
local function as_batch(fname, images, shape)
  local d = images:dim()
  if d == 2 then
    local n, len = images:size(1), images:size(2)
    if shape == nil then
      local side = math.tointeger(math.floor(math.sqrt(len) + 0.5))
      if side * side ~= len then
        error(("%s: images %s are rows of %d values, not a square; give opts.shape = {H, W} or {C, H, W}")
          :format(fname, shape_str(images), len))
      end
      shape = { side, side }
    end
    if type(shape) ~= "table" or (#shape ~= 2 and #shape ~= 3) then
      error(fname .. ": shape must be {H, W} or {C, H, W}")
    end
    local c, h, w = 1, shape[1], shape[2]
    if #shape == 3 then c, h, w = shape[1], shape[2], shape[3] end
    if c * h * w ~= len then
      error(("%s: shape {%s} holds %d values but each row of images %s has %d")
        :format(fname, table.concat(shape, ", "), c * h * w, shape_str(images), len))
    end
    images = images:reshape(n, c, h, w)
  elseif d == 3 then
    images = images:reshape(images:size(1), 1, images:size(2), images:size(3))
  elseif d ~= 4 then
    error(("%s: images must be N×D, N×H×W, N×1×H×W or N×3×H×W, got %s")
      :format(fname, shape_str(images)))
  end
  local c = images:size(2)
  if c ~= 1 and c ~= 3 then
    error(("%s: images %s have %d channels; only 1 (gray) or 3 (RGB) make a PNG")
      :format(fname, shape_str(images), c))
  end
  if images:size(1) < 1 then error(fname .. ": no images to save") end
  return images
end

local GRID_OPTIONS = {
  nrow = true, padding = true, pad_value = true, shape = true, normalize = true, range = true,
  value_range = true, scale_each = true,
}

-- ae.image.save_grid(path, images, {nrow = 8, padding = 2, pad_value = 0,
--   shape = {28, 28}, normalize = false, range = {lo, hi}, scale_each = false})
-- Image k (from 0) sits in row k // nrow, column k % nrow, with padding
-- pixels of pad_value around every tile, as torchvision.utils.save_image.
function M.save_grid(path, images, opts)
  check_path("save_grid", path)
  if not is_tensor(images) then error("save_grid: images must be a tensor, got " .. type(images)) end
  opts = options("save_grid", opts, GRID_OPTIONS)
  local nrow = integer("save_grid", "nrow", opts.nrow, 8, 1)
  local padding = integer("save_grid", "padding", opts.padding, 2, 0)
  local pad = opts.pad_value or 0
  if type(pad) ~= "number" then error("save_grid: pad_value must be a number") end
  local batch = as_batch("save_grid", images:detach(), opts.shape)
  local n, c, h, w = table.unpack(batch:shape())
  local cols = math.min(nrow, n)
  local rows = (n + cols - 1) // cols
  local lo, hi = value_range("save_grid", batch, opts)
  -- the padding byte, rounded as the tiles are (pad_value is not normalised)
  local pad_byte = math.floor(math.max(0, math.min(1, pad)) * 255 + 0.5)
  local canvas = core.canvas(cols * (w + padding) + padding, rows * (h + padding) + padding, c, pad_byte)
  for k = 0, n - 1 do
    local tile = batch:narrow(1, k + 1, 1):reshape(c, h, w)
    local tlo, thi = lo, hi
    if opts.scale_each and opts.normalize and not (opts.range or opts.value_range) then
      tlo, thi = tile:min(), tile:max()
    end
    canvas:blit(tile, padding + (k % cols) * (w + padding), padding + (k // cols) * (h + padding), tlo, thi)
  end
  save_canvas(canvas, path)
end

-- ae.image.save(path, image, {normalize = false, range = {lo, hi}})
function M.save(path, image, opts)
  check_path("save", path)
  if not is_tensor(image) then error("save: image must be a tensor, got " .. type(image)) end
  opts = options("save", opts, { normalize = true, range = true, value_range = true })
  local d = image:dim()
  if not (d == 2 or (d == 3 and (image:size(1) == 1 or image:size(1) == 3))) then
    error("save: image must be H×W, 1×H×W or 3×H×W, got " .. shape_str(image))
  end
  local h, w = image:size(d - 1), image:size(d)
  local c = d == 3 and image:size(1) or 1
  local lo, hi = value_range("save", image, opts)
  local canvas = core.canvas(w, h, c)
  canvas:blit(image:detach(), 0, 0, lo, hi)
  save_canvas(canvas, path)
end

-- a PNG (gray, RGB, palette; any depth; alpha dropped) as C×H×W in [0, 1]
function M.load(path)
  check_path("load", path)
  local t = core.png_read(path)
  return t
end

-- ------------------------------------------------------------- axes

-- "nice" ticks (1, 2 or 5 times a power of ten): the axis grows to the
-- ticks around [lo, hi], or keeps exactly [lo, hi] (limits the user gave)
-- with the ticks inside
local function ticks_for(lo, hi, count, exact)
  if not (hi > lo) then
    local pad = lo ~= 0 and math.abs(lo) * 0.1 or 1
    lo, hi = lo - pad, hi + pad
  end
  local raw = (hi - lo) / count
  local mag = 10 ^ math.floor(math.log(raw, 10))
  local f = raw / mag
  local step = (f < 1.5 and 1 or f < 3 and 2 or f < 7 and 5 or 10) * mag
  local a, b
  if exact then
    a, b = math.ceil(lo / step - 1e-9) * step, math.floor(hi / step + 1e-9) * step
  else
    a, b = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
    lo, hi = a, b
  end
  local ticks = {}
  for i = 0, math.floor((b - a) / step + 0.5) do
    local v = a + i * step
    if math.abs(v) < step * 1e-9 then v = 0 end
    ticks[#ticks + 1] = v
  end
  return { lo = lo, hi = hi, ticks = ticks }
end

local function tick_label(v)
  local s = ("%.6g"):format(v)
  return (s:gsub("e%+0*(%d)", "e%1"):gsub("e%-0*(%d)", "e-%1"))
end

local function finite(v) return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge end

-- Lays out and draws the frame of a plot on canvas: grid, frame, ticks,
-- tick labels, title and axis labels.  Returns the box {x0, y0, x1, y1}
-- and a function from data (x, y) to pixels.
local function draw_axes(canvas, xa, ya, spec, right_margin)
  local W, H = canvas:size()
  local ylabels, ywidth = {}, 0
  for i, v in ipairs(ya.ticks) do
    ylabels[i] = tick_label(v)
    ywidth = math.max(ywidth, core.text_width(ylabels[i]))
  end
  local left = ywidth + 12 + (spec.ylabel and 14 or 0)
  local top = spec.title and 30 or 12
  local bottom = 20 + (spec.xlabel and 14 or 0)
  local x0, y0, x1, y1 = left, top, W - (right_margin or 16), H - bottom
  if x1 - x0 < 10 or y1 - y0 < 10 then
    error(("image: %d×%d pixels leave no room for the plot"):format(W, H))
  end
  local function px(x) return x0 + (x - xa.lo) / (xa.hi - xa.lo) * (x1 - x0) end
  local function py(y) return y1 - (y - ya.lo) / (ya.hi - ya.lo) * (y1 - y0) end
  for _, v in ipairs(xa.ticks) do
    local x = math.floor(px(v) + 0.5)
    canvas:line(x, y0, x, y1, GRID)
    canvas:line(x, y1, x, y1 + 4, FRAME)
    local s = tick_label(v)
    canvas:text(x - core.text_width(s) // 2 + 1, y1 + 7, s, INK)
  end
  for i, v in ipairs(ya.ticks) do
    local y = math.floor(py(v) + 0.5)
    canvas:line(x0, y, x1, y, GRID)
    canvas:line(x0 - 4, y, x0, y, FRAME)
    canvas:text(x0 - 7 - core.text_width(ylabels[i]), y - 3, ylabels[i], INK)
  end
  canvas:line(x0, y0, x1, y0, FRAME)
  canvas:line(x0, y1, x1, y1, FRAME)
  canvas:line(x0, y0, x0, y1, FRAME)
  canvas:line(x1, y0, x1, y1, FRAME)
  if spec.title then
    local s = tostring(spec.title)
    canvas:text((x0 + x1) // 2 - core.text_width(s, 2) // 2, 8, s, INK, 2)
  end
  if spec.xlabel then
    local s = tostring(spec.xlabel)
    canvas:text((x0 + x1) // 2 - core.text_width(s) // 2, H - 11, s, INK)
  end
  if spec.ylabel then
    local s = tostring(spec.ylabel)
    canvas:text(4, (y0 + y1) // 2 + core.text_width(s) // 2, s, INK, 1, true)
  end
  return { x0, y0, x1, y1 }, function(x, y) return px(x), py(y) end
end

-- a legend: rows of (swatch, name) in a box with its top-right at (x, y)
local function legend_size(names)
  local w = 0
  for _, s in ipairs(names) do w = math.max(w, core.text_width(s)) end
  return w + 30, #names * 12 + 8
end

local function draw_legend(canvas, x, y, names, colors, swatch)
  local w, h = legend_size(names)
  canvas:rect(x - w, y, x, y + h, 255)
  canvas:line(x - w, y, x - 1, y, 160)
  canvas:line(x - w, y + h - 1, x - 1, y + h - 1, 160)
  canvas:line(x - w, y, x - w, y + h - 1, 160)
  canvas:line(x - 1, y, x - 1, y + h - 1, 160)
  for i, name in ipairs(names) do
    local ty = y + 5 + (i - 1) * 12
    if swatch == "dot" then
      canvas:disc(x - w + 12, ty + 3, 3, colors[i])
    else
      canvas:line(x - w + 6, ty + 3, x - w + 20, ty + 3, colors[i], 3)
    end
    canvas:text(x - w + 25, ty, name, INK)
  end
end

local function size_option(fname, v, default)
  if v == nil then return default[1], default[2] end
  if type(v) == "number" then v = { v, v } end
  if type(v) ~= "table" then error(fname .. ": size must be a number or {width, height}") end
  return integer(fname, "width", v[1], nil, 16), integer(fname, "height", v[2], nil, 16)
end

-- a list of numbers from a Lua table or a 1-D tensor
local function numbers(fname, what, v)
  if is_tensor(v) then
    if v:dim() ~= 1 then error(("%s: %s must be 1-D, got %s"):format(fname, what, shape_str(v))) end
    return v:totable()
  end
  if type(v) ~= "table" then error(("%s: %s must be a table or a tensor, got %s"):format(fname, what, type(v))) end
  for i, x in ipairs(v) do
    if type(x) ~= "number" then error(("%s: %s[%d] is %s, not a number"):format(fname, what, i, type(x))) end
  end
  return v
end

-- ------------------------------------------------------------- scatter

local SCATTER_OPTIONS = { size = true, point = true, title = true, xlabel = true, ylabel = true, legend = true }

-- ae.image.scatter(path, points (N×2), labels (N, or nil), {size = 512, point = 2,
--   title, xlabel, ylabel, legend = true}): label l is drawn in palette
-- colour l % 10; non-finite points are skipped
function M.scatter(path, points, labels, opts)
  check_path("scatter", path)
  opts = options("scatter", opts, SCATTER_OPTIONS)
  if not is_tensor(points) or points:dim() ~= 2 or points:size(2) ~= 2 then
    error("scatter: points must be an N×2 tensor, got " ..
      (is_tensor(points) and shape_str(points) or type(points)))
  end
  local n = points:size(1)
  local pts = points:detach():totable()
  local labs
  if labels ~= nil then
    labs = numbers("scatter", "labels", labels)
    if #labs ~= n then
      error(("scatter: %d labels for %d points"):format(#labs, n))
    end
    for i, l in ipairs(labs) do
      if not finite(l) then error(("scatter: label %d is %s, not a finite number"):format(i, tostring(l))) end
    end
  end
  local W, H = size_option("scatter", opts.size, { 512, 512 })
  local radius = opts.point or 2
  if type(radius) ~= "number" or radius < 0 or radius > 100 then error("scatter: point must be a radius in 0..100") end
  local xmin, xmax, ymin, ymax = math.huge, -math.huge, math.huge, -math.huge
  for _, p in ipairs(pts) do
    if finite(p[1]) and finite(p[2]) then
      xmin, xmax = math.min(xmin, p[1]), math.max(xmax, p[1])
      ymin, ymax = math.min(ymin, p[2]), math.max(ymax, p[2])
    end
  end
  if xmin > xmax then xmin, xmax, ymin, ymax = 0, 1, 0, 1 end
  local mx, my = (xmax - xmin) * 0.05, (ymax - ymin) * 0.05
  local xa, ya = ticks_for(xmin - mx, xmax + mx, 5), ticks_for(ymin - my, ymax + my, 5)
  -- the distinct labels, for colours and the legend
  local names, colors = {}, {}
  if labs then
    local seen, list = {}, {}
    for _, l in ipairs(labs) do
      local k = math.floor(l)
      if not seen[k] then seen[k] = true; list[#list + 1] = k end
    end
    table.sort(list)
    for i, k in ipairs(list) do
      names[i], colors[i] = tostring(k), M.palette[k % 10 + 1]
    end
  end
  -- a legend of more than 20 labels would not fit, nor mean much
  local show_legend = labs and opts.legend ~= false and #names <= 20
  local lw = show_legend and (legend_size(names)) or 0
  local canvas = core.canvas(W, H, 3, 255)
  local box, map = draw_axes(canvas, xa, ya, opts, show_legend and lw + 24 or 16)
  canvas:clip(box[1] + 1, box[2] + 1, box[3], box[4])
  for i, p in ipairs(pts) do
    if finite(p[1]) and finite(p[2]) then
      local color = labs and M.palette[math.floor(labs[i]) % 10 + 1] or M.palette[1]
      local x, y = map(p[1], p[2])
      canvas:disc(x, y, radius, color)
    end
  end
  canvas:clip()
  if show_legend then draw_legend(canvas, W - 8, box[2], names, colors, "dot") end
  save_canvas(canvas, path)
end

-- ------------------------------------------------------------- plot

local PLOT_OPTIONS = {
  series = true, title = true, xlabel = true, ylabel = true, size = true, xlim = true, ylim = true,
}

-- ae.image.plot(path, {series = {{name = "train", x = {...}, y = {...}}, ...},
--   title, xlabel, ylabel, size = {640, 400}, xlim = {lo, hi}, ylim = {lo, hi}})
-- x defaults to 1, 2, ...; non-finite values break a line
function M.plot(path, spec)
  check_path("plot", path)
  spec = options("plot", spec, PLOT_OPTIONS)
  local series = spec.series
  if type(series) ~= "table" or #series == 0 then error("plot: spec.series must be a list of {name, x, y}") end
  local W, H = size_option("plot", spec.size, { 640, 400 })
  local all = {}
  local xmin, xmax, ymin, ymax = math.huge, -math.huge, math.huge, -math.huge
  for i, s in ipairs(series) do
    if type(s) ~= "table" then error(("plot: series[%d] must be a table {name, x, y}"):format(i)) end
    local ys = numbers("plot", ("series[%d].y"):format(i), s.y)
    local xs = s.x and numbers("plot", ("series[%d].x"):format(i), s.x)
    if xs == nil then
      xs = {}
      for j = 1, #ys do xs[j] = j end
    end
    if #xs ~= #ys then
      error(("plot: series[%d] has %d x values and %d y values"):format(i, #xs, #ys))
    end
    for j = 1, #ys do
      if finite(xs[j]) and finite(ys[j]) then
        xmin, xmax = math.min(xmin, xs[j]), math.max(xmax, xs[j])
        ymin, ymax = math.min(ymin, ys[j]), math.max(ymax, ys[j])
      end
    end
    all[i] = { name = s.name and tostring(s.name), x = xs, y = ys, color = M.palette[(i - 1) % 10 + 1] }
  end
  if xmin > xmax then xmin, xmax, ymin, ymax = 0, 1, 0, 1 end
  for _, lim in ipairs { "xlim", "ylim" } do
    local v = spec[lim]
    if v ~= nil and (type(v) ~= "table" or not finite(v[1]) or not finite(v[2]) or not (v[2] > v[1])) then
      error(("plot: %s must be {lo, hi} with lo < hi"):format(lim))
    end
  end
  if spec.xlim then xmin, xmax = spec.xlim[1], spec.xlim[2] end
  if spec.ylim then ymin, ymax = spec.ylim[1], spec.ylim[2] end
  local xa, ya = ticks_for(xmin, xmax, 6, spec.xlim), ticks_for(ymin, ymax, 5, spec.ylim)
  local canvas = core.canvas(W, H, 3, 255)
  local box, map = draw_axes(canvas, xa, ya, spec)
  canvas:clip(box[1] + 1, box[2] + 1, box[3], box[4])
  for _, s in ipairs(all) do
    local px, py
    for j = 1, #s.y do
      if finite(s.x[j]) and finite(s.y[j]) then
        local x, y = map(s.x[j], s.y[j])
        if px then canvas:line(px, py, x, y, s.color, 2) else canvas:disc(x, y, 1, s.color) end
        px, py = x, y
      else
        px = nil
      end
    end
  end
  canvas:clip()
  local names, colors = {}, {}
  for _, s in ipairs(all) do
    if s.name then names[#names + 1], colors[#colors + 1] = s.name, s.color end
  end
  if #names > 0 then draw_legend(canvas, box[3] - 6, box[2] + 6, names, colors, "line") end
  save_canvas(canvas, path)
end

return require("aerun.guard").module("ae.image", M)
