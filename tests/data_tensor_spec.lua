-- data_tensor_spec.lua: data sets from tensors (ae.data.tensor), random
-- splits (ae.data.split) and per-feature standardisation
-- (ae.data.standardizer, ds:standardize), runtime/io/dataset.c and
-- runtime/lua/data.c.  Samples carry their own index in feature 1, so a
-- batch tells which samples it holds: epochs must cover each sample once,
-- and an epoch started from a saved RNG state must replay the same order.
-- Standardisation is checked against numpy (/usr/bin/python3, skipped with
-- a reason when absent) and against a float64 computation in Lua.
local ae = require "aerun"
local process = require "tests.helpers.process"

local PYTHON = "/usr/bin/python3"

local assert_mentions = require("tests.helpers.check").mentions

local failure = require("tests.helpers.check").error_of

-- n samples of d features: feature 1 is the sample's index (1-based), the
-- others values of every sign and size; labels i % 7 - 3 (negative too)
local function indexed(n, d)
  local rows, labels = {}, {}
  for i = 1, n do
    local r = { i }
    for j = 2, d do r[j] = math.sin(i * 12.9898 + j * 78.233) * 1000 * j + i * 0.5 end
    rows[i] = r
    labels[i] = i % 7 - 3
  end
  return ae.tensor(rows), ae.tensor(labels)
end

