-- data.lua: data sets for experiments (module "aerun.data", ae.data).
--
--   data.idx(path)               -> tensor in the file's shape (ubyte scaled by 1/255)
--   data.mnist{split = "train"|"test", root = nil, limit = nil, classes = nil}
--   data.fashion_mnist{...}      the same options
--   data.open{images = path, labels = path|nil, name = nil, limit = nil, classes = nil}
--   data.locate(name, split [, root]) -> images path, labels path
--
-- A data set is a C object (aerun.Dataset, methods in runtime/lua/data.c):
--   #ds, ds:size(), ds:dim() (784), ds:sample_shape() ({28, 28}), ds:name()
--   for x, y in ds:batches(128, {shuffle = true, drop_last = false}) do ... end
--       x: B×D floats in [0, 1], y: B labels as floats; one C call per batch,
--       the order drawn from the runtime RNG when the loop starts
--   ds:num_batches(128 [, opts]), ds:batch(start, count), ds:gather{i, j, ...}
--   ds:images() (N×D), ds:labels() (N), ds:counts() ({[label] = n})
--   ds:subset(n), ds:filter(classes), ds:select(classes, limit): new data sets
--   ds:close(): frees the samples now instead of at garbage collection
--
-- limit keeps the first n samples (after the class filter); classes is a
-- label or a list of labels, e.g. classes = 3 trains on the digit 3 only.
local core = require "aerun.core"

local data = {}

-- errors are raised without a position: aerun.guard, the module's
-- boundary, raises them again at the script's line, naming the function
local function fail(msg) error(msg, 0) end

local check_options = require("aerun.guard").options

-- ds cut down by the classes and limit options; the full set is closed
-- at once, its samples are no longer needed
local function narrow(ds, opts)
  if opts.classes == nil and opts.limit == nil then return ds end
  local out = ds:select(opts.classes, opts.limit)
  ds:close()
  return out
end

function data.idx(path)
  if type(path) ~= "string" then fail("idx: path must be a string, got " .. type(path)) end
  return core.idx_read(path)
end

local open_options = {images = true, labels = true, name = true, classes = true, limit = true}

function data.open(opts)
  opts = check_options("open", opts, open_options)
  if type(opts.images) ~= "string" then fail("open: images must be the path of an IDX file") end
  if opts.labels ~= nil and type(opts.labels) ~= "string" then
    fail("open: labels must be the path of an IDX file or nil")
  end
  return narrow(core.dataset_open(opts.images, opts.labels, opts.name), opts)
end

-- where the standard data sets are looked for

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- base or base.gz in dir, the plain file first
local function find_file(dir, base)
  for _, path in ipairs {dir .. "/" .. base, dir .. "/" .. base .. ".gz"} do
    if exists(path) then return path end
  end
end

-- {directory, note} pairs in search order; a root given by the script is
-- the only place looked at, so a typo in it is not hidden by another copy
local function search_dirs(name, root)
  if root then return {{root}, {root .. "/" .. name}} end
  local dirs = {}
  local env = os.getenv("AERUN_DATA")
  if env and env ~= "" then dirs[#dirs + 1] = {env .. "/" .. name, "$AERUN_DATA"} end
  local pwd = os.getenv("PWD")
  dirs[#dirs + 1] = {"data/" .. name, pwd and "in " .. pwd}
  if name == "fashion-mnist" then
    dirs[#dirs + 1] = {"/usr/share/datasets/fashion-mnist", "Debian package dataset-fashion-mnist"}
  end
  return dirs
end

-- the images and labels files of a split of "mnist" or "fashion-mnist"
-- (or any set stored under MNIST's file names), or an error that lists
-- every place looked at
function data.locate(name, split, root)
  local prefix = split == "test" and "t10k" or "train"
  local images, labels = prefix .. "-images-idx3-ubyte", prefix .. "-labels-idx1-ubyte"
  local looked = {}
  for _, d in ipairs(search_dirs(name, root)) do
    local im, lb = find_file(d[1], images), find_file(d[1], labels)
    if im and lb then return im, lb end
    local line = "  " .. d[1] .. "/" .. (d[2] and " (" .. d[2] .. ")" or "")
    if im or lb then
      line = line .. string.format(": has %s but not %s", im and images or labels, im and labels or images)
    end
    looked[#looked + 1] = line
  end
  fail(string.format(
    "%s (%s split) not found: looked for %s[.gz] and %s[.gz] in\n%s\n" ..
    "Run `make data` in the aerun source directory to fetch it, or set AERUN_DATA " ..
    "to a directory that holds %s/.", name, split, images, labels, table.concat(looked, "\n"), name))
end

local standard_options = {split = true, root = true, limit = true, classes = true}

local function standard(name, opts)
  opts = check_options(name, opts, standard_options)
  local split = opts.split or "train"
  if split ~= "train" and split ~= "test" then
    fail(string.format("%s: split must be \"train\" or \"test\", got %s", name, tostring(split)))
  end
  if opts.root ~= nil and type(opts.root) ~= "string" then
    fail(name .. ": root must be a directory path")
  end
  local images, labels = data.locate(name, split, opts.root)
  local ds = core.dataset_open(images, labels, name .. " " .. split)
  return narrow(ds, opts)
end

function data.mnist(opts) return standard("mnist", opts) end
function data.fashion_mnist(opts) return standard("fashion-mnist", opts) end

return require("aerun.guard").module("ae.data", data)
