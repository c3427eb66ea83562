-- fuzz/drivers/h5_data.lua: data sets from HDF5 files (ae.data.h5 over
-- runtime/io/h5_source.c and dataset.c's streamed epochs).
--
-- An input is bytes:
--   1: mode (mod 4)   2: options: bit 0 stream (else by size), bit 1 y, bit 2 scale,
--                        bits 3..7 the window (rows, 1 + value)
--   3: rows n of x    4: features d of x (mod 9)   5: rows of y (255: n)
--   the rest: x's values, then y's, one byte each (int8 / 4; 127 is NaN,
--   -128 inf, and y's values are labels, halved when odd: not integers)
-- The file is written with ae.h5 (so that HDF5's own metadata is sound:
-- corrupting that is fuzz/drivers/hdf5_raw.lua's business), then, by mode:
--   0: read as it is;
--   1: truncated, before it is opened, at a point the next two bytes give;
--   2: truncated the same way after the first batch of a streamed epoch;
--   3: the bytes after the first two are the file itself (a first byte of
--      HDF5's signature is changed, so the file is not HDF5).
-- The data set is batched (shuffled), its batches checked against its size;
-- a failure anywhere must be a message naming the file.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local ae = require "aerun"

return function(scratch)
  local path = scratch .. "/data.h5"

  local function value(b)
    local v = b >= 128 and b - 256 or b
    if v == 127 then return 0 / 0 end
    if v == -128 then return math.huge end
    return v / 4
  end

  -- writes the described file; false when ae.h5 refuses the description
  -- (an empty x), which is not the reader's business
  local function build(bytes)
    local n, d, ny = bytes:byte(3) or 0, (bytes:byte(4) or 0) % 9, bytes:byte(5) or 0
    if ny == 255 then ny = n end
    local at = 6
    local function next_byte()
      local b = bytes:byte(at) or 0
      at = at + 1
      return b
    end
    local rows = {}
    for i = 1, n do
      local r = {}
      for j = 1, d do r[j] = value(next_byte()) end
      rows[i] = r
    end
    local labels = {}
    for i = 1, ny do
      local b = next_byte()
      labels[i] = b % 2 == 1 and b / 2 or b // 2 - 64
    end
    if n == 0 or d == 0 then return false end
    local f = ae.h5.open(path, "w")
    f:write("x", ae.tensor(rows))
    if ny > 0 then f:write("y", ae.tensor(labels)) end
    f:close()
    return true, at
  end

  local function truncate(point)
    local f = assert(io.open(path, "rb"))
    local s = f:read("a")
    f:close()
    common.write(path, s:sub(1, point % (#s + 1)))
  end

  local function open(opts)
    local ok, ds = pcall(ae.data.h5, {
      path, x = "x", y = opts % 4 >= 2 and "y" or nil, stream = opts % 2 == 1 or nil,
      scale = opts % 8 >= 4 and 0.5 or nil, window = 1 + opts // 8,
    })
    if not ok then common.check_error(ds, "h5", "data.h5") end
    return ok and ds or nil
  end

  -- an epoch, checked; when truncate_at is given the file is cut after
  -- the first batch
  local function epoch(ds, truncate_at)
    local ok, err = pcall(function()
      local seen, k = 0, 0
      for x, y in ds:batches(5, { shuffle = true }) do
        assert(x:size(1) >= 1 and x:size(2) == ds:dim(), "h5: batch shape")
        if y then assert(y:size(1) == x:size(1), "h5: labels and samples differ") end
        seen = seen + x:size(1)
        k = k + 1
        if k == 1 and truncate_at then truncate(truncate_at) end
      end
      assert(seen == #ds, "h5: the batches do not cover the data set")
      ds:batch(1, 1)
    end)
    if not ok then
      if err:find("h5: ", 1, true) == 1 then error(err, 0) end
      common.check_error(err, "h5 batches", "data.h5")
    end
  end

  return function(data)
    local mode, opts = (data:byte(1) or 0) % 4, data:byte(2) or 0
    if mode == 3 then
      local body = data:sub(3)
      if body:sub(1, 4) == "\137HDF" then body = "\0" .. body:sub(2) end
      common.write(path, body)
      local ds = open(opts)
      assert(not ds, "h5: a file that is not HDF5 opened")
      return
    end
    local built, at = build(data)
    if not built then return end
    local point = (data:byte(at) or 0) * 256 + (data:byte(at + 1) or 0)
    if mode == 1 then truncate(point) end
    local ds = open(mode == 2 and (opts | 1) or opts)
    if not ds then return end
    epoch(ds, mode == 2 and point or nil)
    ds:close()
  end
end
