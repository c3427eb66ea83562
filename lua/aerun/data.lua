-- data.lua: data sets for experiments (module "aerun.data", ae.data).
--
-- Sources (every one takes limit = n and classes = label | {labels}):
--   data.idx(path)               -> tensor in the file's shape (ubyte scaled by 1/255)
--   data.mnist{split = "train"|"test", root = nil, limit = nil, classes = nil}
--   data.fashion_mnist{...}      the same options
--   data.open{images = path, labels = path|nil, name = nil, limit = nil, classes = nil}
--   data.tensor(x [, y] [, {name =, limit =, classes =}])
--       x: N×... float tensor (copied), y: N integer-valued labels (a tensor
--       or a Lua list)
--   data.h5{path, x = "x", y = nil, scale = nil, stream = nil|true|false,
--           window = rows, name =, limit =, classes =}
--       any integer or float dataset as float32 (times scale); x over 256 MiB
--       of float32 (or stream = true) is read from the file batch by batch
--   data.npy{x = "x.npy", y = "y.npy", scale =}   NumPy arrays (or data.npy(path))
--   data.npz{path, x = "x", y = nil, scale =}     arrays of a NumPy archive
--   data.csv{path, label = "class" | column, header =, delimiter = ","}
--   data.images{dir, channels = 1|3, size = {h, w}}  PNG and JPEG pictures,
--       labels from subfolder names
--   data.load(spec [, opts])     any of them from one string, as --data
--       takes it: file.h5[:x[,y]], file.npz[:x[,y]], x.npy[:y.npy],
--       file.csv[:label], a folder
--   data.locate(name, split [, root]) -> images path, labels path
-- Utilities:
--   data.split(ds, {0.9, 0.1} | {n1, n2, ...} [, seed]) -> {ds1, ds2, ...}
--   data.standardizer(ds)        -> {mean = t, std = t}: per-feature mean and
--                                   population std of ds (a constant feature: std 1)
--   data.standardizer{mean = t, std = t} -> the same object from saved tensors
--   data.standardize(ds, st)     == ds:standardize(st)
--
-- A data set is a C object (aerun.Dataset, methods in runtime/lua/data.c):
--   #ds, ds:size(), ds:dim() (784), ds:sample_shape() ({28, 28}), ds:name()
--   ds:has_labels(), ds:streamed(), ds:standardized()
--   for x, y in ds:batches(128, {shuffle = true, drop_last = false}) do ... end
--       x: B×D floats, y: B labels as floats; one C call per batch, the
--       order drawn from the runtime RNG when the loop starts
--   ds:num_batches(128 [, opts]), ds:batch(start, count), ds:gather{i, j, ...}
--   ds:images() (N×D), ds:labels() (N), ds:counts() ({[label] = n})
--   ds:subset(n), ds:filter(classes), ds:select(classes, limit): new data sets
--   ds:standardize(st): a data set whose batches are (x - st.mean) / st.std
--   ds:close(): frees the samples now instead of at garbage collection
--
-- limit keeps the first n samples (after the class filter); classes is a
-- label or a list of labels, e.g. classes = 3 trains on the digit 3 only.
-- docs/data.md describes the sources, their errors and the streaming.

--- Data sets: `ae.data`.
--
-- Every source gives a Dataset (a C object): `#ds`, batches of float32
-- B×D samples and B labels, drawn in an order from the runtime's RNG.
-- Every source takes `limit = n` (the first n samples after the class
-- filter) and `classes = label | {labels}`.  A file that is not what it
-- claims, a missing dataset, x and y of different lengths, a NaN or a
-- ragged row is an error naming the file and the place.  See docs/data.md.
-- @module aerun.data

