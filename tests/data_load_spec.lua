-- ae.data's sources over the C readers (npy, npz, csv, images) and
-- ae.data.load(spec), the string --data takes: each source on a file this
-- spec writes, its values, labels and names, the defaults of a spec, the
-- resume order (a saved RNG state replays an epoch), and the errors.
local ae = require "aerun"
local process = require "tests.helpers.process"
local q, sh = process.quote, process.sh

local dir = process.tmpdir()
local python = "/usr/bin/python3"
local has_numpy = select(2, sh(python .. " -c 'import numpy'"))

-- a little-endian float32 .npy of t
local function write_npy(path, t) process.write(path, require("tests.helpers.npy").float32(t)) end

-- the batches of one shuffled epoch, as Lua tables
local function epoch(ds)
  local out = {}
  for x, y in ds:batches(7, { shuffle = true }) do out[#out + 1] = { x:totable(), y and y:totable() } end
  return out
end

-- the order of an epoch is fixed by the RNG state when it starts
local function replays(ds)
  local state = ae.rng_state()
  local first = epoch(ds)
  ae.set_rng_state(state)
  assert.same(first, epoch(ds))
end

teardown(function() sh("rm -rf " .. q(dir)) end)

describe("ae.data.npy", function()
  it("holds an array and its labels, and replays an epoch's order", function()
    ae.manual_seed(1)
    local x = ae.randn(30, 2, 3)
    local y = ae.tensor { 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2 }
    write_npy(dir .. "/x.npy", x)
    write_npy(dir .. "/y.npy", y)
    local ds = ae.data.npy { x = dir .. "/x.npy", y = dir .. "/y.npy" }
    assert.equal(30, #ds)
    assert.same({ 2, 3 }, ds:sample_shape())
    assert.same(x:reshape(30, 6):totable(), ds:images():totable())
    assert.same(y:totable(), ds:labels():totable())
    assert.same({ [0] = 10, [1] = 10, [2] = 10 }, ds:counts())
    replays(ds)
    -- the same through a spec, with the labels after ':'
    local spec = ae.data.load(dir .. "/x.npy:" .. dir .. "/y.npy")
    assert.same(ds:labels():totable(), spec:labels():totable())
    -- scale multiplies; classes keeps the samples of those labels
    local half = ae.data.npy { x = dir .. "/x.npy", y = dir .. "/y.npy", scale = 0.5, classes = 2 }
    assert.equal(10, #half)
    assert.same((x[3]:reshape(1, 6) * 0.5):totable(), half:batch(1, 1):totable())
  end)

  it("refuses labels that do not fit the samples", function()
    write_npy(dir .. "/y3.npy", ae.tensor { 0, 1, 2 })
    local ok, err = pcall(ae.data.npy, { x = dir .. "/x.npy", y = dir .. "/y3.npy" })
    assert.is_false(ok)
    assert.truthy(err:find("30 samples but y has 3 labels", 1, true), err)
  end)
end)

describe("ae.data.csv", function()
  it("reads numeric columns with the label column chosen by name", function()
    process.write(dir .. "/t.csv", "a,class,b\n1.5,0,2\n-3,1,4.25\n5,1,6\n")
    local ds = ae.data.csv { dir .. "/t.csv", label = "class" }
    assert.equal(3, #ds)
    assert.same({ { 1.5, 2 }, { -3, 4.25 }, { 5, 6 } }, ds:images():totable())
    assert.same({ 0, 1, 1 }, ds:labels():totable())
    local spec = ae.data.load(dir .. "/t.csv:class")
    assert.same(ds:images():totable(), spec:images():totable())
    -- a column number works as well
    assert.same({ 0, 1, 1 }, ae.data.load(dir .. "/t.csv:2"):labels():totable())
  end)

  it("names the line of a ragged row", function()
    process.write(dir .. "/bad.csv", "a,b\n1,2\n3\n")
    local ok, err = pcall(ae.data.load, dir .. "/bad.csv")
    assert.is_false(ok)
    assert.truthy(err:find("bad.csv", 1, true) and err:find("line 3", 1, true), err)
  end)
end)

describe("ae.data.npz", function()
  it("reads the arrays x and y of an archive numpy wrote", function()
    if not has_numpy then
      pending("/usr/bin/python3 has no numpy to write an .npz")
      return
    end
    process.write(dir .. "/make.py", [[
import sys, numpy as np
x = np.arange(24, dtype=np.float64).reshape(6, 4) / 7
np.savez_compressed(sys.argv[1], x=x, y=np.array([3, 1, 3, 1, 3, 1]))
]])
    local out, ok = sh(python .. " " .. q(dir .. "/make.py") .. " " .. q(dir .. "/a.npz"))
    assert(ok, out)
    local ds = ae.data.load(dir .. "/a.npz")
    assert.equal(6, #ds)
    assert.same({ 3, 1, 3, 1, 3, 1 }, ds:labels():totable())
    -- float64 / 7 rounded to float32, as numpy's astype(float32)
    assert.equal(string.unpack("<f", string.pack("<f", 5 / 7)), ds:images():totable()[2][2])
    replays(ds)
    local ok2, err = pcall(ae.data.load, dir .. "/a.npz:z")
    assert.is_false(ok2)
    assert.truthy(err:find("x", 1, true) and err:find("y", 1, true), err)
  end)
end)

describe("ae.data.images", function()
  it("reads a folder of PNGs with labels from its subfolders", function()
    local root = dir .. "/pics"
    assert(ae.mkdir_p(root .. "/dark") and ae.mkdir_p(root .. "/light"))
    for i = 1, 3 do
      ae.image.save(root .. "/dark/" .. i .. ".png", ae.full(1, 6, 5, 0.1 * i))
      ae.image.save(root .. "/light/" .. i .. ".png", ae.full(1, 6, 5, 0.6 + 0.1 * i))
    end
    local ds = ae.data.load(root)
    assert.equal(6, #ds)
    assert.same({ 1, 6, 5 }, ds:sample_shape())
    assert.same({ 0, 0, 0, 1, 1, 1 }, ds:labels():totable())
    -- 0.1 is saved as the byte 26 and read back as 26 / 255
    assert.equal(string.unpack("<f", string.pack("<f", 26 / 255)), ds:images():totable()[1][1])
    replays(ds)
    local ok, err = pcall(ae.data.load, root .. ":x")
    assert.is_false(ok)
    assert.truthy(err:find("folder of images takes nothing", 1, true), err)
  end)
end)

describe("ae.data.load", function()
  it("takes x and, when present, y from an HDF5 file by default", function()
    local f = ae.h5.open(dir .. "/d.h5", "w")
    f:write("x", ae.arange(12):reshape(4, 3))
    f:write("y", ae.tensor { 1, 0, 1, 0 })
    f:write("other", ae.ones(4, 2))
    f:close()
    local ds = ae.data.load(dir .. "/d.h5")
    assert.same({ 1, 0, 1, 0 }, ds:labels():totable())
    local other = ae.data.load(dir .. "/d.h5:other")
    assert.is_false(other:has_labels())
    assert.same({ 2 }, other:sample_shape())
  end)

  it("says what is missing or unknown", function()
    local ok, err = pcall(ae.data.load, dir .. "/nothing.h5:x,y")
    assert.is_false(ok)
    assert.truthy(err:find("nothing.h5: no such file or folder", 1, true), err)
    process.write(dir .. "/data.bin", "x")
    ok, err = pcall(ae.data.load, dir .. "/data.bin")
    assert.is_false(ok)
    assert.truthy(err:find("cannot tell the format", 1, true), err)
  end)
end)
