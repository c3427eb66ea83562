-- fuzz/drivers/idx.lua: the IDX reader (runtime/io/idx.c) and data sets built
-- from IDX files (runtime/io/dataset.c), through ae.data's C functions.
-- The first byte of an input chooses: even, the rest is one IDX file read
-- with idx_read; odd, the rest is split (at a point given by the next two
-- bytes) into an images and a labels file opened as a data set, which is
-- then batched.  A failure must be a message that names the file.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local core = require "aerun.core"

return function(scratch)
  local images, labels = scratch .. "/images.idx", scratch .. "/labels.idx"

  local function read_one(bytes)
    common.write(images, bytes)
    local ok, t = pcall(core.idx_read, images)
    if not ok then return common.check_error(t, "idx_read", "images.idx") end
    local n = 1
    for _, d in ipairs(t:shape()) do n = n * d end
    assert(n == t:numel() and n > 0, "idx_read: shape and element count disagree")
    t:sum()
  end

  local function read_pair(bytes)
    local cut = ((bytes:byte(1) or 0) * 256 + (bytes:byte(2) or 0)) % (#bytes + 1)
    common.write(images, bytes:sub(3, cut))
    common.write(labels, bytes:sub(cut + 1))
    local ok, ds = pcall(core.dataset_open, images, labels, "fuzz")
    if not ok then
      if not ds:find("images.idx", 1, true) then common.check_error(ds, "dataset_open", "labels.idx") end
      return common.check_error(ds, "dataset_open")
    end
    local n = #ds
    assert(n == ds:size() and n > 0, "dataset: size")
    local seen = 0
    for x, y in ds:batches(7, { shuffle = true }) do
      assert(x:size(1) == y:size(1), "dataset: batch of images and labels differ")
      assert(x:size(2) == ds:dim(), "dataset: batch width")
      seen = seen + x:size(1)
    end
    assert(seen == n, "dataset: the batches do not cover the data set")
    ds:close()
  end

  return function(data)
    local mode = data:byte(1) or 0
    if mode % 2 == 0 then read_one(data:sub(2)) else read_pair(data:sub(2)) end
  end
end