-- the sample indices an epoch yields, in order
local function epoch_order(ds, size, opts)
  local order = {}
  for x in ds:batches(size, opts) do
    for _, r in ipairs(x:totable()) do order[#order + 1] = math.tointeger(r[1]) end
  end
  return order
end

-- each of the expected indices exactly once
local function assert_covers(order, expected)
  local seen = {}
  for _, i in ipairs(order) do
    assert.is_nil(seen[i], "sample " .. i .. " twice in one epoch")
    seen[i] = true
  end
  for _, i in ipairs(expected) do assert.is_true(seen[i], "sample " .. i .. " missing from the epoch") end
  assert.equal(#expected, #order)
end

-- the order of a shuffled epoch started from a saved RNG state, then again
-- after the RNG moved on and was restored: a resumed run's replay
local function assert_replays(ds, size)
  local state = ae.rng_state()
  local first = epoch_order(ds, size, { shuffle = true })
  ae.randn(100)
  ae.set_rng_state(state)
  local again = epoch_order(ds, size, { shuffle = true })
  assert.same(first, again)
  return first
end

local function range(a, b)
  local v = {}
  for i = a, b do v[#v + 1] = i end
  return v
end

describe("ae.data.tensor", function()
  it("holds the samples and labels of x and y, with the sample shape of x", function()
    local x = ae.arange(0, 60):reshape(5, 3, 4)
    local y = ae.tensor({ 4, -2, 1000, 4, 7 })
    local ds = ae.data.tensor(x, y, { name = "cube" })
    assert.equal(5, #ds)
    assert.equal(12, ds:dim())
    assert.same({ 3, 4 }, ds:sample_shape())
    assert.equal("cube", ds:name())
    assert.same(x:reshape(5, 12):totable(), ds:images():totable())
    assert.same({ 4, -2, 1000, 4, 7 }, ds:labels():totable())
    assert.same({ [4] = 2, [-2] = 1, [1000] = 1, [7] = 1 }, ds:counts())
    -- the data set holds a copy: changing x later changes nothing
    x:copy_(ae.zeros(5, 3, 4))
    assert.equal(12, ds:batch(2, 1):totable()[1][1])
  end)

  it("filters any integer label and limits, like ae.data.mnist", function()
    local x, y = indexed(40, 3)
    local ds = ae.data.tensor(x, y, { classes = { -3, 3 }, limit = 5 })
    local order = epoch_order(ds, 2)
    -- labels i % 7 - 3: -3 for i = 7, 14, ...; 3 for i = 6, 13, ...
    assert.same({ 6, 7, 13, 14, 20 }, order)
    assert.same({ [-3] = 2, [3] = 3 }, ds:counts())
    assert.equal(10, #ae.data.tensor(x, { limit = 10 }))
    assert.is_false(ae.data.tensor(x):has_labels())
    local listed = ae.data.tensor(ae.ones(3, 2), { 5, 6, 5 }, { classes = 5 })
    assert.same({ [5] = 2 }, listed:counts())
  end)

  it("covers every sample once per epoch and replays an epoch from a saved RNG state", function()
    local x, y = indexed(103, 4)
    local ds = ae.data.tensor(x, y)
    ae.manual_seed(5)
    local order = assert_replays(ds, 10)
    assert_covers(order, range(1, 103))
    assert.are_not.same(range(1, 103), order)
    assert_covers(epoch_order(ds, 10, { drop_last = true }), range(1, 100))
  end)

  it("refuses bad input with the lengths, the sample and the feature", function()
    local x, y = indexed(10, 3)
    assert_mentions(failure(ae.data.tensor, x, ae.tensor({ 1, 2, 3 })), "x has 10 samples", "y has 3 labels")
    local rows = x:totable()
    rows[4][3] = 0 / 0
    assert_mentions(failure(ae.data.tensor, ae.tensor(rows), y), "sample 4, feature 3 is NaN")
    rows[4][3] = -1 / 0
    assert_mentions(failure(ae.data.tensor, ae.tensor(rows)), "sample 4, feature 3 is -inf")
    assert_mentions(failure(ae.data.tensor, x, ae.tensor({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 9.5 })),
      "y[10]", "not an integer")
    assert_mentions(failure(ae.data.tensor, x, y, { limt = 2 }), "unknown option 'limt'")
    assert_mentions(failure(ae.data.tensor, { 1, 2 }), "x must be a tensor")
    assert_mentions(failure(ae.data.tensor, x, y, { classes = 99 }), "no sample has a label in {99}")
  end)
end)

describe("ae.data.split", function()
  local x, y = indexed(101, 3)
  local ds = ae.data.tensor(x, y)

  it("partitions at random in the proportions given, each part in the data set's order", function()
    local a, b, c = table.unpack(ae.data.split(ds, { 0.5, 0.3, 0.2 }, 11))
    -- 50.5, 30.3, 20.2 rounded down, the one left over to the first part
    assert.same({ 51, 30, 20 }, { #a, #b, #c })
    local all = {}
    for _, part in ipairs { a, b, c } do
      local order = epoch_order(part, 7)
      for k = 2, #order do assert.is_true(order[k - 1] < order[k]) end
      for _, i in ipairs(order) do all[#all + 1] = i end
    end
    table.sort(all)
    assert.same(range(1, 101), all)
    -- the labels travel with their samples
    for _, part in ipairs { a, b } do
      local xs, ys = part:images():totable(), part:labels():totable()
      for k, r in ipairs(xs) do assert.equal(r[1] % 7 - 3, ys[k]) end
    end
    local p, q = table.unpack(ae.data.split(ds, { 60, 41 }, 11))
    assert.same({ 60, 41 }, { #p, #q })
  end)

  it("is reproducible with a seed and leaves the runtime RNG alone", function()
    ae.manual_seed(1)
    local before = ae.rng_state()
    local a1 = epoch_order(ae.data.split(ds, { 0.9, 0.1 }, 42)[1], 50)
    assert.equal(before, ae.rng_state())
    local a2 = epoch_order(ae.data.split(ds, { 0.9, 0.1 }, 42)[1], 50)
    assert.same(a1, a2)
    assert.are_not.same(a1, epoch_order(ae.data.split(ds, { 0.9, 0.1 }, 43)[1], 50))
    -- without a seed the draw is the runtime RNG's: a saved state replays it
    local state = ae.rng_state()
    local u1 = epoch_order(ae.data.split(ds, { 0.9, 0.1 })[1], 50)
    assert.are_not.equal(state, ae.rng_state())
    ae.set_rng_state(state)
    assert.same(u1, epoch_order(ae.data.split(ds, { 0.9, 0.1 })[1], 50))
  end)

  it("replays a part's shuffled epoch from a saved RNG state", function()
    local a = ae.data.split(ds, { 0.7, 0.3 }, 3)[1]
    ae.manual_seed(9)
    assert_covers(assert_replays(a, 8), epoch_order(a, 8))
  end)

  it("refuses parts that do not add up, or would be empty", function()
    assert_mentions(failure(ae.data.split, ds, { 0.5, 0.4 }), "sum to 0.9", "counts summing to #ds (101)")
    assert_mentions(failure(ae.data.split, ds, { 100, 2 }), "sum to 102")
    assert_mentions(failure(ae.data.split, ds, { 0.999, 0.001 }), "part 2 would have 0 samples")
    assert_mentions(failure(ae.data.split, ds, { 0.5, -0.5, 1 }), "part 2 is -0.5")
    assert_mentions(failure(ae.data.split, x, { 0.5, 0.5 }), "expected a data set")
  end)
end)

-- mean and population std of each column of rows (Lua tables), in float64
local function column_moments(rows)
  local n, d = #rows, #rows[1]
  local mean, std = {}, {}
  for j = 1, d do
    local s = 0
    for i = 1, n do s = s + rows[i][j] end
    mean[j] = s / n
    local q = 0
    for i = 1, n do q = q + (rows[i][j] - mean[j]) ^ 2 end
    std[j] = math.sqrt(q / n)
  end
  return mean, std
end

-- |a - b| within rel of |b| (and an absolute floor for values near 0)
local function assert_close(a, b, rel, what)
  assert.is_true(math.abs(a - b) <= rel * math.max(math.abs(b), 1),
    string.format("%s: %.9g vs %.9g", what, a, b))
end

describe("ae.data.standardizer", function()
  it("fits the per-feature mean and population std, and batches give (x - mean) / std", function()
    local rows = (ae.randn(5000, 6) * ae.tensor({ 1, 10, 0.01, 1000, 3, 1 }) + ae.tensor({ 0, -5, 100, 1e4, 0, 7 }))
      :totable()
    for i = 1, 5000 do rows[i][6] = 7.1 end -- a constant feature: std 1
    local x = ae.tensor(rows)
    local ds = ae.data.tensor(x)
    local st = ae.data.standardizer(ds)
    local mean, std = column_moments(x:totable())
    std[6] = 1
    -- float64 accumulation, stored as float32: within float32's rounding
    for j = 1, 6 do
      assert_close(st.mean[j]:item(), mean[j], 2e-7, "mean " .. j)
      assert_close(st.std[j]:item(), std[j], 2e-7, "std " .. j)
    end
    local z = ds:standardize(st)
    assert.is_true(z:standardized())
    rows = x:totable()
    local zs = z:images():totable()
    for i = 1, 5000, 37 do
      for j = 1, 6 do
        local want = (rows[i][j] - st.mean[j]:item()) / st.std[j]:item()
        -- one float32 subtraction and division: a few ulps of the result
        assert_close(zs[i][j], want, 1e-6, "z " .. i .. "," .. j)
      end
    end
    -- the standardized data set has mean 0 and std 1 up to the float32
    -- rounding of the stored mean: half an ulp of |mean| (2^-24 |mean|
    -- relative) divided by std, so 4e-4 for feature 3 (100 ± 0.01)
    local st2 = ae.data.standardizer(z)
    for j = 1, 6 do
      local tol = 1e-6 + 2 * 2 ^ -24 * math.abs(mean[j]) / std[j]
      assert.is_true(math.abs(st2.mean[j]:item()) < tol, "mean of z " .. j .. ": " .. st2.mean[j]:item())
      assert.is_true(math.abs(st2.std[j]:item() - 1) < 1e-5 or j == 6, "std of z " .. j)
    end
  end)

  it("rebuilds from saved tensors, and refuses mismatched shapes", function()
    local x = ae.randn(50, 2, 3)
    local ds = ae.data.tensor(x)
    local st = ae.data.standardizer(ds)
    assert.same({ 2, 3 }, st.mean:shape())
    local again = ae.data.standardizer { mean = st.mean:clone(), std = st.std:clone() }
    assert.same(ds:standardize(st):images():totable(), ae.data.standardize(ds, again):images():totable())
    local flat = ae.data.standardizer { mean = st.mean:reshape(6), std = st.std:reshape(6) }
    assert.same(ds:standardize(st):images():totable(), ds:standardize(flat):images():totable())
    local wrong = ae.data.standardizer { mean = ae.zeros(5), std = ae.ones(5) }
    assert_mentions(failure(ds.standardize, ds, wrong), "mean has shape 5", "2×3", "6 features")
    assert_mentions(failure(ae.data.standardizer, { mean = ae.zeros(6), std = ae.zeros(6) }), "positive")
    assert_mentions(failure(ae.data.standardizer, { mean = ae.zeros(6), std = ae.ones(5) }), "std has shape")
    assert_mentions(failure(ds.standardize, ds:standardize(st), st), "standardized already")
  end)

  it("matches numpy's mean, std and (x - mean) / std", function()
    if os.execute(PYTHON .. " -c 'import numpy' >/dev/null 2>&1") ~= true then
      pending("/usr/bin/python3 with numpy not installed")
      return
    end
    local dir = process.tmpdir()
    local x = ae.randn(2000, 5) * 4 + 2.5
    local ds = ae.data.tensor(x)
    local st = ae.data.standardizer(ds)
    local z = ds:standardize(st):images()
    -- write the raw float32 values for numpy (no h5py needed)
    local vals = x:reshape(10000):totable()
    local parts = {}
    for i, v in ipairs(vals) do parts[i] = string.pack("<f", v) end
    process.write(dir .. "/x.raw", table.concat(parts))
    local out = process.capture(string.format([[%s -c '
import numpy as np, sys
x = np.fromfile(sys.argv[1], dtype="<f4").reshape(2000, 5).astype(np.float64)
m, s = x.mean(0), x.std(0)
z = (x - m) / s
print(" ".join("%%.17g" %% v for v in list(m) + list(s) + list(z[:3].ravel())))
' %s]], PYTHON, process.quote(dir .. "/x.raw")))
    local v = {}
    for w in out:gmatch("%S+") do v[#v + 1] = tonumber(w) end
    assert.equal(25, #v, out)
    for j = 1, 5 do
      assert_close(st.mean[j]:item(), v[j], 2e-7, "mean " .. j)
      assert_close(st.std[j]:item(), v[5 + j], 2e-7, "std " .. j)
    end
    local zs = z:totable()
    for i = 1, 3 do
      -- numpy in float64, aerun with float32 mean and std: both agree to
      -- float32's relative precision of the inputs, times |z| + 1
      for j = 1, 5 do assert_close(zs[i][j], v[10 + (i - 1) * 5 + j], 1e-6 * 4, "z " .. i .. "," .. j) end
    end
    os.execute("rm -rf " .. process.quote(dir))
  end)
end)
