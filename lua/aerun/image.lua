-- aerun.image: pictures of experiments as PNG files (ae.image).
--
--   save_grid(path, images, opts)   a grid of images, like torchvision's save_image
--   save(path, image, opts)         one H×W, 1×H×W or 3×H×W image
--   load(path)                      a PNG as a C×H×W tensor in [0, 1]
--   scatter(path, points, labels, opts)   an N×2 embedding coloured by label
--   plot(path, spec)                curves with axes and a legend, one panel or a grid
--   plot_metrics(path, metrics, opts)   every numeric metric of a run, grouped into panels
--   metric_groups(names)            which panel each metric goes to
--
-- Image grids are laid out on a canvas (ae.canvas: rect, blit, in C);
-- plots are drawn by cairo (runtime/io/plot.c).  Every file is written
-- beside its target and renamed into place.

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

--- Curves with axes and a legend, drawn with cairo: one panel, or a grid
-- of panels.  Non-finite values (and values <= 0 on a log axis) break a
-- line; a point between two gaps is drawn as a dot.
-- @param path a .png
-- @param spec one panel: `{series = {{name =, x =, y =, color =, width =}, ...}, title, xlabel, ylabel,
--   log = false, xlim = {lo, hi}, ylim = {lo, hi}, legend = true, size = {640, 400}}`; or a grid:
--   `{panels = {{title =, xlabel =, ylabel =, log =, xlim =, ylim =, legend =, series = {...}}, ...},
--   title, xlabel, ylabel, cols, size}` (the grid's xlabel and ylabel are the panels' defaults; x
--   defaults to 1, 2, ...; y and x are lists of numbers or 1-D tensors)
-- @return the panels' layout: `{{box = {x0, y0, x1, y1}, xlim = {lo, hi}, ylim = {lo, hi}, log =}, ...}`,
--   the axes in pixels and the data values at their edges
-- @raise when a series is empty, x and y differ in length, a value is not a number, an option is
--   unknown or the file cannot be written
-- @usage ae.image.plot("loss.png", { series = { { name = "train", y = { 3, 2, 1.5 } } }, xlabel = "epoch" })
-- @function plot

--- Plots every numeric metric of a run, grouped into panels by
-- metric_groups: losses, KL and regularisers, schedules, throughput,
-- then the others.
-- @param path a .png
-- @param metrics name -> list of values per epoch (run.metrics); missing
--   epochs and non-finite values leave gaps, names whose values are not
--   numbers are left out
-- @param[opt] opts `{title, x = "epoch", names = {...}, size = {w, h}, cols}`:
--   x is "epoch" (values by position) or the name of a metric to use as
--   x (such as "step"); names gives the order (default: sorted)
-- @return the panels' layout (as plot), or nil when there was nothing to plot
-- @usage ae.image.plot_metrics("loss.png", { train_loss = { 3, 2, 1.5 }, lr = { 1e-3, 1e-3, 5e-4 } })
-- @function plot_metrics

--- Which panel of plot_metrics each metric goes to (the rules are in
-- docs/images.md): losses, KL and regularisers, schedules (learning rate,
-- β, noise, λ), throughput, then one panel for each other metric (train_
-- and test_ versions together); epoch, step and timings are left out.
-- @param names a list of metric names, in the order they should appear
-- @return a list of groups `{key =, title =, names = {...}}` in panel
--   order, and the list of names not plotted
-- @usage local g = ae.image.metric_groups { "train_loss", "test_kl", "lr", "seconds" }; assert(g[2].names[1] == "test_kl")
-- @function metric_groups

--- A canvas to lay images out on (from `ae.canvas(w, h[, channels, background])`).
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

-- ------------------------------------------------------------- plots

-- The plots are drawn in C with cairo (runtime/io/plot.c, core.plot):
-- anti-aliased lines, real text, 1-2-5 ticks, a legend in a free corner
-- of the axes (else beside them).  This part checks the spec, gives the
-- errors a script should see, and picks sizes and colours.

local function finite(v) return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge end

