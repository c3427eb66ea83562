-- fuzz/drivers/csv.lua: the CSV reader (runtime/io/csv.c) through
-- core.csv_read.  The first byte of an input chooses the options: its low
-- two bits the header (detect, true, false), the next three the label
-- (none, 1, -1, 2, "label" or "a"),
-- the top bits the delimiter (",", ";", "\t", "|").  The rest is the file.
-- x, y and the names must agree in size, or the failure must be a message
-- that names the file.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local core = require "aerun.core"

local headers = { nil, true, false, nil }
local labels = { nil, 1, -1, 2, "label", "a", nil, nil }
local delimiters = { ",", ";", "\t", "|" }

return function(scratch)
  local path = scratch .. "/fuzz.csv"
  return function(data)
    local b = data:byte(1) or 0
    local opts = {
      header = headers[(b & 3) + 1],
      label = labels[((b >> 2) & 7) + 1],
      delimiter = delimiters[((b >> 5) & 3) + 1],
    }
    common.write(path, data:sub(2))
    local ok, x, y, names, label = pcall(core.csv_read, path, opts)
    if not ok then return common.check_error(x, "csv_read", "fuzz.csv") end
    local rows, cols = x:size(1), x:size(2)
    assert(rows > 0 and cols > 0, "csv_read: an empty x")
    assert(not y or (y:dim() == 1 and y:size(1) == rows), "csv_read: y and x differ in rows")
    assert((y ~= nil) == (opts.label ~= nil), "csv_read: a label without y or y without a label")
    assert(not names or #names == cols, "csv_read: names and columns differ")
    assert(not label or (names and y), "csv_read: a label name without a header")
    -- every value is a finite float32: missing values are refused
    for _, t in ipairs { x, y } do
      local m = t:abs():max()
      assert(m == m and m < math.huge, "csv_read: a value that is not finite")
    end
  end
end
