-- fuzz/drivers/image.lua: the PNG and JPEG readers (runtime/io/png.c,
-- jpeg.c) and the folder reader over them (runtime/io/imagedir.c), through
-- core.image_folder.  The first byte of an input chooses: bit 0 the
-- extension (.png or .jpg: files are decoded by content either way), bit 1
-- a resize to 5×7, bits 2-3 the channels (nil, 1, 3, nil), bit 4 two files
-- in two class folders instead of one file alone (the rest split at a
-- point given by the next two bytes).  A failure must be a message that
-- names the file (or, for two files, the folder); a success must give
-- N×C×H×W values in [0, 1] and the labels of the classes.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local core = require "aerun.core"

return function(scratch)
  local dir = scratch .. "/imgs"
  local made = {}

  local function mkdir(path)
    assert(os.execute("mkdir -p '" .. path .. "'"))
    made[#made + 1] = path
  end

  -- files first, then the folders, deepest first
  local function clean()
    for _, sub in ipairs { "/a/f.png", "/a/f.jpg", "/b/f.png", "/b/f.jpg", "/f.png", "/f.jpg" } do
      os.remove(dir .. sub)
    end
    for i = #made, 1, -1 do os.remove(made[i]) end
    made = {}
  end

  return function(data)
    clean()
    local mode = data:byte(1) or 0
    local ext = mode & 1 == 0 and ".png" or ".jpg"
    local opts = {}
    if mode & 2 ~= 0 then opts.size = { 5, 7 } end
    local ch = ({ nil, 1, 3, nil })[((mode >> 2) & 3) + 1]
    opts.channels = ch
    local two = mode & 16 ~= 0
    local files
    mkdir(dir)
    if two then
      local cut = ((data:byte(2) or 0) * 256 + (data:byte(3) or 0)) % (#data + 1)
      mkdir(dir .. "/a")
      mkdir(dir .. "/b")
      files = { dir .. "/a/f" .. ext, dir .. "/b/f" .. ext }
      common.write(files[1], data:sub(4, cut))
      common.write(files[2], data:sub(math.max(cut + 1, 4)))
    else
      files = { dir .. "/f" .. ext }
      common.write(files[1], data:sub(2))
    end
    local ok, x, y, classes, names = pcall(core.image_folder, dir, opts)
    if not ok then
      clean()
      return common.check_error(x, "image_folder", two and dir or files[1])
    end
    local shape = x:shape()
    assert(#shape == 4 and shape[1] == #files, "image_folder: one sample a file")
    assert(#names == #files and names[1] == files[1], "image_folder: the files' list")
    assert(ch == nil or shape[2] == ch, "image_folder: channels not honoured")
    assert(shape[2] == 1 or shape[2] == 3, "image_folder: channels")
    if opts.size then assert(shape[3] == 5 and shape[4] == 7, "image_folder: size not honoured") end
    if two then
      assert(classes[1] == "a" and classes[2] == "b", "image_folder: classes")
      assert(y:size(1) == 2 and y[1]:item() == 0 and y[2]:item() == 1, "image_folder: labels")
    else
      assert(y == nil and classes == nil, "image_folder: labels without classes")
    end
    local lo, hi = x:min(), x:max()
    assert(lo >= 0 and hi <= 1, "image_folder: values outside [0, 1]")
    clean()
  end
end
