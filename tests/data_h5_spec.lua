-- data_h5_spec.lua: data sets from HDF5 files (ae.data.h5,
-- runtime/io/h5_source.c), loaded and streamed (dataset.c's block and
-- window epochs).  Files are made here: with aerun's own ae.h5 writer
-- (float32, contiguous; always runs) and with h5py (/usr/bin/python3;
-- uint8, int16, int64, float16, float64, gzip-chunked; skipped with a
-- reason when absent).  Feature 1 of x is the row's number, so a batch
-- tells which rows it holds.
local ae = require "aerun"
local process = require "tests.helpers.process"
local quote = process.quote

local PYTHON = "/usr/bin/python3"
local has_h5py = os.execute(PYTHON .. " -c 'import h5py, numpy' >/dev/null 2>&1") == true

local assert_mentions = require("tests.helpers.check").mentions

local failure = require("tests.helpers.check").error_of

-- runs python code (argv[1] is dir); fails the test on a non-zero exit
local function python(dir, code)
  local script = dir .. "/make.py"
  process.write(script, code)
  local out, ok = process.sh(string.format("%s %s %s", PYTHON, quote(script), quote(dir)))
  assert.is_true(ok, out)
end

-- rows 1..n of d features, feature 1 the row number; labels row % 5
local function rows_tensor(n, d)
  local rows, labels = {}, {}
  for i = 1, n do
    local r = { i }
    for j = 2, d do r[j] = (i * 7 + j * 3) % 11 - 5 + j / 4 end
    rows[i], labels[i] = r, i % 5
  end
  return ae.tensor(rows), ae.tensor(labels)
end

local function write_h5(path, datasets)
  local f = ae.h5.open(path, "w")
  for name, t in pairs(datasets) do f:write(name, t) end
  f:close()
  return path
end

