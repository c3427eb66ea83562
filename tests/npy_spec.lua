-- npy_spec.lua: core.npy_read, core.npz_read and core.npz_names, the NumPy
-- readers (runtime/io/npy.c, npz.c, runtime/lua/files.c).
-- Files written by numpy (/usr/bin/python3, tests/files/make_npy.py) for
-- every dtype in both byte orders, three header versions, np.savez and
-- np.savez_compressed are read back and compared bit for bit with the
-- float32 values numpy's astype gives (which the script checks against
-- torch.from_numpy(a).float() where torch is there): exact, since the
-- conversion is one rounding in both.  Without numpy those tests are
-- pending; .npy files written byte by byte in Lua cover the same dtypes,
-- and every error message is checked on files made to break one rule.
local core = require "aerun.core"
local process = require "tests.helpers.process"
local quote, write, read_all = process.quote, process.write, process.read_all

-- python is not ours to sanitize: under make test-asan the preloaded ASan
-- runtime would make torch's from_numpy abort, so it runs without it
local PYTHON = "env -u LD_PRELOAD /usr/bin/python3"

local check = require "tests.helpers.check"
local f32, flat = check.f32, check.values

-- got equals the float32 values exactly (NaN where NaN, -0 where -0)
local function assert_bits(got, expected, what)
  assert.are.equal(#expected, #got, what .. ": element count")
  for i = 1, #expected do
    local e, g = expected[i], got[i]
    -- the message is made only for a mismatch: these loops run 10^5 times
    if e ~= e then
      if g == g then assert.is_true(false, string.format("%s[%d]: expected NaN, got %s", what, i, tostring(g))) end
    elseif string.pack("<f", e) ~= string.pack("<f", g) then
      assert.is_true(false, string.format("%s[%d]: expected %.9g, got %.9g", what, i, e, g))
    end
  end
end

local npy_file = require "tests.helpers.npy"
local npy, pack, zip, crc32 = npy_file.encode, npy_file.pack, npy_file.zip, npy_file.crc32

local read_error = check.error_of

local assert_mentions = check.mentions

describe("npy_read on files written byte by byte", function()
  local dir
  setup(function() dir = process.tmpdir() end)
  teardown(function() os.execute("rm -rf " .. quote(dir)) end)

  local function file(name, bytes)
    local path = dir .. "/" .. name
    write(path, bytes)
    return path
  end

  -- each dtype: the pack format per byte order, values and what float32 makes of them
  local two63, two64 = 2.0 ^ 63, 2.0 ^ 64
  local cases = {
    -- any non-zero byte is True, as numpy and torch read it
    { "b1", "B", { 1, 0, 2, 255 }, { 1, 0, 1, 1 } },
    { "u1", "B", { 0, 255, 7, 128 }, { 0, 255, 7, 128 } },
    { "i1", "i1", { -128, 127, -1, 0 }, { -128, 127, -1, 0 } },
    { "u2", "I2", { 0, 65535, 300, 1 }, { 0, 65535, 300, 1 } },
    { "i2", "i2", { -32768, 32767, -300, 0 }, { -32768, 32767, -300, 0 } },
    -- 2^24 + 1 is a tie: to even, 2^24; 2^24 + 3 rounds up; 2^32 - 1 to 2^32
    { "u4", "I4", { 0, 4294967295, 16777217, 16777219 }, { 0, 4294967296, 16777216, 16777220 } },
    { "i4", "i4", { -2147483648, 2147483647, -16777217, 5 }, { -2147483648, 2147483648, -16777216, 5 } },
    -- -1 packs as 2^64 - 1
    { "u8", "I8", { 0, -1, 16777217, 3 }, { 0, two64, 16777216, 3 } },
    { "i8", "i8", { math.mininteger, math.maxinteger, 16777217, -2 }, { -two63, two63, 16777216, -2 } },
    { "f4", "f", { 0.1, -3.5, 1e-40, 1 / 0 }, { f32(0.1), -3.5, f32(1e-40), 1 / 0 } },
    { "f8", "d", { 0.1, 1e-50, 3.4028234e38, -0.0 }, { f32(0.1), 0, f32(3.4028234e38), -0.0 } },
    -- half floats as their bits: 1, -2, the largest, the smallest subnormal, -0, inf, 1/3 rounded
    { "f2", "I2", { 0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x7C00, 0x3555, 0x0400 },
      { 1, -2, 65504, 2.0 ^ -24, -0.0, 1 / 0, 0.333251953125, 2.0 ^ -14 } },
  }

  for _, c in ipairs(cases) do
    local t, fmt, values, expected = c[1], c[2], c[3], c[4]
    for _, order in ipairs { "<", ">" } do
      local descr = (#fmt == 1 and fmt ~= "f" and fmt ~= "d") and "|" .. t or order .. t
      it(string.format("reads %s exactly as float32", descr), function()
        local n = #values
        local path = file(t .. order:byte() .. ".npy", npy(descr, { 2, n // 2 }, pack(order .. fmt, values)))
        local x = core.npy_read(path)
        assert.are.same({ 2, n // 2 }, x:shape())
        assert_bits(flat(x), expected, descr)
      end)
    end
  end

  it("reads a NaN half float as NaN", function()
    local x = core.npy_read(file("nan.npy", npy("<f2", { 1 }, pack("<I2", { 0x7E00 }))))
    assert.is_true(x:item() ~= x:item())
  end)

  it("reads header versions 2.0 and 3.0, keys in any order, double quotes and Python 2's 3L", function()
    for _, v in ipairs { 2, 3 } do
      local x = core.npy_read(file("v" .. v .. ".npy", npy("<i2", { 3 }, pack("<i2", { 1, -2, 3 }), { version = v })))
      assert.are.same({ 1, -2, 3 }, x:totable())
    end
    local dict = '{"shape": (2L, 2L), "fortran_order": False, "descr": "<f8"}'
    local x = core.npy_read(file("keys.npy", npy(nil, nil, pack("<d", { 1, 2, 3, 4 }), { dict = dict })))
    assert.are.same({ { 1, 2 }, { 3, 4 } }, x:totable())
  end)

  it("reads a 0-d array as a 0-d tensor and an empty one as an empty tensor", function()
    local s = core.npy_read(file("scalar.npy", npy("<f8", {}, pack("<d", { 2.5 }))))
    assert.are.equal(0, s:dim())
    assert.are.equal(2.5, s:item())
    local e = core.npy_read(file("empty.npy", npy("<f4", { 0, 3 }, "")))
    assert.are.same({ 0, 3 }, e:shape())
    assert.are.equal(0, e:numel())
  end)

  it("accepts Fortran order where it is the same as C order (one dimension larger than 1)", function()
    local x = core.npy_read(file("f1.npy", npy("<f4", { 1, 3 }, pack("<f", { 1, 2, 3 }), { fortran = true })))
    assert.are.same({ { 1, 2, 3 } }, x:totable())
  end)

  it("refuses Fortran order, saying to use np.ascontiguousarray", function()
    local path = file("fortran.npy", npy("<f4", { 2, 2 }, pack("<f", { 1, 2, 3, 4 }), { fortran = true }))
    assert_mentions(read_error(core.npy_read, path), path, "Fortran", "np.ascontiguousarray(a)")
  end)

  it("refuses object, structured, complex, string, datetime and extended-precision dtypes by name", function()
    local refused = {
      { "|O", "object array" }, { "<c8", "complex" }, { "<U3", "strings" }, { "|S2", "strings" },
      { "<M8[D]", "datetimes" }, { "|V8", "structured" }, { "<f16", "long double" }, { "<q", "not a NumPy dtype" },
      { "<i3", "integers have 1, 2, 4 or 8 bytes" }, { "|i4", "byte order" }, { "<f", "element size" },
    }
    for i, r in ipairs(refused) do
      local path = file("refused" .. i .. ".npy", npy(r[1], { 2 }, string.rep("\0", 64)))
      assert_mentions(read_error(core.npy_read, path), path, "'" .. r[1] .. "'", r[2])
    end
    local dict = "{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (2,), }"
    local path = file("structured.npy", npy(nil, nil, string.rep("\0", 16), { dict = dict }))
    assert_mentions(read_error(core.npy_read, path), path, "structured dtype")
  end)

  it("refuses a file shorter than its header says, giving both sizes", function()
    local path = file("short.npy", npy("<f8", { 3, 4 }, string.rep("\0", 40)))
    assert_mentions(read_error(core.npy_read, path), path, "truncated", "(3, 4)", "'<f8'", "96 bytes", "has 40")
  end)

  it("refuses bytes after the data (two arrays saved into one file)", function()
    local one = npy("<i2", { 2 }, pack("<i2", { 1, 2 }))
    local path = file("two.npy", one .. one)
    assert_mentions(read_error(core.npy_read, path), path, "bytes after its data", "one array per file")
  end)

  it("refuses an f8 value outside float32's range, naming its index", function()
    local path = file("big.npy", npy("<f8", { 2, 2 }, pack("<d", { 1, 2, 3, -1e300 })))
    assert_mentions(read_error(core.npy_read, path), path, "-1.0000000000000001e+300", "(1, 1)", "float32's range")
  end)

  it("refuses more than 8 dimensions", function()
    local path = file("nine.npy", npy("<f4", { 1, 1, 1, 1, 1, 1, 1, 1, 1 }, pack("<f", { 1 })))
    assert_mentions(read_error(core.npy_read, path), path, "more than 8 dimensions")
  end)

  it("refuses what is not a .npy file, or a broken header, naming the file", function()
    local bad = {
      { "", "does not begin with NumPy's magic" },
      { "hello world, not numpy", "does not begin with NumPy's magic" },
      { "PK\3\4rest of a zip", "zip archive" },
      { "\x93NUMPY\1\0", "truncated" },
      { "\x93NUMPY\4\0\10\0{}", "version 4.0" },
      { "\x93NUMPY\1\0\255\0{'descr'", "header claims 255 bytes" },
      { "\x93NUMPY\2\0\0\0\0\127", "more than the 1048576" },
      { npy(nil, nil, "", { dict = "{'descr': '<f4', 'shape': (2,)}" }), "'fortran_order' is missing" },
      { npy(nil, nil, "", { dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}" }),
        "unexpected key 'x'" },
      { npy(nil, nil, "", { dict = "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}" }),
        "appears twice" },
      { npy(nil, nil, "", { dict = "{'descr': '<f4', 'fortran_order': Maybe, 'shape': ()}" }), "True or False" },
      { npy(nil, nil, "", { dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}" }), "a dimension" },
      { npy(nil, nil, "", { dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}" }),
        "larger than 2^63" },
      { npy(nil, nil, "", { dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4)}" }),
        "more than 2^62 bytes" },
      { npy(nil, nil, "", { dict = "['descr']" }), "expected '{'" },
      { npy(nil, nil, "", { dict = "{'descr': '<f4', 'fortran_order': False, 'shape': ()} junk" }),
        "the end of the header" },
    }
    for i, b in ipairs(bad) do
      local path = file("bad" .. i .. ".npy", b[1])
      assert_mentions(read_error(core.npy_read, path), path, b[2])
    end
    assert_mentions(read_error(core.npy_read, dir .. "/missing.npy"), dir .. "/missing.npy", "No such file")
    assert_mentions(read_error(core.npy_read, dir), dir, "directory")
  end)
end)

describe("npz_read on archives written byte by byte", function()
  local dir
  setup(function() dir = process.tmpdir() end)
  teardown(function() os.execute("rm -rf " .. quote(dir)) end)

  local x = npy("<f4", { 2, 2 }, pack("<f", { 1, 2, 3, 4.5 }))
  local y = npy(">i8", { 3 }, pack(">i8", { 7, -1, 0 }))

  it("reads one array by name, every array as a table, and lists the names", function()
    local path = dir .. "/a.npz"
    write(path, zip { { "x.npy", x }, { "y.npy", y }, { "dir/", "" } })
    assert.are.same({ { 1, 2 }, { 3, 4.5 } }, core.npz_read(path, "x"):totable())
    local all = core.npz_read(path)
    assert.are.same({ 7, -1, 0 }, all.y:totable())
    assert.are.same({ { 1, 2 }, { 3, 4.5 } }, all.x:totable())
    assert.are.same({ "x", "y" }, core.npz_names(path))
  end)

  it("lists the names present when a name is missing", function()
    local path = dir .. "/b.npz"
    write(path, zip { { "x.npy", x }, { "y.npy", y } })
    assert_mentions(read_error(core.npz_read, path, "z"), path, "no array 'z'", "'x', 'y'")
  end)

  it("names the archive and the array in a member's error", function()
    local path = dir .. "/c.npz"
    write(path, zip { { "x.npy", x }, { "bad.npy", x:sub(1, #x - 3) }, { "notes.txt", "hello" } })
    assert_mentions(read_error(core.npz_read, path, "bad"), path, "array 'bad'", "truncated")
    assert_mentions(read_error(core.npz_read, path, "notes.txt"), path, "array 'notes.txt'", "not a .npy")
    assert_mentions(read_error(core.npz_read, path), path, "array 'bad'")
  end)

  it("checks a member's CRC-32", function()
    local path = dir .. "/crc.npz"
    write(path, zip { { "x.npy", x, crc = crc32(x) ~ 1 } })
    assert_mentions(read_error(core.npz_read, path, "x"), path, "array 'x'", "CRC")
  end)

  it("refuses two arrays of one name, a .npy, a truncated archive and a file that is no zip", function()
    local path = dir .. "/dup.npz"
    write(path, zip { { "x.npy", x }, { "x", x } })
    assert_mentions(read_error(core.npz_read, path), path, "two arrays named 'x'")
    path = dir .. "/plain.npz"
    write(path, x)
    assert_mentions(read_error(core.npz_read, path), path, "single .npy file", "npy_read")
    path = dir .. "/text.npz"
    write(path, "just text, no archive")
    assert_mentions(read_error(core.npz_names, path), path, "not a zip archive")
    path = dir .. "/cut.npz"
    local whole = zip { { "x.npy", x }, { "y.npy", y } }
    write(path, whole:sub(1, #whole - 30))
    assert_mentions(read_error(core.npz_read, path), path)
    assert_mentions(read_error(core.npz_read, dir .. "/none.npz"), dir .. "/none.npz", "No such file")
  end)

  it("reads an empty archive as an empty table", function()
    local path = dir .. "/empty.npz"
    write(path, zip {})
    assert.are.same({}, core.npz_names(path))
    assert.are.same({}, core.npz_read(path))
    assert_mentions(read_error(core.npz_read, path, "x"), path, "holds no arrays")
  end)
end)

describe("npy_read and npz_read on files numpy wrote", function()
  local dir, cases, torch_line, missing
  setup(function()
    if os.execute(PYTHON .. " -c 'import numpy' >/dev/null 2>&1") ~= true then
      missing = "/usr/bin/python3 cannot import numpy (apt-get install python3-numpy)"
      return
    end
    dir = process.tmpdir()
    local out, ok = process.sh(PYTHON .. " tests/files/make_npy.py " .. quote(dir))
    assert(ok, out)
    cases = {}
    for name, shape in out:gmatch("case (%S+) ([%d,]*)") do
      local dims = {}
      for d in shape:gmatch("%d+") do dims[#dims + 1] = tonumber(d) end
      cases[#cases + 1] = { name = name, shape = dims }
    end
    torch_line = out:match("torch [%w]+")
  end)
  teardown(function() if dir then os.execute("rm -rf " .. quote(dir)) end end)

  local expected = check.f32_file

  it("reads every dtype in both byte orders, 0-d, empty, versions 2.0 and 3.0 as numpy and torch do", function()
    if missing then return pending(missing) end
    assert.is_true(#cases >= 29, "cases written: " .. #cases)
    for _, c in ipairs(cases) do
      local x = core.npy_read(dir .. "/" .. c.name .. ".npy")
      assert.are.same(c.shape, x:shape(), c.name)
      assert_bits(flat(x), expected(dir .. "/" .. c.name .. ".f32"), c.name)
    end
    -- the expectation is PyTorch's too, where torch is installed
    assert.is_truthy(torch_line == "torch absent" or tonumber(torch_line:match("%d+")) >= 23, torch_line)
  end)

  it("reads np.savez and np.savez_compressed archives (zip64 members) array by array and whole", function()
    if missing then return pending(missing) end
    for _, archive in ipairs { "s", "c" } do
      local path = dir .. "/" .. archive .. ".npz"
      assert.are.same({ "x", "y", "flag", "a/b", "big" }, core.npz_names(path))
      local all = core.npz_read(path)
      for _, name in ipairs { "x", "y", "flag", "a/b", "big" } do
        local want = expected(dir .. "/" .. archive .. "_" .. name:gsub("/", "_") .. ".f32")
        local one = core.npz_read(path, name)
        assert_bits(flat(one), want, archive .. ":" .. name)
        assert_bits(flat(all[name]), want, archive .. ":" .. name)
      end
      assert.are.same({ 300, 8 }, all.x:shape())
      assert.are.same({ 2100, 64 }, all.big:shape())
    end
    assert.are.same({ "arr_0", "arr_1" }, core.npz_names(dir .. "/positional.npz"))
  end)

  it("refuses numpy's Fortran-order, object, structured, complex, string and datetime arrays", function()
    if missing then return pending(missing) end
    local function refused(name, ...)
      local path = dir .. "/" .. name .. ".npy"
      assert_mentions(read_error(core.npy_read, path), path, ...)
    end
    refused("fortran", "Fortran", "np.ascontiguousarray(a)")
    refused("object", "object array", "'|O'")
    refused("structured", "structured dtype")
    refused("complex", "complex")
    refused("strings", "strings")
    refused("datetime", "datetimes")
    refused("overflow", "-1.0000000000000001e+300", "(1, 1)")
  end)

  it("names the sizes of a numpy file cut short, and the archive of a cut member", function()
    if missing then return pending(missing) end
    local whole = read_all(dir .. "/f8le.npy")
    local path = dir .. "/cut.npy"
    write(path, whole:sub(1, #whole - 8))
    assert_mentions(read_error(core.npy_read, path), path, "truncated", "(4, 6)", "'<f8'", "192 bytes",
      "has 184")
    local zipped = read_all(dir .. "/c.npz")
    path = dir .. "/cut.npz"
    write(path, zipped:sub(1, #zipped // 2))
    assert_mentions(read_error(core.npz_read, path), path)
  end)
end)
