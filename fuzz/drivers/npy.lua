-- fuzz/drivers/npy.lua: the .npy reader (runtime/io/npy.c) through
-- core.npy_read.  The input is the file.  It must give a tensor whose
-- shape accounts for its element count, or a message that names the file.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local core = require "aerun.core"

return function(scratch)
  local path = scratch .. "/fuzz.npy"
  return function(data)
    common.write(path, data)
    local ok, t = pcall(core.npy_read, path)
    if not ok then return common.check_error(t, "npy_read", "fuzz.npy") end
    local n = 1
    for _, d in ipairs(t:shape()) do n = n * d end
    assert(n == t:numel(), "npy_read: shape and element count disagree")
    -- every element read: a sum touches each (NaN and inf are values too)
    if n > 0 then t:sum() end
  end
end