local function size_option(fname, v, default)
  if v == nil then return default[1], default[2] end
  if type(v) == "number" then v = { v, v } end
  if type(v) ~= "table" then error(fname .. ": size must be a number or {width, height}") end
  local w, h = integer(fname, "width", v[1], nil, 16), integer(fname, "height", v[2], nil, 16)
  if w == nil or h == nil then error(fname .. ": size must be a number or {width, height}") end
  if w > 16384 or h > 16384 then error(("%s: size %d×%d is too large (at most 16384 a side)"):format(fname, w, h)) end
  return w, h
end

-- a list of numbers from a Lua table or a 1-D tensor
local function numbers(fname, what, v)
  if is_tensor(v) then
    if v:dim() ~= 1 then error(("%s: %s must be 1-D, got %s"):format(fname, what, shape_str(v))) end
    return v:detach():totable()
  end
  if type(v) ~= "table" then error(("%s: %s must be a table or a tensor, got %s"):format(fname, what, type(v))) end
  local n = #v
  for i = 1, n do
    if type(v[i]) ~= "number" then error(("%s: %s[%d] is %s, not a number"):format(fname, what, i, type(v[i]))) end
  end
  return v
end

local function limits(fname, what, v)
  if v ~= nil and (type(v) ~= "table" or not finite(v[1]) or not finite(v[2]) or not (v[2] > v[1])) then
    error(("%s: %s must be {lo, hi} with lo < hi"):format(fname, what))
  end
  return v
end

local function text(fname, what, v)
  if v == nil then return nil end
  if type(v) ~= "string" and type(v) ~= "number" then
    error(("%s: %s must be a string, got %s"):format(fname, what, type(v)))
  end
  return tostring(v)
end

local SERIES_OPTIONS = { name = true, x = true, y = true, color = true, width = true }