--- MNIST from `data/mnist/` (or `AERUN_DATA`, or `root`).
-- @param[opt] opts `{split = "train"|"test", root =, limit =, classes =}`
-- @return a Dataset (samples 784 in [0, 1], labels 0..9)
-- @raise when the files are missing, saying where it looked and to run `make data`
-- @usage local test = ae.data.mnist { split = "test", limit = 100 }; assert(#test == 100 and test:dim() == 784)
-- @function mnist

--- Fashion-MNIST from `data/fashion-mnist/`; options as mnist.
-- @param[opt] opts as mnist
-- @return a Dataset
-- @usage assert(#ae.data.fashion_mnist { split = "test", classes = { 3 } } == 1000)
-- @function fashion_mnist

--- An IDX file (plain or gzip) as a tensor in the file's shape; ubyte values scaled by 1/255.
-- @param path
-- @return a tensor
-- @raise when the file is not IDX (naming it)
-- @usage assert(ae.data.idx("data/mnist/t10k-images-idx3-ubyte"):size(2) == 28)
-- @function idx

--- A data set from IDX images and labels files.
-- @param opts `{images = path, labels = path|nil, name =, limit =, classes =}`
-- @return a Dataset
-- @usage local ds = ae.data.open { images = "data/mnist/t10k-images-idx3-ubyte", labels = "data/mnist/t10k-labels-idx1-ubyte", limit = 10 }; assert(#ds == 10)
-- @function open

--- The IDX paths of a standard data set.
-- @param name "mnist" or "fashion-mnist"
-- @param split "train" or "test"
-- @param[opt] root the folder holding `mnist/` and `fashion-mnist/`
-- @return the images path
-- @return the labels path
-- @raise when the files are not there
-- @usage local images = ae.data.locate("mnist", "test"); assert(images:find("t10k"))
-- @function locate

--- A data set from tensors (copied).
-- @param x a tensor N×...
-- @param[opt] y N integer-valued labels (a tensor or a list)
-- @param[opt] opts `{name =, limit =, classes =}`
-- @return a Dataset
-- @raise when N is 0, lengths differ or a label is not an integer
-- @usage local ds = ae.data.tensor(ae.rand(10, 3), ae.arange(10)); assert(#ds == 10 and ds:has_labels())
-- @function tensor

--- Any numeric HDF5 dataset as float32 (times scale); large ones are streamed batch by batch.
-- @param opts `{path, x = "x", y =, scale =, stream =, window =, name =, limit =, classes =}`
-- @return a Dataset
-- @raise when the file or a dataset is missing or not numeric (naming it)
-- @usage local f = ae.h5.open("d.h5", "w"); f:write("x", ae.rand(6, 2)); f:close(); assert(#ae.data.h5 { "d.h5" } == 6)
-- @function h5

--- NumPy `.npy` arrays (or `ae.data.npy(path)`).
-- @param opts `{x = "x.npy", y = "y.npy", scale =}` or a path
-- @return a Dataset
-- @raise as ae.npy_read
-- @usage assert(not pcall(ae.data.npy, "missing.npy"))
-- @function npy

--- The arrays of a NumPy `.npz` archive.
-- @param opts `{path, x = "x", y =, scale =}`
-- @return a Dataset
-- @usage assert(not pcall(ae.data.npz, { "missing.npz" }))
-- @function npz

--- A numeric CSV file: a header or not, the label column by name or number.
-- @param opts `{path, label =, header =, delimiter = ","}`
-- @return a Dataset
-- @raise on a ragged row or a cell that is not a number (naming the line)
-- @usage local f = io.open("t.csv", "w"); f:write("a,b,class\n1,2,0\n3,4,1\n"); f:close()
-- assert(#ae.data.csv { "t.csv", label = "class" } == 2)
-- @function csv

--- A folder of PNG and JPEG pictures; labels from subfolder names.
-- @param opts `{dir, channels = 1|3, size = {h, w}}`
-- @return a Dataset (C×H×W samples)
-- @raise when images differ in size (without `size`) or cannot be read
-- @usage ae.mkdir_p("pics/a"); ae.image.save("pics/a/1.png", ae.rand(1, 4, 4)); assert(#ae.data.images { "pics" } == 1)
-- @function images

--- Any source from one string, as the data option takes it: `file.h5[:x[,y]]`,
-- `file.npz[:x[,y]]`, `x.npy[:y.npy]`, `file.csv[:label]`, a folder of images.
-- @param spec a string
-- @param[opt] opts options for the source
-- @return a Dataset
-- @raise on an unknown kind of file
-- @usage local f = ae.h5.open("d.h5", "w"); f:write("x", ae.rand(5, 2)); f:close(); assert(#ae.data.load("d.h5:x") == 5)
-- @function load

--- Splits a data set at random into parts (fractions or counts).
-- @param ds a Dataset
-- @param parts `{0.9, 0.1}` or `{n1, n2, ...}`
-- @param[opt] seed an integer
-- @return a list of Datasets
-- @raise when the parts do not fit the data set
-- @usage local a, b = table.unpack(ae.data.split(ae.data.tensor(ae.rand(10, 2)), { 0.8, 0.2 }, 1)); assert(#a == 8 and #b == 2)
-- @function split

--- A per-feature mean and population std of a data set (std 1 for a
-- constant feature), or the same object from saved tensors.
-- @param arg a Dataset, or `{mean = t, std = t}`
-- @return a standardizer `{mean =, std =}`
-- @usage local st = ae.data.standardizer(ae.data.tensor(ae.rand(10, 3))); assert(st.mean:numel() == 3)
-- @function standardizer

--- `ds:standardize(st)`.
-- @param ds a Dataset
-- @param st a standardizer
-- @return a Dataset
-- @usage local ds = ae.data.tensor(ae.rand(10, 3)); local z = ae.data.standardize(ds, ae.data.standardizer(ds)); assert(z:standardized())
-- @function standardize

--- A data set: samples, and labels or not.
-- @type Dataset

--- `for x, y in ds:batches(128, {shuffle = true}) do`: x B×D, y B labels (floats);
-- the order is drawn from the runtime RNG when the loop starts.
-- @param size the batch size
-- @param[opt] opts `{shuffle = false, drop_last = false}`
-- @return an iterator of x, y
-- @raise when size is not a positive integer
-- @usage local n = 0; for x in ae.data.tensor(ae.rand(10, 2)):batches(4) do n = n + x:size(1) end; assert(n == 10)
-- @function Dataset:batches

--- How many batches an epoch yields.
-- @param size
-- @param[opt] opts as batches
-- @return an integer
-- @usage assert(ae.data.tensor(ae.rand(10, 2)):num_batches(4) == 3)
-- @function Dataset:num_batches

--- Samples start .. start+count-1 in file order.
-- @param start 1-based
-- @param count
-- @return x
-- @return y (or nil)
-- @usage assert(ae.data.tensor(ae.rand(10, 2)):batch(3, 4):size(1) == 4)
-- @function Dataset:batch

--- The samples at 1-based positions.
-- @param indices a list
-- @return x
-- @return y (or nil)
-- @usage assert(ae.data.tensor(ae.rand(10, 2)):gather { 1, 5 }:size(1) == 2)
-- @function Dataset:gather

--- Every sample, N×D.
-- @return a tensor
-- @usage assert(ae.data.tensor(ae.rand(10, 2)):images():size(1) == 10)
-- @function Dataset:images

--- Every label, N.
-- @return a tensor
-- @raise when the data set has no labels
-- @usage assert(ae.data.tensor(ae.rand(3, 2), ae.tensor { 0, 1, 1 }):labels():sum():item() == 2)
-- @function Dataset:labels

--- How many samples each label has.
-- @return `{[label] = n}`
-- @usage assert(ae.data.tensor(ae.rand(3, 2), ae.tensor { 0, 1, 1 }):counts()[1] == 2)
-- @function Dataset:counts

--- The number of samples (`#ds`).
-- @return an integer
-- @usage assert(ae.data.tensor(ae.rand(3, 2)):size() == 3)
-- @function Dataset:size

--- The number of values in a sample.
-- @return an integer
-- @usage assert(ae.data.tensor(ae.rand(3, 2, 5)):dim() == 10)
-- @function Dataset:dim

--- The shape of a sample.
-- @return a table
-- @usage assert(ae.data.tensor(ae.rand(3, 2, 5)):sample_shape()[2] == 5)
-- @function Dataset:sample_shape

--- The data set's name (the file or source).
-- @return a string
-- @usage assert(ae.data.tensor(ae.rand(3, 2)):name() == "tensor")
-- @function Dataset:name

--- Whether it has labels.
-- @return a boolean
-- @usage assert(not ae.data.tensor(ae.rand(3, 2)):has_labels())
-- @function Dataset:has_labels

--- Whether samples are read from the file batch by batch.
-- @return a boolean
-- @usage assert(not ae.data.tensor(ae.rand(3, 2)):streamed())
-- @function Dataset:streamed

--- Whether batches are standardised.
-- @return a boolean
-- @usage assert(not ae.data.tensor(ae.rand(3, 2)):standardized())
-- @function Dataset:standardized

--- A data set whose batches are (x - st.mean) / st.std.
-- @param st a standardizer `{mean =, std =}`
-- @return a Dataset
-- @raise when the shapes do not fit
-- @usage local ds = ae.data.tensor(ae.rand(10, 3)); assert(ds:standardize(ae.data.standardizer(ds)):standardized())
-- @function Dataset:standardize

--- The first n samples.
-- @param n
-- @return a Dataset
-- @usage assert(#ae.data.tensor(ae.rand(10, 3)):subset(4) == 4)
-- @function Dataset:subset

--- The samples with one of these labels.
-- @param classes a label or a list
-- @return a Dataset
-- @usage assert(#ae.data.tensor(ae.rand(3, 2), ae.tensor { 0, 1, 1 }):filter { 1 } == 2)
-- @function Dataset:filter

--- The class filter then the limit.
-- @param classes a list or nil
-- @param limit an integer or nil
-- @return a Dataset
-- @usage assert(#ae.data.tensor(ae.rand(3, 2), ae.tensor { 0, 1, 1 }):select({ 1 }, 1) == 1)
-- @function Dataset:select

--- Frees the samples now rather than at garbage collection.
-- @usage local ds = ae.data.tensor(ae.rand(3, 2)); ds:close(); assert(not pcall(ds.size, ds))
-- @function Dataset:close

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

local tensor_mt = debug.getregistry()["aerun.Tensor"]
local function is_tensor(v) return getmetatable(v) == tensor_mt end

local tensor_options = {name = true, limit = true, classes = true}

-- data.tensor(x [, y] [, opts]): y may be left out with opts still given
function data.tensor(x, y, opts)
  -- a Lua list of labels is made a tensor; any other table is the options
  if type(y) == "table" and not is_tensor(y) and y[1] ~= nil then y = core.tensor(y) end
  if opts == nil and type(y) == "table" and not is_tensor(y) then y, opts = nil, y end
  opts = check_options("tensor", opts, tensor_options)
  if not is_tensor(x) then fail("tensor: x must be a tensor, got " .. type(x)) end
  if y ~= nil and not is_tensor(y) then fail("tensor: y must be a tensor of labels or nil, got " .. type(y)) end
  if opts.name ~= nil and type(opts.name) ~= "string" then fail("tensor: name must be a string") end
  return narrow(core.dataset_tensor(x, y, opts.name), opts)
end

local h5_options = {
  path = true, x = true, y = true, scale = true, stream = true, window = true,
  name = true, limit = true, classes = true,
}

-- a source's path and options from {path, key = value, ...} (or path =,
-- or the path alone): the path is the first entry, the rest named options
local function path_and_options(fn, opts, known)
  if type(opts) == "string" then opts = {opts} end
  if type(opts) ~= "table" then fail(string.format("%s: expected {path, ...}, got %s", fn, type(opts))) end
  local path, named = opts[1], {}
  for k, v in pairs(opts) do
    if k ~= 1 then named[k] = v end
  end
  opts = check_options(fn, named, known)
  if path ~= nil and opts.path ~= nil then fail(fn .. ": give the path once, as the first entry or as path =") end
  path = path or opts.path
  if type(path) ~= "string" then fail(fn .. ": the first entry (or path) must be the file's path") end
  if opts.name ~= nil and type(opts.name) ~= "string" then fail(fn .. ": name must be a string") end
  return path, opts
end

function data.h5(opts)
  local path
  path, opts = path_and_options("h5", opts, h5_options)
  local x = opts.x or "x"
  if type(x) ~= "string" then fail("h5: x must be a dataset name") end
  if opts.y ~= nil and type(opts.y) ~= "string" then fail("h5: y must be a dataset name or nil") end
  if opts.scale ~= nil and type(opts.scale) ~= "number" then fail("h5: scale must be a number") end
  if opts.stream ~= nil and type(opts.stream) ~= "boolean" then fail("h5: stream must be true, false or nil") end
  if opts.stream == false and opts.window ~= nil then
    fail("h5: window is the memory of a streamed epoch; stream = false loads x whole")
  end
  local name = opts.name or (path .. ":" .. x)
  local ds = core.dataset_h5(path, x, opts.y, opts.scale, opts.stream, opts.window, name)
  return narrow(ds, opts)
end

-- Sources read whole by C readers into tensors (runtime/io/npy.c, npz.c,
-- csv.c, imagedir.c), then held as data.tensor holds them.

-- x times scale, when a scale is given
local function scaled(fn, x, scale)
  if scale == nil then return x end
  if type(scale) ~= "number" then fail(fn .. ": scale must be a number") end
  return x * scale
end

local npy_options = {x = true, y = true, scale = true, name = true, limit = true, classes = true}

-- data.npy("x.npy") or data.npy{x = "x.npy", y = "y.npy", scale =}
function data.npy(opts)
  if type(opts) == "string" then opts = {x = opts} end
  opts = check_options("npy", opts, npy_options)
  if type(opts.x) ~= "string" then fail("npy: x must be the path of a .npy file") end
  if opts.y ~= nil and type(opts.y) ~= "string" then fail("npy: y must be the path of a .npy file or nil") end
  local x = scaled("npy", core.npy_read(opts.x), opts.scale)
  local y = opts.y and core.npy_read(opts.y)
  return data.tensor(x, y, {name = opts.name or opts.x, limit = opts.limit, classes = opts.classes})
end

local npz_options = {path = true, x = true, y = true, scale = true, name = true, limit = true, classes = true}

-- data.npz{path, x = "x", y = nil, scale =}: arrays of one archive
function data.npz(opts)
  local path
  path, opts = path_and_options("npz", opts, npz_options)
  local x = opts.x or "x"
  if type(x) ~= "string" then fail("npz: x must be an array name") end
  if opts.y ~= nil and type(opts.y) ~= "string" then fail("npz: y must be an array name or nil") end
  local xt = scaled("npz", core.npz_read(path, x), opts.scale)
  local yt = opts.y and core.npz_read(path, opts.y)
  return data.tensor(xt, yt, {name = opts.name or (path .. ":" .. x), limit = opts.limit, classes = opts.classes})
end

local csv_options = {
  path = true, label = true, header = true, delimiter = true, scale = true, name = true, limit = true, classes = true,
}

-- data.csv{path, label = "class" | column number, header =, delimiter = ","}
function data.csv(opts)
  local path
  path, opts = path_and_options("csv", opts, csv_options)
  local x, y = core.csv_read(path, {label = opts.label, header = opts.header, delimiter = opts.delimiter})
  return data.tensor(scaled("csv", x, opts.scale), y,
    {name = opts.name or path, limit = opts.limit, classes = opts.classes})
end

local images_options = {
  path = true, channels = true, size = true, extensions = true, name = true, limit = true, classes = true,
}

-- data.images{dir, channels = 1|3, size = {h, w}}: a folder of pictures,
-- labels from its subfolders (ds.classes names them in label order)
function data.images(opts)
  local dir
  dir, opts = path_and_options("images", opts, images_options)
  local x, y = core.image_folder(dir, {channels = opts.channels, size = opts.size, extensions = opts.extensions})
  return data.tensor(x, y, {name = opts.name or dir, limit = opts.limit, classes = opts.classes})
end

-- what kind of thing path is: "file", "directory" or nil
local function kind(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local ok, _, code = f:read(1)
  f:close()
  -- reading a directory fails with EISDIR (21)
  if ok == nil and code == 21 then return "directory" end
  return "file"
end

-- "path[:rest]": the longest prefix that exists, and what follows its ":"
local function split_spec(spec)
  if kind(spec) then return spec, nil end
  local cut = #spec
  while true do
    cut = spec:sub(1, cut - 1):match(".*():") -- the last ":" before cut
    if not cut then break end
    local path = spec:sub(1, cut - 1)
    if kind(path) then return path, spec:sub(cut + 1) end
  end
  fail(string.format("load: %s: no such file or folder", (spec:match("^(.-):") or spec)))
end

-- the names "a,b" as a, b (b nil when absent)
local function two_names(rest)
  if not rest or rest == "" then return nil, nil end
  local a, b = rest:match("^([^,]*),([^,]*)$")
  if not a then return rest, nil end
  return a, (b ~= "" and b or nil)
end

-- data.load(spec [, opts]): a data set from one string, as experiments'
-- --data takes it: file.h5[:x[,y]], file.npz[:x[,y]] (both default to x,
-- and y when the file has it), x.npy[:y.npy], file.csv[:label column] or
-- a folder of images.  opts (limit, classes, name...) go to the source.
function data.load(spec, opts)
  if type(spec) ~= "string" or spec == "" then fail("load: expected a data spec such as file.h5:x,y") end
  opts = opts or {}
  if type(opts) ~= "table" then fail("load: opts must be a table") end
  local path, rest = split_spec(spec)
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.name = o.name or spec
  local ext = path:match("%.([%w]+)$")
  ext = ext and ext:lower()
  if kind(path) == "directory" then
    if rest then fail("load: " .. spec .. ": a folder of images takes nothing after ':'") end
    o[1] = path
    return data.images(o)
  elseif ext == "h5" or ext == "hdf5" or ext == "he5" or ext == "hdf" then
    local x, y = two_names(rest)
    if not x then
      local f <close> = require("aerun.h5").open(path, "r")
      x, y = "x", f:exists("y") and "y" or nil
    end
    o[1], o.x, o.y = path, x, y
    return data.h5(o)
  elseif ext == "npz" then
    local x, y = two_names(rest)
    if not x then
      x = "x"
      for _, n in ipairs(core.npz_names(path)) do
        if n == "y" then y = "y" end
      end
    end
    o[1], o.x, o.y = path, x, y
    return data.npz(o)
  elseif ext == "npy" then
    o.x, o.y = path, rest
    return data.npy(o)
  elseif ext == "csv" or ext == "tsv" or ext == "txt" then
    o[1] = path
    if rest and rest ~= "" then o.label = math.tointeger(tonumber(rest)) or rest end
    if ext == "tsv" then o.delimiter = o.delimiter or "\t" end
    return data.csv(o)
  end
  fail(string.format("load: cannot tell the format of %s from its name: give an .h5, .npy, .npz or .csv file, "
    .. "or a folder of images", path))
end

local function check_dataset(fn, ds)
  if not core.is_dataset(ds) then fail(string.format("%s: expected a data set, got %s", fn, type(ds))) end
end

-- the sample counts of the parts: counts as given, or fractions of n
-- rounded down with the remainder given one by one to the first parts,
-- as torch.utils.data.random_split does
local function split_counts(n, parts)
  if type(parts) ~= "table" or #parts < 1 then
    fail("split: parts must be a list of fractions or of counts, e.g. {0.9, 0.1}")
  end
  local sum, integers = 0, true
  for i, p in ipairs(parts) do
    if type(p) ~= "number" or p < 0 or p ~= p then
      fail(string.format("split: part %d is %s; parts must be non-negative numbers", i, tostring(p)))
    end
    sum = sum + p
    integers = integers and math.type(p) == "integer"
  end
  if integers and sum == n then return parts end
  if math.abs(sum - 1) > 1e-9 then
    fail(string.format("split: the parts sum to %s; give fractions summing to 1 or counts summing to #ds (%d)",
      tostring(sum), n))
  end
  local counts, total = {}, 0
  for i, p in ipairs(parts) do
    counts[i] = math.floor(n * p)
    total = total + counts[i]
  end
  for i = 0, n - total - 1 do
    local k = i % #counts + 1
    counts[k] = counts[k] + 1
  end
  return counts
end

-- data.split(ds, parts [, seed]) -> {data set per part}
function data.split(ds, parts, seed)
  check_dataset("split", ds)
  if seed ~= nil and math.type(seed) ~= "integer" then fail("split: seed must be an integer or nil") end
  return core.dataset_split(ds, split_counts(#ds, parts), seed)
end

local Standardizer = {}
Standardizer.__index = Standardizer
Standardizer.__name = "Standardizer"

function Standardizer.__tostring(st)
  return string.format("Standardizer over %d features", st.mean:numel())
end

local function check_features(key, t)
  if not is_tensor(t) then fail(string.format("standardizer: %s must be a tensor, got %s", key, type(t))) end
end

-- data.standardizer(ds) fits one; data.standardizer{mean =, std =} rebuilds one
function data.standardizer(arg)
  if core.is_dataset(arg) then
    local mean, std = core.dataset_moments(arg)
    return setmetatable({mean = mean, std = std}, Standardizer)
  end
  if type(arg) ~= "table" then fail("standardizer: expected a data set or {mean = t, std = t}, got " .. type(arg)) end
  check_options("standardizer", arg, {mean = true, std = true})
  check_features("mean", arg.mean)
  check_features("std", arg.std)
  local ms, ss = arg.mean:shape(), arg.std:shape()
  if table.concat(ms, "x") ~= table.concat(ss, "x") then
    fail(string.format("standardizer: mean has shape %s but std has shape %s",
      table.concat(ms, "x"), table.concat(ss, "x")))
  end
  local least = arg.std:min()
  if type(least) ~= "number" then least = least:item() end
  if not (least > 0) then fail("standardizer: every std must be positive") end
  return setmetatable({mean = arg.mean, std = arg.std}, Standardizer)
end

function data.standardize(ds, st)
  check_dataset("standardize", ds)
  return ds:standardize(st)
end

return require("aerun.guard").module("ae.data", data)