local function epoch_order(ds, size, opts)
  local order = {}
  for x, y in ds:batches(size, opts) do
    local xs, ys = x:totable(), y and y:totable()
    for k, r in ipairs(xs) do
      local i = math.tointeger(r[1])
      order[#order + 1] = i
      if ys then assert.equal(i % 5, ys[k], "the label of row " .. i) end
    end
  end
  return order
end

local function assert_covers(order, n)
  local seen = {}
  for _, i in ipairs(order) do
    assert.is_nil(seen[i], "row " .. i .. " twice in one epoch")
    seen[i] = true
  end
  assert.equal(n, #order)
  for i = 1, n do assert.is_true(seen[i], "row " .. i .. " missing from the epoch") end
end

local function assert_replays(ds, size)
  local state = ae.rng_state()
  local first = epoch_order(ds, size, { shuffle = true })
  ae.randn(10)
  ae.set_rng_state(state)
  assert.same(first, epoch_order(ds, size, { shuffle = true }))
  return first
end

describe("ae.data.h5 on files written by ae.h5", function()
  local dir, path, x, y
  setup(function()
    dir = process.tmpdir()
    x, y = rows_tensor(500, 6)
    path = write_h5(dir .. "/a.h5", { ["train/x"] = x, ["train/y"] = y, ["test/x"] = x:reshape(500, 2, 3) })
  end)
  teardown(function() os.execute("rm -rf " .. quote(dir)) end)

  it("loads x and y, with the sample shape, scale, limit and classes", function()
    local ds = ae.data.h5 { path, x = "train/x", y = "train/y" }
    assert.is_false(ds:streamed())
    assert.equal(500, #ds)
    assert.same(x:totable(), ds:images():totable())
    assert.same(y:totable(), ds:labels():totable())
    local cube = ae.data.h5 { path, x = "/test/x", scale = 0.5 }
    assert.same({ 2, 3 }, cube:sample_shape())
    assert.same((x * 0.5):totable(), cube:images():totable())
    local some = ae.data.h5 { path, x = "train/x", y = "train/y", classes = { 1, 3 }, limit = 7 }
    assert.same({ 1, 3, 6, 8, 11, 13, 16 }, epoch_order(some, 3))
  end)

  it("streams the same samples, each once per epoch, and replays an epoch's order", function()
    local loaded = ae.data.h5 { path, x = "train/x", y = "train/y" }
    local streamed = ae.data.h5 { path, x = "train/x", y = "train/y", stream = true, window = 64 }
    assert.is_true(streamed:streamed())
    assert.same(loaded:images():totable(), streamed:images():totable())
    assert.same(loaded:gather({ 499, 3, 250, 3 }):totable(), streamed:gather({ 499, 3, 250, 3 }):totable())
    assert.same(loaded:batch(100, 50):totable(), streamed:batch(100, 50):totable())
    ae.manual_seed(2)
    for _, ds in ipairs { loaded, streamed } do
      assert_covers(assert_replays(ds, 32), 500)
      assert_covers(epoch_order(ds, 32), 500)
      assert.same(epoch_order(ds, 7), epoch_order(ds, 7))
    end
    local drop = epoch_order(streamed, 32, { shuffle = true, drop_last = true })
    assert.equal(480, #drop)
  end)

  it("reads a shuffled streamed epoch window by window, not the whole file per batch", function()
    -- window 64 rows: blocks of 8 rows (an eighth of it), 8 blocks a
    -- window; 512 rows, so that every window holds 64 of them
    local file = write_h5(dir .. "/512.h5", { x = rows_tensor(512, 3) })
    local ds = ae.data.h5 { file, stream = true, window = 64 }
    ae.manual_seed(4)
    local order = epoch_order(ds, 16, { shuffle = true })
    for w = 0, 7 do
      local blocks = {}
      for k = w * 64 + 1, w * 64 + 64 do blocks[(order[k] - 1) // 8] = true end
      local count = 0
      for _ in pairs(blocks) do count = count + 1 end
      assert.is_true(count <= 8, "window " .. w .. " draws from " .. count .. " blocks")
    end
    -- and is random across windows: not in file order
    local sorted = { table.unpack(order) }
    table.sort(sorted)
    assert.are_not.same(sorted, order)
  end)

  it("splits and standardizes a streamed data set like a loaded one", function()
    local loaded = ae.data.h5 { path, x = "train/x", y = "train/y" }
    local streamed = ae.data.h5 { path, x = "train/x", y = "train/y", stream = true, window = 40 }
    local a1, b1 = table.unpack(ae.data.split(loaded, { 0.8, 0.2 }, 5))
    local a2, b2 = table.unpack(ae.data.split(streamed, { 0.8, 0.2 }, 5))
    assert.same(a1:images():totable(), a2:images():totable())
    assert.same(b1:labels():totable(), b2:labels():totable())
    ae.manual_seed(6)
    assert.equal(400, #assert_replays(a2, 25))
    local s1, s2 = ae.data.standardizer(a1), ae.data.standardizer(a2)
    assert.same(s1.mean:totable(), s2.mean:totable())
    assert.same(s1.std:totable(), s2.std:totable())
    local z1, z2 = a1:standardize(s1), a2:standardize(s2)
    assert.same(z1:batch(1, 60):totable(), z2:batch(1, 60):totable())
    assert.same(ae.data.split(b2, { 1.0 }, 1)[1]:images():totable(), b1:images():totable())
  end)

  it("refuses what it cannot read, naming the file and what is wrong", function()
    local text = dir .. "/notes.h5"
    process.write(text, "not hdf5 at all\n")
    assert_mentions(failure(ae.data.h5, { text }), text, "not an HDF5 file")
    assert_mentions(failure(ae.data.h5, { path, x = "train/z" }), path, "\"train/z\" not found",
      "/test/x (500×2×3)", "/train/x (500×6)", "/train/y (500)")
    assert_mentions(failure(ae.data.h5, { path, x = "train" }), "is a group")
    local short = write_h5(dir .. "/short.h5", { x = x, y = ae.tensor({ 1, 2, 3 }) })
    assert_mentions(failure(ae.data.h5, { short, y = "y" }), short, "has 3 rows", "has 500")
    local frac = write_h5(dir .. "/frac.h5", { x = ae.ones(3, 2), y = ae.tensor({ 1, 2.5, 3 }) })
    assert_mentions(failure(ae.data.h5, { frac, y = "y" }), "row 2 holds 2.5", "integers")
    assert_mentions(failure(ae.data.h5, { path, x = "train/x", strem = true }), "unknown option 'strem'")
    assert_mentions(failure(ae.data.h5, { path, x = "train/x", window = 0 }), "window must be at least 1")
    assert_mentions(failure(ae.data.h5, { path, x = "train/x", stream = false, window = 10 }), "stream = false")
  end)

  it("reports NaN with the row and feature, loaded at open and streamed at its batch", function()
    local rows = x:totable()
    rows[377][4] = 0 / 0
    local nan = write_h5(dir .. "/nan.h5", { x = ae.tensor(rows) })
    assert_mentions(failure(ae.data.h5, { nan }), nan, "row 377, feature 4 is NaN")
    local ds = ae.data.h5 { nan, stream = true, window = 64 }
    local it = ds:batches(100)
    for _ = 1, 3 do it() end
    assert_mentions(failure(it), nan, "row 377, feature 4 is NaN")
  end)

  it("fails at the batch, naming the file and rows, when the file is truncated mid-epoch", function()
    local big = write_h5(dir .. "/big.h5", { x = rows_tensor(4000, 6) })
    local ds = ae.data.h5 { big, stream = true, window = 400 }
    local it = ds:batches(100, { shuffle = true })
    it()
    local size = #process.read_all(big)
    assert(os.execute(string.format("truncate -s %d %s", size // 2, quote(big))))
    local ok, err
    for _ = 1, 40 do
      ok, err = pcall(it)
      if not ok then break end
    end
    assert.is_false(ok, "a truncated file gave every batch")
    assert_mentions(err, big, "cannot read rows", "changed since it was opened")
    -- opening it now fails at once
    assert_mentions(failure(ae.data.h5, { big }), big)
  end)
end)

describe("ae.data.h5 on files written by h5py", function()
  local dir
  setup(function() dir = process.tmpdir() end)
  teardown(function() os.execute("rm -rf " .. quote(dir)) end)

  -- float32 values of a raw little-endian file
  local function raw_floats(path)
    local s, v = process.read_all(path), {}
    for i = 1, #s, 4 do v[#v + 1] = string.unpack("<f", s, i) end
    return v
  end

  local function flat(t) return t:reshape(t:numel()):totable() end

  it("converts every numeric dtype to float32 as numpy does, gzip-chunked or not", function()
    if not has_h5py then
      pending("/usr/bin/python3 with h5py and numpy not installed")
      return
    end
    python(dir, [[
import sys, h5py, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(1)
n = 300
base = rng.normal(0, 50, (n, 4, 2))
base[:, 0, 0] = np.arange(1, n + 1)
arrays = {
    "u8": np.clip(np.abs(base), 0, 255).astype(np.uint8),
    "i16": (base * 100).astype(np.int16),
    "i64": (base * 1e7).astype(np.int64),
    "f16": base.astype(np.float16),
    "f64": base * 1.000001,
}
with h5py.File(d + "/types.h5", "w") as f:
    for k, a in arrays.items():
        f.create_dataset(k, data=a)
        f.create_dataset("gz/" + k, data=a, chunks=(16, 4, 1), compression="gzip")
    f.create_dataset("y", data=(np.arange(1, n + 1) % 5).astype(np.int64))
    f.create_dataset("yf", data=(np.arange(1, n + 1) % 5).astype(np.float32))
for k, a in arrays.items():
    scale = 1 / 255 if k == "u8" else 1.0
    (a.astype(np.float32).astype(np.float64) * scale).astype("<f4").tofile(d + "/" + k + ".raw")
]])
    local file = dir .. "/types.h5"
    for _, k in ipairs { "u8", "i16", "i64", "f16", "f64" } do
      local want = raw_floats(dir .. "/" .. k .. ".raw")
      local scale = k == "u8" and 1 / 255 or nil
      for _, name in ipairs { k, "gz/" .. k } do
        for _, stream in ipairs { false, true } do
          local ds = ae.data.h5 { file, x = name, y = "y", scale = scale, stream = stream, window = stream and 80 or nil }
          assert.same({ 4, 2 }, ds:sample_shape())
          -- exact: HDF5 converts to float32 by rounding to nearest, as numpy
          assert.same(want, flat(ds:images()), name)
        end
      end
    end
    local ds = ae.data.h5 { file, x = "gz/f64", y = "yf" }
    assert.same({ [0] = 60, 60, 60, 60, 60 }, ds:counts())
  end)

  it("streams a gzip-chunked file in blocks of whole chunks, and replays its order", function()
    if not has_h5py then
      pending("/usr/bin/python3 with h5py and numpy not installed")
      return
    end
    python(dir, [[
import sys, h5py, numpy as np
n = 1000
x = np.random.default_rng(2).normal(0, 3, (n, 5)).astype(np.float32)
x[:, 0] = np.arange(1, n + 1)
with h5py.File(sys.argv[1] + "/chunked.h5", "w") as f:
    f.create_dataset("train/x", data=x, chunks=(10, 5), compression="gzip", compression_opts=4)
    f.create_dataset("train/y", data=np.arange(1, n + 1) % 5, dtype=np.int16)
]])
    local file = dir .. "/chunked.h5"
    local loaded = ae.data.h5 { file, x = "train/x", y = "train/y" }
    -- window 160: blocks of 20 rows (an eighth of it, two chunks of 10)
    local streamed = ae.data.h5 { file, x = "train/x", y = "train/y", stream = true, window = 160 }
    assert.same(loaded:images():totable(), streamed:images():totable())
    ae.manual_seed(8)
    local order = assert_replays(streamed, 50)
    assert_covers(order, 1000)
    for w = 0, 6 do
      local blocks, count = {}, 0
      for k = w * 160 + 1, math.min(w * 160 + 160, 1000) do
        local b = (order[k] - 1) // 20
        if not blocks[b] then blocks[b], count = true, count + 1 end
      end
      assert.is_true(count <= 8, "window " .. w .. " draws from " .. count .. " blocks")
    end
    assert_covers(assert_replays(loaded, 50), 1000)
  end)

  it("fails at the batch on a damaged chunk, naming the file and rows", function()
    if not has_h5py then
      pending("/usr/bin/python3 with h5py and numpy not installed")
      return
    end
    python(dir, [[
import sys, h5py, numpy as np
d = sys.argv[1]
x = np.random.default_rng(3).normal(0, 1, (400, 5)).astype(np.float32)
with h5py.File(d + "/damaged.h5", "w") as f:
    f.create_dataset("x", data=x, chunks=(20, 5), compression="gzip")
with h5py.File(d + "/damaged.h5", "r") as f:
    info = f["x"].id.get_chunk_info(7)  # rows 141..160
    off, size = info.byte_offset, info.size
with open(d + "/damaged.h5", "r+b") as f:
    f.seek(off)
    f.write(b"\xff" * size)
]])
    local file = dir .. "/damaged.h5"
    local ds = ae.data.h5 { file, stream = true, window = 160 }
    local ok, err = pcall(function() for _ in ds:batches(40) do end end)
    assert.is_false(ok)
    assert_mentions(err, file, "cannot read rows 141..160")
    assert_mentions(failure(ae.data.h5, { file }), file, "cannot read")
  end)
end)