-- one series, checked, as core.plot takes it; colour k of the palette
-- unless it names its own
local function check_series(fname, what, s, k)
  if type(s) ~= "table" then error(("%s: %s must be a table {name, x, y}"):format(fname, what)) end
  options(fname .. ": " .. what, s, SERIES_OPTIONS)
  if s.y == nil then error(("%s: %s has no y values"):format(fname, what)) end
  local ys = numbers(fname, what .. ".y", s.y)
  if #ys == 0 then error(("%s: %s has no values (an empty y)"):format(fname, what)) end
  local xs = s.x ~= nil and numbers(fname, what .. ".x", s.x) or nil
  if xs and #xs ~= #ys then
    error(("%s: %s has %d x values and %d y values"):format(fname, what, #xs, #ys))
  end
  local width = s.width
  if width ~= nil and not (type(width) == "number" and width > 0 and width <= 20) then
    error(("%s: %s.width must be a line width in (0, 20] pixels"):format(fname, what))
  end
  return { name = text(fname, what .. ".name", s.name), x = xs, y = ys, size = width,
    color = s.color or M.palette[(k - 1) % #M.palette + 1] }
end

local PANEL_OPTIONS = {
  series = true, title = true, xlabel = true, ylabel = true, log = true, xlim = true, ylim = true, legend = true,
}

local function check_panel(fname, where, p, defaults)
  local ctx = fname .. ": " .. where
  if type(p) ~= "table" then error(("%s: %s must be a table"):format(fname, where)) end
  options(ctx, p, PANEL_OPTIONS)
  if type(p.series) ~= "table" or #p.series == 0 then
    error(("%s: %s.series must be a non-empty list of {name, x, y}"):format(fname, where))
  end
  local out = {
    title = text(fname, where .. ".title", p.title),
    xlabel = text(fname, where .. ".xlabel", p.xlabel or defaults.xlabel),
    ylabel = text(fname, where .. ".ylabel", p.ylabel or defaults.ylabel),
    log = p.log == true, legend = p.legend ~= false,
    xlim = limits(fname, where .. ".xlim", p.xlim or defaults.xlim),
    ylim = limits(fname, where .. ".ylim", p.ylim or defaults.ylim),
    series = {},
  }
  if p.log ~= nil and type(p.log) ~= "boolean" then error(("%s: %s.log must be a boolean"):format(fname, where)) end
  if out.log and out.ylim and out.ylim[1] <= 0 then
    error(("%s: %s.ylim must be positive on a log axis"):format(fname, where))
  end
  for i, s in ipairs(p.series) do
    out.series[i] = check_series(fname, ("%s.series[%d]"):format(where, i), s, i)
  end
  return out
end

-- the grid: ⌈√n⌉ panels a row unless cols says
local function grid(n, cols)
  cols = cols or math.ceil(math.sqrt(n) - 1e-9)
  cols = math.min(cols, n)
  return cols, (n + cols - 1) // cols
end

local function draw(fname, path, spec)
  local ok, layout = pcall(core.plot, path, spec)
  if not ok then error((tostring(layout):gsub("^plot:", fname .. ":")), 0) end
  return layout
end

local PLOT_OPTIONS = {
  series = true, panels = true, title = true, xlabel = true, ylabel = true, size = true, xlim = true, ylim = true,
  log = true, legend = true, cols = true,
}

-- ae.image.plot(path, spec): one panel from spec.series, or a grid of
-- spec.panels (see the doc comment above); returns where each panel's
-- axes landed, {{box = {x0, y0, x1, y1}, xlim = {lo, hi}, ylim = {lo, hi},
-- log = bool}, ...}, in pixels and data values
function M.plot(path, spec)
  check_path("plot", path)
  spec = options("plot", spec, PLOT_OPTIONS)
  local panels = {}
  if spec.panels ~= nil then
    if spec.series ~= nil then error("plot: give spec.series (one panel) or spec.panels, not both") end
    if type(spec.panels) ~= "table" or #spec.panels == 0 then
      error("plot: spec.panels must be a non-empty list of {title, series, ...}")
    end
    for i, p in ipairs(spec.panels) do
      panels[i] = check_panel("plot", ("panels[%d]"):format(i), p, spec)
    end
  else
    local series = spec.series
    if type(series) ~= "table" or #series == 0 then error("plot: spec.series must be a list of {name, x, y}") end
    local one = check_panel("plot", "spec", {
      series = series, log = spec.log, legend = spec.legend,
    }, spec)
    one.title = text("plot", "title", spec.title)
    panels[1] = one
  end
  local cols = spec.cols ~= nil and integer("plot", "cols", spec.cols, nil, 1) or nil
  local c, r = grid(#panels, cols)
  local title = spec.panels and text("plot", "title", spec.title) or nil
  local W, H
  if #panels == 1 then
    W, H = size_option("plot", spec.size, { 640, 400 })
  else
    W, H = size_option("plot", spec.size, { c * 480, r * 320 + (title and 27 or 0) })
  end
  return draw("plot", path, { width = W, height = H, cols = c, title = title, panels = panels })
end

-- ------------------------------------------------------------- scatter

local SCATTER_OPTIONS = { size = true, point = true, title = true, xlabel = true, ylabel = true, legend = true }

-- ae.image.scatter(path, points (N×2), labels (N, or nil), {size = 512, point = 2,
--   title, xlabel, ylabel, legend = true}): label l is drawn in palette
-- colour l % 10; non-finite points are skipped; more than 20 labels get
-- no legend
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
  -- one series of points a label, in the labels' order
  local by, order = {}, {}
  for i, p in ipairs(pts) do
    local k = labs and math.floor(labs[i]) or 0
    local s = by[k]
    if not s then
      s = { x = {}, y = {} }
      by[k], order[#order + 1] = s, k
    end
    s.x[#s.x + 1], s.y[#s.y + 1] = p[1], p[2]
  end
  table.sort(order)
  local series = {}
  for i, k in ipairs(order) do
    series[i] = { name = labs and tostring(k) or nil, x = by[k].x, y = by[k].y, style = "points",
      size = math.max(radius, 0.5), color = M.palette[k % 10 + 1] }
  end
  if #series == 0 then series[1] = { x = { 0 }, y = { 0 / 0 }, style = "points" } end
  draw("scatter", path, { width = W, height = H, panels = { {
    title = text("scatter", "title", opts.title), xlabel = text("scatter", "xlabel", opts.xlabel),
    ylabel = text("scatter", "ylabel", opts.ylabel),
    legend = labs ~= nil and opts.legend ~= false and #series <= 20, series = series,
  } } })
end

-- ------------------------------------------------------------- metrics

-- The panels of plot_metrics, in order.  A name is split into words at
-- every character that is not a letter or a digit ("test_kl" -> test,
-- kl) and lowercased; the first rule that matches decides:
--   skipped       epoch, step, steps, iteration, and time: a word seconds,
--                 time or elapsed (the run's clock, not a curve to read)
--   throughput    a word per (samples_per_second), throughput, or sps
--   regularisers  kl, kld, penalty, reg, regularizer, regulariser,
--                 regularization, regularisation, contractive, sparsity,
--                 l1, l2, jacobian (so kl_loss and beta_kl land here)
--   losses        loss, mse, bce, mae, nll, elbo, rmse, ce, error, err, or
--                 a word starting rec (rec, recon, reconstruction)
--   schedules     lr, learning, beta, noise, lambda, lam, sigma,
--                 temperature, temp, tau, momentum, warmup, alpha, gamma,
--                 rate, weight, decay, dropout
--   other         the rest, one panel per name once a leading train,
--                 test, val, valid, validation or eval word is dropped
--                 (train_auc and test_auc share the panel "auc")
local SKIP = { epoch = true, step = true, steps = true, iteration = true, iter = true }
local TIME = { seconds = true, time = true, elapsed = true }
local THROUGHPUT = { per = true, throughput = true, sps = true }
local REG = {
  kl = true, kld = true, penalty = true, reg = true, regularizer = true, regulariser = true,
  regularization = true, regularisation = true, contractive = true, sparsity = true, l1 = true, l2 = true,
  jacobian = true,
}
local LOSS = {
  loss = true, mse = true, bce = true, mae = true, nll = true, elbo = true, rmse = true, ce = true,
  error = true, err = true,
}
local SCHEDULE = {
  lr = true, learning = true, beta = true, noise = true, lambda = true, lam = true, sigma = true,
  temperature = true, temp = true, tau = true, momentum = true, warmup = true, alpha = true, gamma = true,
  rate = true, weight = true, decay = true, dropout = true,
}
local SPLIT = { train = true, test = true, val = true, valid = true, validation = true, eval = true }

local GROUP_TITLES = {
  losses = "loss", regularisers = "KL / regularisers", schedules = "schedules",
  throughput = "throughput (samples/s)",
}

local function words(name)
  local w = {}
  for word in name:lower():gmatch("%w+") do w[#w + 1] = word end
  return w
end

local function any(ws, set, prefix)
  for _, w in ipairs(ws) do
    if set[w] or (prefix and w:sub(1, #prefix) == prefix) then return true end
  end
  return false
end

-- the group of one metric name: "losses", "regularisers", "schedules",
-- "throughput", "other:<stem>", or nil for a metric not plotted
local function group_of(name)
  local ws = words(name)
  if #ws == 0 or (#ws == 1 and SKIP[ws[1]]) then return nil end
  if any(ws, THROUGHPUT) then return "throughput" end
  if any(ws, TIME) then return nil end
  if any(ws, REG) then return "regularisers" end
  if any(ws, LOSS, "rec") then return "losses" end
  if any(ws, SCHEDULE) then return "schedules" end
  local stem = name
  if #ws > 1 and SPLIT[ws[1]] then stem = name:gsub("^%W*%w+%W+", "", 1) end
  return "other:" .. stem
end

-- ae.image.metric_groups(names) -> groups, skipped (the rules above)
function M.metric_groups(names)
  if type(names) ~= "table" then error("metric_groups: names must be a list of strings, got " .. type(names)) end
  local fixed = { losses = {}, regularisers = {}, schedules = {}, throughput = {} }
  local others, other_order, skipped = {}, {}, {}
  for i, name in ipairs(names) do
    if type(name) ~= "string" then
      error(("metric_groups: names[%d] is %s, not a string"):format(i, type(name)))
    end
    local g = group_of(name)
    if g == nil then
      skipped[#skipped + 1] = name
    elseif fixed[g] then
      table.insert(fixed[g], name)
    else
      local stem = g:sub(7)
      if not others[stem] then others[stem], other_order[#other_order + 1] = {}, stem end
      table.insert(others[stem], name)
    end
  end
  local groups = {}
  for _, key in ipairs { "losses", "regularisers", "schedules", "throughput" } do
    if #fixed[key] > 0 then groups[#groups + 1] = { key = key, title = GROUP_TITLES[key], names = fixed[key] } end
  end
  for _, stem in ipairs(other_order) do
    groups[#groups + 1] = { key = "other", title = stem, names = others[stem] }
  end
  return groups, skipped
end

-- every value positive and spanning at least 20×: a log axis reads such
-- a falling loss better than a linear one, whose first epoch flattens
-- the rest
local function wants_log(series)
  local lo, hi = math.huge, 0
  for _, s in ipairs(series) do
    for _, v in ipairs(s.y) do
      if v == v then
        if v <= 0 then return false end
        lo, hi = math.min(lo, v), math.max(hi, v)
      end
    end
  end
  return hi > 0 and hi / lo >= 20
end

local METRICS_OPTIONS = { title = true, x = true, names = true, size = true, cols = true }

-- ae.image.plot_metrics(path, metrics, {title, x = "epoch", names, size, cols})
function M.plot_metrics(path, metrics, opts)
  check_path("plot_metrics", path)
  if type(metrics) ~= "table" then error("plot_metrics: metrics must be a table name -> values, got " .. type(metrics)) end
  opts = options("plot_metrics", opts, METRICS_OPTIONS)
  local xname = opts.x or "epoch"
  if type(xname) ~= "string" then error("plot_metrics: x must be a string") end
  local names = opts.names
  if names == nil then
    names = {}
    for k in pairs(metrics) do
      if type(k) ~= "string" then error("plot_metrics: metric names must be strings, got " .. type(k)) end
      names[#names + 1] = k
    end
    table.sort(names)
  elseif type(names) ~= "table" then
    error("plot_metrics: names must be a list of metric names")
  end
  -- the values by epoch: a list, possibly with holes, of numbers
  local function values(name)
    local v = metrics[name]
    if type(v) ~= "table" then return nil end
    local n, numeric = 0, false
    for k, x in pairs(v) do
      if math.type(k) ~= "integer" or k < 1 then return nil end
      if type(x) ~= "number" then return nil end
      n, numeric = math.max(n, k), true
    end
    return numeric and v or nil, n
  end
  local xs
  if xname ~= "epoch" then
    xs = values(xname)
    if not xs then error(("plot_metrics: x = %q is not a numeric metric"):format(xname)) end
  end
  local plotted = {}
  for _, name in ipairs(names) do
    if name ~= xname and values(name) then plotted[#plotted + 1] = name end
  end
  local groups = M.metric_groups(plotted)
  if #groups == 0 then return nil end
  local panels = {}
  for _, g in ipairs(groups) do
    local series = {}
    for i, name in ipairs(g.names) do
      local v, n = values(name)
      local x, y = {}, {}
      for e = 1, n do
        x[e] = xs and (xs[e] or 0 / 0) or e
        y[e] = v[e] or 0 / 0
      end
      series[i] = { name = name, x = x, y = y }
    end
    local panel = { title = g.title, series = series, xlabel = xname }
    -- a panel of one curve is titled with its name, without a legend
    if #series == 1 then panel.title, panel.legend = series[1].name, false end
    if g.key == "losses" or g.key == "regularisers" then panel.log = wants_log(series) end
    if g.key == "schedules" and #series > 1 then
      -- schedules of different sizes (lr 1e-3 beside β up to 1) share the
      -- panel as fractions of their own maximum, the maximum in the legend
      local tops = {}
      for i, s in ipairs(series) do
        local top = 0
        for _, v in ipairs(s.y) do if v == v and math.abs(v) ~= math.huge then top = math.max(top, math.abs(v)) end end
        tops[i] = top
      end
      local lo, hi = math.huge, 0
      for _, t in ipairs(tops) do if t > 0 then lo, hi = math.min(lo, t), math.max(hi, t) end end
      if hi > 0 and hi / lo > 10 then
        for i, s in ipairs(series) do
          if tops[i] > 0 then
            for e, v in ipairs(s.y) do s.y[e] = v / tops[i] end
            s.name = ("%s (max %.3g)"):format(s.name, tops[i])
          end
        end
        panel.ylabel = "fraction of max"
      end
    end
    panels[#panels + 1] = panel
  end
  return M.plot(path, { panels = panels, title = opts.title, size = opts.size, cols = opts.cols })
end

return require("aerun.guard").module("ae.image", M)
