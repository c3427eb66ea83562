-- idx_spec.lua: ae.data.idx, the IDX reader (runtime/io/idx.c).  Small IDX
-- files of every element type are written to a temporary directory, plain
-- and gzipped, and read back value by value; broken files must give an
-- error that names the file and says what is wrong.
local ae = require "aerun"

local formats = {
  [0x08] = "B", [0x09] = "b", [0x0B] = ">i2", [0x0C] = ">i4", [0x0D] = ">f", [0x0E] = ">d",
}

-- the bytes of an IDX file: header for dims, then values in type's format
local function idx_bytes(type_byte, dims, values)
  local parts = {string.pack(">BBBB", 0, 0, type_byte, #dims)}
  for _, d in ipairs(dims) do parts[#parts + 1] = string.pack(">I4", d) end
  for _, v in ipairs(values or {}) do parts[#parts + 1] = string.pack(formats[type_byte], v) end
  return table.concat(parts)
end

local function write(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
  return path
end

local function sh(cmd)
  assert(os.execute(cmd), "command failed: " .. cmd)
end

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function gzip(src, dst)
  sh("gzip -c " .. quote(src) .. " > " .. quote(dst))
  return dst
end

-- t's values in row-major order
local flat = require("tests.helpers.check").values

local function read_error(path)
  local ok, err = pcall(ae.data.idx, path)
  assert.is_false(ok, "expected reading " .. path .. " to fail")
  return tostring(err)
end

-- err mentions every one of the plain strings given
local assert_mentions = require("tests.helpers.check").mentions

describe("ae.data.idx", function()
  local dir

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    sh("mkdir -p " .. quote(dir))
  end)

  teardown(function()
    sh("rm -rf " .. quote(dir))
  end)

  describe("reads", function()
    it("ubyte scaled to [0, 1] by /255, in the file's shape", function()
      local values = {0, 1, 2, 127, 128, 200, 254, 255, 3, 4, 5, 6}
      local t = ae.data.idx(write(dir .. "/u8", idx_bytes(0x08, {2, 3, 2}, values)))
      assert.same({2, 3, 2}, t:shape())
      local got = flat(t)
      assert.equal(#values, #got)
      for i, v in ipairs(values) do
        assert.is_true(math.abs(got[i] - v / 255) < 1e-7, ("element %d: %g, expected %g"):format(i, got[i], v / 255))
      end
    end)

    for _, case in ipairs {
      {0x09, "byte", {-128, -1, 0, 1, 127}},
      {0x0B, "short", {-32768, -300, 0, 1, 32767}},
      {0x0C, "int", {-16777216, -70000, 0, 123456, 16777216}},
      {0x0D, "float", {-2.5, 0, 1.5, 3.25, 2.0 ^ 100}},
      {0x0E, "double", {-1e10, -0.5, 0, 0.25, 4096}},
    } do
      local type_byte, name, values = case[1], case[2], case[3]
      it(name .. " values as they are", function()
        local t = ae.data.idx(write(dir .. "/" .. name, idx_bytes(type_byte, {#values}, values)))
        assert.same({#values}, t:shape())
        local got = flat(t)
        for i, v in ipairs(values) do
          -- every value above is exact in float32
          assert.equal(v, got[i], name .. " element " .. i)
        end
      end)
    end

    it("gzip files, told by their content and not their name", function()
      local values = {}
      for i = 1, 4 * 5 do values[i] = (i * 37) % 256 end
      local plain = write(dir .. "/img", idx_bytes(0x08, {4, 5}, values))
      local expected = flat(ae.data.idx(plain))
      local gz = gzip(plain, dir .. "/img.gz")
      local hidden = gzip(plain, dir .. "/img-compressed.bin")
      local misnamed = write(dir .. "/plain.gz", idx_bytes(0x08, {4, 5}, values))
      for _, path in ipairs {gz, hidden, misnamed} do
        local t = ae.data.idx(path)
        assert.same({4, 5}, t:shape())
        assert.same(expected, flat(t))
      end
      -- it is compressed: the .gz differs from the plain file
      local f = assert(io.open(gz, "rb"))
      assert.equal("\31\139", f:read(2))
      f:close()
    end)

    it("a file with the most dimensions supported", function()
      local dims = {1, 2, 1, 2, 1, 2, 1, 2}
      local t = ae.data.idx(write(dir .. "/d8", idx_bytes(0x0C, dims, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})))
      assert.same(dims, t:shape())
      assert.same({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, flat(t))
    end)
  end)

  describe("errors name the file and the problem", function()
    it("for a truncated file", function()
      local path = write(dir .. "/trunc", idx_bytes(0x08, {60000, 28, 28}) .. string.rep("\7", 1234))
      assert_mentions(read_error(path), path, "truncated", "60000×28×28", "47040000 bytes", "file has 1234")
    end)

    it("for a truncated gzip file", function()
      local plain = write(dir .. "/trunc2", idx_bytes(0x08, {100, 10}) .. string.rep("\1", 999))
      local path = gzip(plain, dir .. "/trunc2.gz")
      assert_mentions(read_error(path), path, "truncated", "100×10", "1000 bytes", "file has 999")
    end)

    it("for a truncated header", function()
      local path = write(dir .. "/hdr", string.pack(">BBBBI4", 0, 0, 8, 3, 5))
      assert_mentions(read_error(path), path, "truncated", "3 dimensions")
    end)

    it("for wider types, with the element size", function()
      local path = write(dir .. "/f32short", idx_bytes(0x0D, {2, 3}, {1, 2, 3}))
      assert_mentions(read_error(path), path, "truncated", "2×3", "24 bytes", "file has 12")
    end)

    it("for trailing bytes", function()
      local path = write(dir .. "/trail", idx_bytes(0x08, {3}, {1, 2, 3}) .. "xy")
      assert_mentions(read_error(path), path, "2 trailing bytes", "3 bytes of data")
      local gz = gzip(path, dir .. "/trail.gz")
      assert_mentions(read_error(gz), gz, "2 trailing bytes")
      local one = write(dir .. "/trail1", idx_bytes(0x08, {3}, {1, 2, 3}) .. "z")
      assert_mentions(read_error(one), one, "1 trailing bytes")
    end)

    it("for a wrong magic number", function()
      local path = write(dir .. "/magic", "PK\3\4" .. string.rep("\0", 20))
      assert_mentions(read_error(path), path, "not an IDX file", "magic", "0x504b0304")
    end)

    it("for an unknown element type", function()
      local path = write(dir .. "/type", string.pack(">BBBBI4", 0, 0, 0x07, 1, 3) .. "abc")
      assert_mentions(read_error(path), path, "element type 0x07")
    end)

    it("for absurd dimensions", function()
      local path = write(dir .. "/huge", idx_bytes(0x0D, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}))
      assert_mentions(read_error(path), path, "4294967295×4294967295×4294967295", "2^34 bytes")
      local path2 = write(dir .. "/huge2", idx_bytes(0x08, {65536, 262145}))
      assert_mentions(read_error(path2), path2, "65536×262145", "2^34 bytes")
    end)

    it("for a zero dimension and for no dimensions", function()
      local path = write(dir .. "/zero", idx_bytes(0x08, {3, 0}))
      assert_mentions(read_error(path), path, "dimension 2", "is 0")
      local none = write(dir .. "/none", string.pack(">BBBB", 0, 0, 8, 0))
      assert_mentions(read_error(none), none, "0 dimensions")
      local many = write(dir .. "/many", string.pack(">BBBB", 0, 0, 8, 9) .. string.rep(string.pack(">I4", 1), 9) .. "x")
      assert_mentions(read_error(many), many, "9 dimensions", "at most 8")
    end)

    it("for an empty file", function()
      local path = write(dir .. "/empty", "")
      assert_mentions(read_error(path), path, "not an IDX file", "0 bytes")
    end)

    it("for corrupt gzip data", function()
      local plain = write(dir .. "/c", idx_bytes(0x08, {64}, {}) .. string.rep("\9", 64))
      local gz = gzip(plain, dir .. "/c.gz")
      local f = assert(io.open(gz, "rb"))
      local bytes = f:read("a")
      f:close()
      -- flip the stored CRC in the gzip trailer
      local n = #bytes
      local bad = bytes:sub(1, n - 8) .. string.char(bytes:byte(n - 7) ~ 0xFF) .. bytes:sub(n - 6)
      local path = write(dir .. "/bad.gz", bad)
      assert_mentions(read_error(path), path, "gzip")
    end)

    it("for a missing file", function()
      local path = dir .. "/no-such-file"
      assert_mentions(read_error(path), path, "No such file")
    end)

    it("for a directory", function()
      assert_mentions(read_error(dir), dir, "directory")
    end)

    it("for a path that is not a string", function()
      local ok, err = pcall(ae.data.idx, 42)
      assert.is_false(ok)
      assert_mentions(tostring(err), "path must be a string")
    end)
  end)
end)
