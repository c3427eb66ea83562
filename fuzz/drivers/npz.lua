-- fuzz/drivers/npz.lua: the .npz reader (runtime/io/npz.c over libzip, each
-- member through npy.c) through core.npz_names and core.npz_read.  The input
-- is the archive.  The names, the whole table and the first array by name
-- must agree, or fail with a message that names the archive.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local core = require "aerun.core"

return function(scratch)
  local path = scratch .. "/fuzz.npz"
  return function(data)
    common.write(path, data)
    local ok, names = pcall(core.npz_names, path)
    if not ok then return common.check_error(names, "npz_names", "fuzz.npz") end
    local all
    ok, all = pcall(core.npz_read, path)
    if not ok then
      common.check_error(all, "npz_read", "fuzz.npz")
      all = nil
    else
      local count = 0
      for name, t in pairs(all) do
        count = count + 1
        assert(type(name) == "string" and t:numel() >= 0, "npz_read: a bad entry")
      end
      assert(count == #names, "npz_read: the table and npz_names disagree")
    end
    if names[1] then
      local one
      ok, one = pcall(core.npz_read, path, names[1])
      if not ok then return common.check_error(one, "npz_read", "fuzz.npz", names[1]) end
      assert(not all or all[names[1]]:numel() == one:numel(), "npz_read: one array differs from the table's")
    end
    local missing
    ok, missing = pcall(core.npz_read, path, "\1no such array")
    assert(not ok, "npz_read: found an array that is not there")
    common.check_error(missing, "npz_read", "fuzz.npz")
  end
end
