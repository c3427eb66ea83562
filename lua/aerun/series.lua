-- series.lua: multichannel time series for anomaly detection (module
-- "aerun.series", ae.series): a synthetic benchmark with labelled injected
-- anomalies, sliding windows of a series as a data set, per-channel
-- standardisation.  docs/timeseries.md describes the benchmark and the
-- window labels; experiments/timeseries_anomaly.lua uses all of it.
--
--   series.generate{length =, channels =, seed =, ...} -> s
--       s.train, s.test: {x = T×C tensor, y = T labels (0 normal, else
--       the kind's code), base = T×C (the series before injection),
--       mask = T×C (1 where an anomaly changed that channel)}
--       s.events: {{part, start, length, kind, code, channels, size}, ...}
--   series.kinds                     {"spike", "level_shift", "frequency", "amplitude", "flatline"}
--   series.write(path, s)            .h5 (train/x, train/y, test/x, ...) or .csv (two files)
--   series.read(path)                a generator's .h5 file back: {train =, test =}
--   series.load(spec)                any source of ae.data.load as x (T×C), y (T or nil)
--   series.windows(x, {size, stride, labels, fraction, layout, name}) -> ds, info
--   series.standardizer(x)           per-channel mean and std of a T×C series
--   series.standardize(x, st)        (x - mean) / std
--   series.events(y)                 maximal runs of one non-zero label

--- Multichannel time series: `ae.series`.
--
-- A synthetic benchmark (periodic channels with noise and drift, and
-- labelled injected anomalies: spikes, level shifts, frequency and
-- amplitude changes, flat-lines), sliding windows of a series as a data
-- set, and per-channel standardisation.  See docs/timeseries.md.
-- @module aerun.series

--- The anomaly kinds in code order: a step's label is its kind's position
-- (1 spike, 2 level_shift, 3 frequency, 4 amplitude, 5 flatline), 0 normal.
-- @table kinds

--- A synthetic multichannel series with labelled anomalies, the same for
-- the same options.  The runtime RNG is seeded with `seed` for the draws
-- and restored afterwards, so the caller's random stream is untouched.
-- The result is `{train = part, test = part, events = {...}, kinds =,
-- channels =, options =}`; a part is `{x = T×C, y = T labels, base = T×C
-- (before the anomalies), mask = T×C (1 where an anomaly changed a value)}`,
-- an event `{part =, start =, length =, kind =, code =, channels = {...},
-- size =}` (start 1-based in its part; size in the channel's std, or the
-- factor of a frequency or amplitude change).
-- @param[opt] opts `{length = 10000, channels = 4, seed = 0, train_fraction = 0.5, anomalies = 10, train_anomalies = 0, kinds = series.kinds, noise = 0.1, drift = 0.3}`
-- @return the series
-- @raise on a bad option, or when the anomalies do not fit the length
-- @usage local s = ae.series.generate { length = 2000, channels = 3, anomalies = 5 }
-- assert(s.test.x:size(2) == 3 and #s.events == 5)
-- @function generate

--- Writes a generated series: an HDF5 file (`train/x`, `train/y`,
-- `test/x`, `test/y`, `test/mask`, `events`) or, for a `.csv` path,
-- `NAME_train.csv` and `NAME_test.csv` with columns `c1..cC,label`.
-- @param path ends in .h5 or .csv
-- @param s what generate returns
-- @return the list of files written
-- @usage local s = ae.series.generate { length = 1000, anomalies = 2 }
-- local files = ae.series.write("s.csv", s); assert(files[2] == "s_test.csv")
-- @function write

--- Reads a file that write made (HDF5) back.
-- @param path
-- @return `{train = {x =, y =}, test = {x =, y =, mask =}, kinds =}`
-- @raise when the file is not in that layout
-- @usage ae.series.write("s.h5", ae.series.generate { length = 1000, anomalies = 2 })
-- assert(ae.series.read("s.h5").test.x:size(1) == 500)
-- @function read

--- A series from any source `ae.data.load` reads (`file.csv[:label]`,
-- `file.h5:x[,y]`, ...): rows are time steps, columns channels.
-- @param spec a data spec
-- @return x T×C
-- @return y T labels, or nil
-- @usage ae.series.write("s.csv", ae.series.generate { length = 1000, anomalies = 2 })
-- local x, y = ae.series.load("s_test.csv:label"); assert(x:size(1) == 500 and y:numel() == 500)
-- @function load

--- Sliding windows of a T×C series as a data set.  Window i covers steps
-- `1 + (i-1)·stride` to `(i-1)·stride + size`; the steps left after the
-- last full window are not used.  With labels, a window's label is 1 when
-- at least `max(1, ceil(fraction·size))` of its steps have a non-zero
-- label (fraction 0: any one), else 0.  Layout "ncw" gives C×size
-- samples (for Conv1d), "nwc" size×C (for an LSTM with batch_first).
-- @param x a T×C tensor
-- @param opts `{size =, stride = 1, labels = nil, fraction = 0, layout = "ncw"|"nwc", name =}`
-- @return a Dataset
-- @return `{starts = {...}, anomalous = {count of labelled steps per window}, size =, stride =}`
-- @raise when the series is shorter than a window or an option is bad
-- @usage local ds, info = ae.series.windows(ae.randn(100, 2), { size = 10, stride = 5 })
-- assert(#ds == 19 and ds:sample_shape()[1] == 2 and info.starts[2] == 6)
-- @function windows

--- Per-channel mean and population std of a T×C series (std 1 for a
-- constant channel), as `ae.data.standardizer`.
-- @param x a T×C tensor
-- @return `{mean = C, std = C}`
-- @usage local st = ae.series.standardizer(ae.randn(50, 3) * 2 + 1); assert(st.mean:numel() == 3)
-- @function standardizer

--- `(x - st.mean) / st.std` for a T×C series.
-- @param x a T×C tensor
-- @param st a standardizer of C channels
-- @return a tensor
-- @raise when the channels differ
-- @usage local x = ae.randn(50, 3); assert(math.abs(ae.series.standardize(x, ae.series.standardizer(x)):mean():item()) < 1e-5)
-- @function standardize

--- The maximal runs of one non-zero label in a list (or 1-D tensor) of step labels.
-- @param y labels
-- @return `{{start =, length =, label =}, ...}` in order
-- @usage local ev = ae.series.events { 0, 2, 2, 0, 1 }; assert(#ev == 2 and ev[1].length == 2 and ev[2].label == 1)
-- @function events

local core = require "aerun.core"

local series = {}

local function fail(msg) error(msg, 0) end

local check_options = require("aerun.guard").options

local tensor_mt = debug.getregistry()["aerun.Tensor"]
local function is_tensor(v) return getmetatable(v) == tensor_mt end

local KINDS = { "spike", "level_shift", "frequency", "amplitude", "flatline" }
local CODE = {}
for i, k in ipairs(KINDS) do CODE[k] = i end
series.kinds = KINDS

-- a positive integer option, or an error naming it
local function positive_integer(fn, name, v, least)
  least = least or 1
  if math.type(v) ~= "integer" or v < least then
    fail(string.format("%s: %s must be an integer >= %d, got %s", fn, name, least, tostring(v)))
  end
  return v
end

local function number_in(fn, name, v, lo, hi)
  if type(v) ~= "number" or v ~= v or v < lo or v > hi then
    fail(string.format("%s: %s must be a number in [%g, %g], got %s", fn, name, lo, hi, tostring(v)))
  end
  return v
end

-- uniform draws from the runtime RNG, fetched in blocks (one C call per 1024)
local function uniform_stream()
  local buf, i = {}, 1025
  return function(lo, hi)
    if i > #buf then
      buf, i = core.rand(1024):totable(), 1
    end
    local u = buf[i]
    i = i + 1
    if lo then return lo + (hi - lo) * u end
    return u
  end
end

local generate_options = {
  length = true, channels = true, seed = true, train_fraction = true, anomalies = true,
  train_anomalies = true, kinds = true, noise = true, drift = true,
}

-- The clean series: channel c at global step t is
--   offset_c + scale_c · (periodic_c(t) + drift_c(t) + noise_c(t))
-- with drift_c a sine of a period between a tenth and a quarter of the
-- series (amplitude drift·U(0.5, 1)) and noise_c Gaussian (std noise).
-- periodic_c mixes three periods shared by every channel (with the
-- channel's own amplitudes and phases: the channels are correlated) and
-- one period of its own.  An anomaly rewrites some of these terms on a
-- segment of some channels (inject below).
local function make_channels(u, c_count, total, noise_level, drift_level)
  local shared = {}
  for k = 1, 3 do shared[k] = math.exp(u(math.log(24), math.log(240))) end
  local channels = {}
  for c = 1, c_count do
    local ch = { amp = {}, phase = {}, own_period = u(8, 40), own_amp = u(0, 0.3), own_phase = u(0, 2 * math.pi) }
    local var = ch.own_amp ^ 2 / 2
    for k = 1, 3 do
      ch.amp[k] = u(0.2, 1) * (u() < 0.5 and -1 or 1)
      ch.phase[k] = u(0, 2 * math.pi)
      var = var + ch.amp[k] ^ 2 / 2
    end
    ch.offset, ch.scale = u(-5, 20), math.exp(u(math.log(0.5), math.log(5)))
    -- drift: a slow wander of the baseline, at most a quarter of the whole
    -- series long, so that the train part sees its whole range
    ch.wander, ch.wander_period, ch.wander_phase = u(0.5, 1) * drift_level, total * u(0.1, 0.25), u(0, 2 * math.pi)
    ch.noise = noise_level
    -- the std of the periodic part and of the whole, in the channel's units
    -- before scaling: anomaly sizes are multiples of sd
    ch.sd = math.sqrt(var + noise_level ^ 2)
    ch.periodic = function(t)
      local v = ch.own_amp * math.sin(2 * math.pi * t / ch.own_period + ch.own_phase)
      for k = 1, 3 do v = v + ch.amp[k] * math.sin(2 * math.pi * t / shared[k] + ch.phase[k]) end
      return v
    end
    ch.drift = function(t)
      return ch.wander * math.sin(2 * math.pi * t / ch.wander_period + ch.wander_phase)
    end
    channels[c] = ch
  end
  return channels, shared
end

-- segment lengths of each kind (a spike is one step); clamped to the slot
local LENGTHS = { spike = { 1, 1 }, level_shift = { 40, 100 }, frequency = { 60, 150 }, amplitude = { 60, 150 },
  flatline = { 40, 100 } }

-- n events placed in a part of `len` steps: one in each of n equal
-- slots, away from the slot's edges, so events never overlap or touch
local function place(u, n, len, kinds, part, c_count)
  local events = {}
  if n == 0 then return events end
  local slot = len // n
  if slot < 12 then
    fail(string.format("generate: %d anomalies do not fit %d steps of the %s part (each needs 12 steps at least)",
      n, len, part))
  end
  local margin = math.max(2, slot * 15 // 100)
  -- kinds go round in an order drawn once, so each kind gets its share
  local order = {}
  for i, k in ipairs(kinds) do order[i] = k end
  for i = #order, 2, -1 do
    local j = math.floor(u() * i) + 1
    order[i], order[j] = order[j], order[i]
  end
  for i = 1, n do
    local kind = order[(i - 1) % #order + 1]
    local lo, hi = LENGTHS[kind][1], LENGTHS[kind][2]
    local length = math.min(math.floor(u(lo, hi + 1)), slot - 2 * margin)
    local first = (i - 1) * slot + margin + 1
    local start = first + math.floor(u() * (slot - 2 * margin - length + 1))
    local touched = { math.floor(u() * c_count) + 1 }
    -- three in ten touch a second channel at the same time
    if c_count > 1 and u() < 0.3 then
      local other = math.floor(u() * (c_count - 1)) + 1
      if other >= touched[1] then other = other + 1 end
      touched[2] = other
      table.sort(touched)
    end
    events[i] = { part = part, start = start, length = length, kind = kind, code = CODE[kind], channels = touched }
  end
  return events
end

-- the value of channel ch at step t from its terms, in the file's units
local function value(ch, periodic, t, noise)
  return ch.offset + ch.scale * (periodic + ch.drift(t) + noise)
end

-- rewrites x (rows of a part starting at global step t0 + 1) for one event;
-- records the event's size in the channel's units (the first channel's)
local function inject(u, x, mask, ev, channels, t0, noise)
  local kind = ev.kind
  local sign = u() < 0.5 and -1 or 1
  local factor
  if kind == "spike" then
    factor = sign * u(5, 8)
  elseif kind == "level_shift" then
    factor = sign * u(1.5, 3)
  elseif kind == "frequency" then
    -- the channel's periodic part runs 2-3 times faster or slower
    factor = u() < 0.5 and u(2, 3) or 1 / u(2, 3)
  elseif kind == "amplitude" then
    factor = u() < 0.5 and u(2, 3) or u(0, 0.25)
  end
  ev.size = factor
  for _, c in ipairs(ev.channels) do
    local ch = channels[c]
    local held = x[ev.start - 1] and x[ev.start - 1][c] or x[ev.start][c]
    for s = ev.start, ev.start + ev.length - 1 do
      local t = t0 + s
      local row = x[s]
      if kind == "spike" or kind == "level_shift" then
        row[c] = row[c] + factor * ch.sd * ch.scale
      elseif kind == "frequency" then
        row[c] = value(ch, ch.periodic(t0 + ev.start + factor * (s - ev.start)), t, noise[s][c])
      elseif kind == "amplitude" then
        row[c] = value(ch, factor * ch.periodic(t), t, noise[s][c])
      else -- flatline: the sensor holds its last value
        row[c] = held
      end
      mask[s][c] = 1
    end
  end
end

-- one part of the series: steps t0 + 1 .. t0 + len of the clean channels,
-- then its events injected
local function make_part(u, channels, t0, len, events)
  local c_count = #channels
  local noise = core.randn(len, c_count):totable()
  local base, mask, labels = {}, {}, {}
  for s = 1, len do
    local row, zeros = {}, {}
    for c, ch in ipairs(channels) do
      noise[s][c] = noise[s][c] * ch.noise
      row[c] = value(ch, ch.periodic(t0 + s), t0 + s, noise[s][c])
      zeros[c] = 0
    end
    base[s], mask[s], labels[s] = row, zeros, 0
  end
  -- float32 first, so that what the events change and what they leave is exact
  local base_t = core.tensor(base)
  base = base_t:totable()
  local x = base_t:totable()
  for _, ev in ipairs(events) do
    inject(u, x, mask, ev, channels, t0, noise)
    for s = ev.start, ev.start + ev.length - 1 do labels[s] = ev.code end
  end
  return { x = core.tensor(x), y = core.tensor(labels), base = base_t, mask = core.tensor(mask) }
end

function series.generate(opts)
  opts = check_options("generate", opts or {}, generate_options)
  local length = positive_integer("generate", "length", opts.length or 10000, 4)
  local c_count = positive_integer("generate", "channels", opts.channels or 4)
  local seed = opts.seed or 0
  if math.type(seed) ~= "integer" then fail("generate: seed must be an integer, got " .. tostring(seed)) end
  local frac = number_in("generate", "train_fraction", opts.train_fraction or 0.5, 0, 1)
  local n_test = positive_integer("generate", "anomalies", opts.anomalies or 10, 0)
  local n_train = positive_integer("generate", "train_anomalies", opts.train_anomalies or 0, 0)
  local noise_level = number_in("generate", "noise", opts.noise or 0.1, 0, math.huge)
  local drift_level = number_in("generate", "drift", opts.drift or 0.3, 0, math.huge)
  local kinds = opts.kinds or KINDS
  if type(kinds) ~= "table" or #kinds == 0 then fail("generate: kinds must be a non-empty list of kind names") end
  for _, k in ipairs(kinds) do
    if not CODE[k] then
      fail(string.format("generate: unknown anomaly kind %s (the kinds: %s)", tostring(k), table.concat(KINDS, ", ")))
    end
  end
  local train_len = math.floor(length * frac + 0.5)
  local test_len = length - train_len
  if train_len < 2 or test_len < 2 then
    fail(string.format("generate: train_fraction %g of %d steps leaves a part under 2 steps", frac, length))
  end

  local saved = core.rng_state()
  core.manual_seed(seed)
  local ok, s = pcall(function()
    local u = uniform_stream()
    local channels = make_channels(u, c_count, length, noise_level, drift_level)
    local train_events = place(u, n_train, train_len, kinds, "train", c_count)
    local test_events = place(u, n_test, test_len, kinds, "test", c_count)
    local out = { channels = c_count, kinds = KINDS, events = {} }
    out.train = make_part(u, channels, 0, train_len, train_events)
    out.test = make_part(u, channels, train_len, test_len, test_events)
    for _, ev in ipairs(train_events) do out.events[#out.events + 1] = ev end
    for _, ev in ipairs(test_events) do out.events[#out.events + 1] = ev end
    return out
  end)
  core.set_rng_state(saved)
  if not ok then error(s, 0) end
  s.options = { length = length, channels = c_count, seed = seed, train_fraction = frac, anomalies = n_test,
    train_anomalies = n_train, noise = noise_level, drift = drift_level }
  return s
end

-- the events as a K×(4 + C) tensor: part (1 train, 2 test), start,
-- length, code, then a 0/1 column per channel
local function events_tensor(s)
  local rows = {}
  for i, ev in ipairs(s.events) do
    local row = { ev.part == "train" and 1 or 2, ev.start, ev.length, ev.code }
    for c = 1, s.channels do row[4 + c] = 0 end
    for _, c in ipairs(ev.channels) do row[4 + c] = 1 end
    rows[i] = row
  end
  return core.tensor(rows)
end

local function write_csv(path, part)
  local f, err = io.open(path, "w")
  if not f then fail("write: " .. err) end
  local x, y = part.x:totable(), part.y:totable()
  local head = {}
  for c = 1, #x[1] do head[c] = "c" .. c end
  head[#head + 1] = "label"
  f:write(table.concat(head, ","), "\n")
  for t, row in ipairs(x) do
    local cells = {}
    -- %.9g keeps every float32 exactly
    for c, v in ipairs(row) do cells[c] = string.format("%.9g", v) end
    cells[#cells + 1] = string.format("%d", y[t])
    f:write(table.concat(cells, ","), "\n")
  end
  f:close()
end

function series.write(path, s)
  if type(path) ~= "string" then fail("write: path must be a string") end
  if type(s) ~= "table" or type(s.train) ~= "table" or type(s.test) ~= "table" then
    fail("write: expected a series from ae.series.generate")
  end
  local ext = (path:match("%.(%w+)$") or ""):lower()
  if ext == "csv" then
    local stem = path:sub(1, -5)
    local files = { stem .. "_train.csv", stem .. "_test.csv" }
    write_csv(files[1], s.train)
    write_csv(files[2], s.test)
    return files
  elseif ext == "h5" or ext == "hdf5" then
    local f <close> = require("aerun.h5").open(path, "w")
    for _, part in ipairs { "train", "test" } do
      f:write(part .. "/x", s[part].x)
      f:write(part .. "/y", s[part].y)
      f:write(part .. "/mask", s[part].mask)
    end
    if #s.events > 0 then f:write("events", events_tensor(s)) end
    f:set_attr("/", "kinds", table.concat(KINDS, ","))
    f:set_attr("/", "events_columns", "part (1 train, 2 test),start,length,code,channel 1..C (0/1)")
    for k, v in pairs(s.options or {}) do f:set_attr("/", k, v) end
    return { path }
  end
  fail("write: " .. path .. ": give a path ending in .h5 or .csv")
end

function series.read(path)
  if type(path) ~= "string" then fail("read: path must be a string") end
  local data = require "aerun.data"
  local masks = {}
  do
    local f <close> = require("aerun.h5").open(path, "r")
    for _, part in ipairs { "train", "test" } do
      if f:kind(part .. "/x") ~= "dataset" or f:kind(part .. "/y") ~= "dataset" then
        fail(string.format("read: %s has no %s/x and %s/y: not a file of ae.series.write (tools/make_series.lua)",
          path, part, part))
      end
      if f:kind(part .. "/mask") == "dataset" then masks[part] = f:read(part .. "/mask") end
    end
  end
  local out = { kinds = KINDS }
  for _, part in ipairs { "train", "test" } do
    -- through ae.data.h5, which refuses NaN, labels that are not integers
    -- and x and y of different lengths, naming the dataset and the row
    local ds = data.h5 { path, x = part .. "/x", y = part .. "/y", stream = false }
    if #ds:sample_shape() ~= 1 then
      fail(string.format("read: %s: %s/x must be T×C (steps × channels), got samples of %s", path, part,
        table.concat(ds:sample_shape(), "×")))
    end
    out[part] = { x = ds:images(), y = ds:labels(), mask = masks[part] }
    ds:close()
  end
  if out.train.x:size(2) ~= out.test.x:size(2) then
    fail(string.format("read: %s: train/x has %d channels but test/x has %d", path, out.train.x:size(2),
      out.test.x:size(2)))
  end
  return out
end

function series.load(spec)
  local data = require "aerun.data"
  local ds = data.load(spec)
  local shape = ds:sample_shape()
  if #shape ~= 1 then
    ds:close()
    fail(string.format("load: %s: expected a series of T steps × C channels, got samples of %s", spec,
      table.concat(shape, "×")))
  end
  local x = ds:images()
  local y = ds:has_labels() and ds:labels() or nil
  ds:close()
  return x, y
end

local function check_series(fn, x)
  if not is_tensor(x) then fail(fn .. ": x must be a T×C tensor, got " .. type(x)) end
  if x:dim() ~= 2 then
    fail(string.format("%s: x must be a T×C tensor (steps × channels), got %s", fn, table.concat(x:shape(), "×")))
  end
end

-- the labels as a Lua list of numbers, checked against T
local function label_list(fn, labels, t)
  if is_tensor(labels) then
    if labels:dim() ~= 1 then fail(fn .. ": labels must be a 1-D tensor or a list") end
    labels = labels:totable()
  elseif type(labels) ~= "table" then
    fail(fn .. ": labels must be a 1-D tensor or a list, got " .. type(labels))
  end
  if t and #labels ~= t then
    fail(string.format("%s: %d labels for a series of %d steps", fn, #labels, t))
  end
  return labels
end

local window_options = { size = true, stride = true, labels = true, fraction = true, layout = true, name = true }

function series.windows(x, opts)
  check_series("windows", x)
  opts = check_options("windows", opts, window_options)
  local t, c = x:size(1), x:size(2)
  local w = positive_integer("windows", "size", opts.size)
  local stride = positive_integer("windows", "stride", opts.stride or 1)
  local fraction = number_in("windows", "fraction", opts.fraction or 0, 0, 1)
  local layout = opts.layout or "ncw"
  if layout ~= "ncw" and layout ~= "nwc" then
    fail("windows: layout must be \"ncw\" (C×size samples) or \"nwc\" (size×C), got " .. tostring(layout))
  end
  if t < w then fail(string.format("windows: a series of %d steps is shorter than a window of %d", t, w)) end
  -- float32 positions are exact below 2^24
  if t >= 2 ^ 24 then fail("windows: series longer than 2^24 steps are not supported") end
  local n = (t - w) // stride + 1
  -- every window's steps as one gather: N·size row positions, 1-based
  local pos = (core.arange(n):reshape(n, 1) * stride + core.arange(w):reshape(1, w) + 1):reshape(n * w)
  local win = x:index_select(1, pos):reshape(n, w, c)
  if layout == "ncw" then win = win:permute(1, 3, 2):contiguous() end
  local info = { starts = {}, size = w, stride = stride, layout = layout }
  for i = 1, n do info.starts[i] = 1 + (i - 1) * stride end
  local y
  if opts.labels ~= nil then
    local labels = label_list("windows", opts.labels, t)
    -- prefix sums of the labelled steps: each window's count in O(1)
    local prefix = { [0] = 0 }
    for s = 1, t do prefix[s] = prefix[s - 1] + (labels[s] ~= 0 and 1 or 0) end
    local need = math.max(1, math.ceil(fraction * w))
    local counts, flags = {}, {}
    for i, s in ipairs(info.starts) do
      counts[i] = prefix[s + w - 1] - prefix[s - 1]
      flags[i] = counts[i] >= need and 1 or 0
    end
    info.anomalous, info.need = counts, need
    y = core.tensor(flags)
  end
  return require("aerun.data").tensor(win, y, { name = opts.name or "windows" }), info
end

function series.standardizer(x)
  check_series("standardizer", x)
  local data = require "aerun.data"
  local ds = data.tensor(x)
  local st = data.standardizer(ds)
  ds:close()
  return st
end

function series.standardize(x, st)
  check_series("standardize", x)
  if type(st) ~= "table" or not is_tensor(st.mean) or not is_tensor(st.std) then
    fail("standardize: st must be a standardizer {mean =, std =}")
  end
  if st.mean:numel() ~= x:size(2) or st.std:numel() ~= x:size(2) then
    fail(string.format("standardize: a standardizer of %d channels for a series of %d", st.mean:numel(), x:size(2)))
  end
  return (x - st.mean:reshape(1, x:size(2))) / st.std:reshape(1, x:size(2))
end

function series.events(y)
  local labels = label_list("events", y)
  local out = {}
  local s = 1
  while s <= #labels do
    local l = labels[s]
    if l ~= 0 then
      local e = s
      while e < #labels and labels[e + 1] == l do e = e + 1 end
      out[#out + 1] = { start = s, length = e - s + 1, label = math.tointeger(l) or l }
      s = e + 1
    else
      s = s + 1
    end
  end
  return out
end

return require("aerun.guard").module("ae.series", series)
