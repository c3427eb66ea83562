-- data_spec.lua: ae.data data sets and their batches (runtime/io/dataset.c,
-- runtime/lua/data.c, lua/aerun/data.lua).  A small synthetic set, written
-- to a temporary directory, checks batches value by value; the real MNIST
-- and Fashion-MNIST (`make data` first) are checked against their published
-- sizes, first labels and class counts.
local ae = require "aerun"

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function sh(cmd)
  assert(os.execute(cmd), "command failed: " .. cmd)
end

local function write(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
  return path
end

local function capture(cmd)
  local p = assert(io.popen(cmd))
  local s = p:read("a")
  p:close()
  return s
end

-- an IDX file of ubytes
local function idx_u8(dims, values)
  local parts = {string.pack(">BBBB", 0, 0, 0x08, #dims)}
  for _, d in ipairs(dims) do parts[#parts + 1] = string.pack(">I4", d) end
  for _, v in ipairs(values) do parts[#parts + 1] = string.char(v) end
  return table.concat(parts)
end

local assert_mentions = require("tests.helpers.check").mentions

local failure = require("tests.helpers.check").error_of

-- a reduction's result as a Lua number, whether it is one or a scalar tensor
local function number(v)
  if type(v) == "number" then return v end
  return v:item()
end

-- all the batches of one epoch: {sizes = {...}, labels = {...}, rows = {...}}
-- (rows only when keep_rows, as tables of floats)
local function epoch(ds, size, opts, keep_rows)
  local out = {sizes = {}, labels = {}, rows = {}, pixel_sum = 0}
  for x, y in ds:batches(size, opts) do
    local shape = x:shape()
    assert.equal(2, #shape)
    assert.equal(ds:dim(), shape[2])
    out.sizes[#out.sizes + 1] = shape[1]
    local ys = y:totable()
    assert.equal(shape[1], #ys)
    for _, v in ipairs(ys) do out.labels[#out.labels + 1] = v end
    out.pixel_sum = out.pixel_sum + number(x:sum())
    if keep_rows then
      for _, row in ipairs(x:totable()) do out.rows[#out.rows + 1] = row end
    end
  end
  return out
end

local function same_list(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do
    if a[i] ~= b[i] then return false end
  end
  return true
end

describe("ae.data on a synthetic data set", function()
  -- N images of 2×3; image i (0-based) has pixel k = 10*i + k, so a row
  -- tells which sample it is; label i is i % 3
  local N, dir, images_path, labels_path
  local function label_of(i) return i % 3 end

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    sh("mkdir -p " .. quote(dir))
    N = 23
    local pixels, labels = {}, {}
    for i = 0, N - 1 do
      for k = 0, 5 do pixels[#pixels + 1] = 10 * i + k end
      labels[#labels + 1] = label_of(i)
    end
    images_path = write(dir .. "/images", idx_u8({N, 2, 3}, pixels))
    labels_path = write(dir .. "/labels", idx_u8({N}, labels))
  end)

  teardown(function() sh("rm -rf " .. quote(dir)) end)

  local function open(opts)
    opts = opts or {}
    opts.images, opts.labels = images_path, labels_path
    return ae.data.open(opts)
  end

  -- the 0-based sample a row came from, checking every pixel of it
  local function sample_of(row)
    local i = math.floor(row[1] * 255 + 0.5) // 10
    for k = 0, 5 do
      assert.is_true(math.abs(row[k + 1] - (10 * i + k) / 255) < 1e-6, "row is not an image of the set")
    end
    return i
  end

  it("knows its size and shapes", function()
    local ds = open()
    assert.equal(N, #ds)
    assert.equal(N, ds:size())
    assert.equal(6, ds:dim())
    assert.same({2, 3}, ds:sample_shape())
    assert.is_true(ds:has_labels())
    assert_mentions(tostring(ds), "23 samples", "2×3")
  end)

  it("batches in file order with a smaller last batch", function()
    local e = epoch(open(), 5, nil, true)
    assert.same({5, 5, 5, 5, 3}, e.sizes)
    for j, row in ipairs(e.rows) do
      assert.equal(j - 1, sample_of(row))
      assert.equal(label_of(j - 1), e.labels[j])
    end
  end)

  it("drops the last partial batch with drop_last", function()
    local ds = open()
    assert.same({5, 5, 5, 5}, epoch(ds, 5, {drop_last = true}).sizes)
    assert.equal(4, ds:num_batches(5, {drop_last = true}))
    assert.equal(5, ds:num_batches(5))
    assert.same({23}, epoch(ds, 100).sizes)
    assert.same({}, epoch(ds, 100, {drop_last = true}).sizes)
  end)

  it("shuffles into a permutation, labels following their images", function()
    local ds = open()
    ae.manual_seed(3)
    local orders = {}
    for trial = 1, 3 do
      local e = epoch(ds, 4, {shuffle = true}, true)
      local seen, order = {}, {}
      for j, row in ipairs(e.rows) do
        local i = sample_of(row)
        assert.is_nil(seen[i], "sample " .. i .. " twice in an epoch")
        seen[i] = true
        order[j] = i
        assert.equal(label_of(i), e.labels[j])
      end
      assert.equal(N, #order)
      orders[trial] = order
    end
    local identity = {}
    for i = 1, N do identity[i] = i - 1 end
    -- 23! orders: meeting the identity or a repeat by chance is impossible
    assert.is_false(same_list(orders[1], identity))
    assert.is_false(same_list(orders[1], orders[2]))
    assert.is_false(same_list(orders[2], orders[3]))
  end)

  it("draws every order equally often (a uniform shuffle)", function()
    local ds = ae.data.open {images = write(dir .. "/three", idx_u8({3, 1}, {0, 1, 2})),
                             labels = write(dir .. "/three-labels", idx_u8({3}, {0, 1, 2}))}
    ae.manual_seed(5)
    local seen = {}
    local epochs = 6000
    for _ = 1, epochs do
      local _, y = ds:batches(3, {shuffle = true})()
      local key = table.concat(y:totable(), ",")
      seen[key] = (seen[key] or 0) + 1
    end
    -- each of the 3! orders has probability 1/6: 1000 ± 29 (one sigma)
    local orders = 0
    for key, count in pairs(seen) do
      orders = orders + 1
      assert.is_true(math.abs(count - epochs / 6) < 150, key .. " drawn " .. count .. " times")
    end
    assert.equal(6, orders)
  end)

  it("draws the same order from the same seed and the same RNG state", function()
    local ds = open()
    ae.manual_seed(11)
    local a = epoch(ds, 7, {shuffle = true}).labels
    local a2 = epoch(ds, 7, {shuffle = true}).labels
    ae.manual_seed(11)
    assert.same(a, epoch(ds, 7, {shuffle = true}).labels)
    local state = ae.rng_state()
    local b = epoch(ds, 7, {shuffle = true}, true).rows
    ae.set_rng_state(state)
    assert.same(b, epoch(ds, 7, {shuffle = true}, true).rows)
    assert.is_false(same_list(a, a2))
  end)

  it("gives single batches, gathers, all images and all labels", function()
    local ds = open()
    local x, y = ds:batch(21, 3)
    assert.same({3, 6}, x:shape())
    local rows = x:totable()
    for j = 1, 3 do assert.equal(19 + j, sample_of(rows[j])) end
    assert.same({label_of(20), label_of(21), label_of(22)}, y:totable())
    x, y = ds:gather {23, 1, 5}
    rows = x:totable()
    assert.same({22, 0, 4}, {sample_of(rows[1]), sample_of(rows[2]), sample_of(rows[3])})
    assert.same({label_of(22), label_of(0), label_of(4)}, y:totable())
    assert.same({N, 6}, ds:images():shape())
    local labels = ds:labels():totable()
    assert.equal(N, #labels)
    for i = 1, N do assert.equal(label_of(i - 1), labels[i]) end
    assert.same({[0] = 8, [1] = 8, [2] = 7}, ds:counts())
  end)

  it("keeps only some classes, or the first n samples, in C", function()
    local ds = open()
    local ones = ds:filter(1)
    assert.equal(8, #ones)
    local e = epoch(ones, 3, nil, true)
    for j, row in ipairs(e.rows) do
      assert.equal(1, e.labels[j])
      assert.equal(3 * j - 2, sample_of(row))
    end
    assert.equal(15, #ds:filter {0, 2})
    assert.equal(4, #ds:subset(4))
    local two = open {classes = 2, limit = 3}
    assert.equal(3, #two)
    assert.same({2, 2, 2}, two:labels():totable())
    assert.same({2, 5, 8}, (function()
      local out = {}
      for _, row in ipairs(two:images():totable()) do out[#out + 1] = sample_of(row) end
      return out
    end)())
    -- the original is untouched
    assert.equal(N, #ds)
  end)

  it("works without labels", function()
    local ds = ae.data.open {images = images_path}
    assert.is_false(ds:has_labels())
    local n = 0
    for x, y in ds:batches(10) do
      assert.is_nil(y)
      n = n + x:shape()[1]
    end
    assert.equal(N, n)
    assert_mentions(failure(ds.filter, ds, 1), "needs labels")
  end)

  it("reports bad use clearly", function()
    local ds = open()
    assert_mentions(failure(ds.batches, ds, 0), "batch size must be at least 1")
    assert_mentions(failure(ds.batches, ds, 4, {shufle = true}), "unknown option 'shufle'")
    assert_mentions(failure(ds.batch, ds, 22, 5), "22..26", "1..23")
    assert_mentions(failure(ds.gather, ds, {1, 24}), "entry 2", "1..23")
    assert_mentions(failure(ds.filter, ds, 7), "no sample has a label in {7}", "{0, 1, 2}")
    assert_mentions(failure(ds.filter, ds, {1, 2.5}), "entry 2", "not an integer label")
    -- any integer is a label: one that no sample has is simply not kept
    assert_mentions(failure(ds.filter, ds, {300, -4}), "no sample has a label in {-4, 300}")
    assert_mentions(failure(ds.subset, ds, 0), "limit must be at least 1")
    assert_mentions(failure(ae.data.open, {images = images_path, labels = labels_path, limt = 3}),
                    "unknown option 'limt'")
    local short = write(dir .. "/short-labels", idx_u8({5}, {0, 1, 2, 3, 4}))
    assert_mentions(failure(ae.data.open, {images = images_path, labels = short}),
                    "5 labels", short, "23 images", images_path)
    assert_mentions(failure(ae.data.open, {images = labels_path, labels = short}), "5 labels", "23 images")
    local wide = write(dir .. "/wide", string.pack(">BBBBI4", 0, 0, 0x0D, 1, 1) .. string.pack(">f", 1))
    assert_mentions(failure(ae.data.open, {images = wide}), wide, "float", "ubyte")
    local closed = open()
    closed:close()
    assert_mentions(failure(closed.batches, closed, 4), "closed")
  end)
end)

describe("ae.data standard data sets", function()
  local published = {
    mnist = {
      train = {first = {5, 0, 4, 1, 9, 2, 1, 3, 1, 4},
               counts = {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}},
      test = {first = {7, 2, 1, 0, 4, 1, 4, 9, 5, 9},
              counts = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}},
    },
    ["fashion-mnist"] = {
      train = {first = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, counts = {}},
      test = {first = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, counts = {}},
    },
  }
  for c = 1, 10 do
    published["fashion-mnist"].train.counts[c] = 6000
    published["fashion-mnist"].test.counts[c] = 1000
  end
  local loaders = {mnist = ae.data.mnist, ["fashion-mnist"] = ae.data.fashion_mnist}

  for _, name in ipairs {"mnist", "fashion-mnist"} do
    for _, split in ipairs {"train", "test"} do
      it(name .. " " .. split .. ": size, shapes, values in [0, 1], published labels", function()
        local ds = loaders[name] {split = split}
        local want = published[name][split]
        local n = split == "train" and 60000 or 10000
        assert.equal(n, #ds)
        assert.equal(784, ds:dim())
        assert.same({28, 28}, ds:sample_shape())
        local labels = ds:labels():totable()
        assert.equal(n, #labels)
        for i = 1, 10 do assert.equal(want.first[i], labels[i]) end
        local counts = {}
        for _, v in ipairs(labels) do
          assert.is_true(v == math.floor(v) and v >= 0 and v <= 9, "label " .. v)
          counts[v + 1] = (counts[v + 1] or 0) + 1
        end
        assert.same(want.counts, counts)
        local lo, hi = math.huge, -math.huge
        for x in ds:batches(10000) do
          lo = math.min(lo, number(x:min()))
          hi = math.max(hi, number(x:max()))
        end
        assert.equal(0, lo)
        assert.equal(1, hi)
      end)
    end
  end

  it("MNIST's first training image is the well-known 5", function()
    -- its row 5 (0-based), as many tutorials print it, holds the bytes
    -- 3 18 18 18 126 136 175 26 166 255 247 127 from column 12 (0-based) on
    local x = ae.data.mnist {split = "train", limit = 1}:images():totable()[1]
    local row = {}
    for c = 1, 28 do row[c] = math.floor(x[5 * 28 + c] * 255 + 0.5) end
    assert.same({0, 0, 3, 18, 18, 18, 126, 136, 175, 26, 166, 255, 247, 127, 0},
                {table.unpack(row, 11, 25)})
  end)

  it("shuffled epochs cover every sample once; the seed fixes the order", function()
    local ds = ae.data.fashion_mnist {split = "test"}
    local plain = epoch(ds, 128)
    ae.manual_seed(42)
    local a = epoch(ds, 128, {shuffle = true})
    local b = epoch(ds, 128, {shuffle = true})
    ae.manual_seed(42)
    local a2 = epoch(ds, 128, {shuffle = true})
    for _, e in ipairs {plain, a, b} do
      assert.equal(79, #e.sizes)
      assert.equal(16, e.sizes[79])   -- 10000 = 78 × 128 + 16
      local hist = {}
      for _, v in ipairs(e.labels) do hist[v] = (hist[v] or 0) + 1 end
      for c = 0, 9 do assert.equal(1000, hist[c]) end
      -- the same pixels, summed in another order
      assert.is_true(math.abs(e.pixel_sum - plain.pixel_sum) < 1e-6 * plain.pixel_sum)
    end
    assert.is_false(same_list(plain.labels, a.labels))
    assert.is_false(same_list(a.labels, b.labels))
    assert.same(a.labels, a2.labels)
    assert.equal(a.pixel_sum, a2.pixel_sum)
  end)

  it("drop_last drops MNIST's last 96 samples", function()
    local ds = ae.data.mnist {split = "train"}
    local e = epoch(ds, 128, {shuffle = true, drop_last = true})
    assert.equal(468, #e.sizes)
    for _, s in ipairs(e.sizes) do assert.equal(128, s) end
    local full = epoch(ds, 128)
    assert.equal(469, #full.sizes)
    assert.equal(96, full.sizes[469])
  end)

  it("keeps one digit with classes", function()
    local threes = ae.data.mnist {split = "train", classes = 3}
    assert.equal(6131, #threes)
    for _, v in ipairs(threes:labels():totable()) do assert.equal(3, v) end
    local some = ae.data.mnist {split = "test", classes = {0, 1}, limit = 1000}
    assert.equal(1000, #some)
    assert.same({[0] = true, [1] = true}, (function()
      local seen = {}
      for c in pairs(some:counts()) do seen[c] = true end
      return seen
    end)())
  end)

  describe("when a data set is missing", function()
    local dir
    setup(function()
      dir = os.tmpname()
      os.remove(dir)
      sh("mkdir -p " .. quote(dir .. "/empty") .. " " .. quote(dir .. "/env/mnist"))
    end)
    teardown(function() sh("rm -rf " .. quote(dir)) end)

    it("says where it looked and to run make data", function()
      local err = failure(ae.data.mnist, {root = dir .. "/empty"})
      assert_mentions(err, "mnist (train split) not found", "train-images-idx3-ubyte",
                      dir .. "/empty/", "make data")
    end)

    it("names the file it did not find next to one it found", function()
      write(dir .. "/env/mnist/t10k-images-idx3-ubyte", "")
      local err = failure(ae.data.mnist, {root = dir .. "/env", split = "test"})
      assert_mentions(err, "has t10k-images-idx3-ubyte but not t10k-labels-idx1-ubyte")
    end)

    it("looks in $AERUN_DATA and ./data, in a script run by aerun", function()
      local bin = os.getenv("AERUN_BIN") or "build/aerun"
      if bin:sub(1, 1) ~= "/" then bin = capture("pwd"):gsub("\n$", "") .. "/" .. bin end
      local script = write(dir .. "/probe.lua", [[
local ae = require "aerun"
local ok, ds = pcall(ae.data.mnist, {split = "test"})
print(ok and #ds or ds)
]])
      -- nothing anywhere: the error lists $AERUN_DATA's and ./data's directories
      local out = capture("cd " .. quote(dir .. "/empty") .. " && AERUN_DATA=" .. quote(dir .. "/nowhere") ..
                          " " .. quote(bin) .. " " .. quote(script) .. " 2>&1")
      assert_mentions(out, dir .. "/nowhere/mnist/ ($AERUN_DATA)", "data/mnist/", "make data")
      -- $AERUN_DATA/mnist holding the test split (the real files, linked)
      local root = capture("pwd"):gsub("\n$", "")
      for _, f in ipairs {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} do
        local src = root .. "/data/mnist/" .. f
        local handle = io.open(src, "rb")
        if handle then handle:close() else src = src .. ".gz" end
        os.remove(dir .. "/env/mnist/" .. f)
        sh("ln -s " .. quote(src) .. " " .. quote(dir .. "/env/mnist/" .. f .. (src:match("%.gz$") and ".gz" or "")))
      end
      out = capture("cd " .. quote(dir .. "/empty") .. " && AERUN_DATA=" .. quote(dir .. "/env") ..
                    " " .. quote(bin) .. " " .. quote(script) .. " 2>&1")
      assert.equal("10000\n", out)
    end)
  end)
end)
