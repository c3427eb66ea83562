-- fuzz/drivers/image.lua: the PNG and JPEG readers (runtime/io/png.c,
-- jpeg.c) and the folder reader over them (runtime/io/imagedir.c), through
-- core.image_folder on the scratch folder.  The first byte of an input
-- chooses: bit 0 the extension (.png or .jpg: files are decoded by content
-- either way), bit 1 a resize to 5×7, bits 2-3 the channels (nil, 1, 3,
-- nil), bit 4 two files instead of one (the rest split at a point given by
-- the next two bytes).  A failure must be a message that names the file
-- (for two files, the folder); a success must give N×C×H×W values in
-- [0, 1].  Class folders are left to tests/image_folder_spec.lua: making
-- folders would take a shell per input (Lua has no mkdir), and the
-- harness removes only the scratch folder's files.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local core = require "aerun.core"

return function(scratch)
  local names = { "/f1.png", "/f1.jpg", "/f2.png", "/f2.jpg" }

  local function clean()
    for _, n in ipairs(names) do os.remove(scratch .. n) end
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
    if two then
      local cut = ((data:byte(2) or 0) * 256 + (data:byte(3) or 0)) % (#data + 1)
      files = { scratch .. "/f1" .. ext, scratch .. "/f2" .. ext }
      common.write(files[1], data:sub(4, cut))
      common.write(files[2], data:sub(math.max(cut + 1, 4)))
    else
      files = { scratch .. "/f1" .. ext }
      common.write(files[1], data:sub(2))
    end
    local ok, x, y, classes, listed = pcall(core.image_folder, scratch, opts)
    clean()
    if not ok then return common.check_error(x, "image_folder", two and scratch or files[1]) end
    local shape = x:shape()
    assert(#shape == 4 and shape[1] == #files, "image_folder: one sample a file")
    assert(#listed == #files and listed[1] == files[1], "image_folder: the files' list")
    assert(y == nil and classes == nil, "image_folder: labels without classes")
    assert(ch == nil or shape[2] == ch, "image_folder: channels not honoured")
    assert(shape[2] == 1 or shape[2] == 3, "image_folder: channels")
    if opts.size then assert(shape[3] == 5 and shape[4] == 7, "image_folder: size not honoured") end
    assert(x:min() >= 0 and x:max() <= 1, "image_folder: values outside [0, 1]")
  end
end
