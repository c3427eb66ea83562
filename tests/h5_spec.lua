-- h5_spec.lua: ae.h5, the HDF5 layer under checkpoints: round trips of
-- every kind of value, names and listing, errors that name the file and
-- the object, bad files, atomic files, and no HDF5 object left open.
local ae = require "aerun"

local process = require "tests.helpers.process"
local quote, capture, read_all, write_all, exists =
  process.quote, process.capture, process.read_all, process.write, process.exists

-- equal shapes and bit-equal values
local function same(a, b)
  assert.are.same(b:shape(), a:shape())
  assert.are.same(b:totable(), a:totable())
end

-- h5py on the Debian python, for files written by other tools
local function have_h5py()
  return os.execute("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") == true
end

describe("ae.h5", function()
  local dir, h5

  setup(function()
    dir = process.tmpdir()
    h5 = ae.h5
  end)

  teardown(function()
    os.execute("rm -rf " .. quote(dir))
  end)

  local function path(name) return dir .. "/" .. name end

  describe("round trips", function()
    it("keeps float32 tensors of every rank exactly", function()
      ae.manual_seed(1)
      local tensors = {
        scalar = ae.tensor(3.25), vec = ae.randn(7), mat = ae.randn(5, 3),
        conv = ae.randn(4, 2, 3, 3), empty = ae.zeros(0, 4),
        transposed = ae.randn(3, 6):t(),   -- not contiguous: written in logical order
      }
      local f = h5.open(path("t.h5"), "w")
      for name, t in pairs(tensors) do f:write("data/" .. name, t) end
      f:close()
      f = h5.open(path("t.h5"))
      for name, t in pairs(tensors) do
        local r = f:read("data/" .. name)
        same(r, t)
        assert.are.same(t:shape(), f:shape("/data/" .. name))
      end
      f:close()
    end)

    it("keeps float64 series and byte strings exactly", function()
      local series = { 0.1, 1 / 3, -2.5e-300, 1e300, 2 ^ 53 + 0.0, 0.0 }
      local bytes = "\0\1\2\255 binary\0 with NULs"
      local f = h5.open(path("n.h5"), "w")
      f:write_numbers("m/loss", series)
      f:write_numbers("m/none", {})
      f:write_bytes("rng", bytes)
      f:close()
      f = h5.open(path("n.h5"))
      assert.are.same(series, f:read_numbers("m/loss"))
      assert.are.same({}, f:read_numbers("m/none"))
      assert.are.equal(bytes, f:read_bytes("rng"))
      -- any numeric dataset reads as a float32 tensor
      local t = f:read("m/loss")
      assert.are.same({ 6 }, t:shape())
      assert.is_true(math.abs(t:totable()[2] - 1 / 3) < 1e-7)
      local u = f:read("rng")
      assert.are.equal(255, u:totable()[4])
      f:close()
    end)

    it("keeps attributes: UTF-8 strings, integers, floats, booleans", function()
      local f = h5.open(path("a.h5"), "w")
      f:set_attr("/", "text", "λ = 1e-3 ✓ \"quoted\"\nline")
      f:set_attr("/", "big", 2 ^ 53 + 1 | 0)
      f:set_attr("/", "neg", -7)
      f:set_attr("/", "third", 1 / 3)
      f:set_attr("/", "yes", true)
      f:set_attr("g/sub", "made", "the group is created")
      f:write("d", ae.zeros(2))
      f:set_attr("d", "on_a_dataset", 1.5)
      f:set_attr("/", "neg", "replaced by a string")
      f:close()
      f = h5.open(path("a.h5"))
      local a = f:attrs("/")
      assert.are.equal("λ = 1e-3 ✓ \"quoted\"\nline", a.text)
      assert.are.equal(2 ^ 53 + 1 | 0, a.big)
      assert.are.equal("integer", math.type(a.big))
      assert.are.equal(1 / 3, a.third)
      assert.are.equal("float", math.type(a.third))
      assert.are.equal(1, a.yes)
      assert.are.equal("replaced by a string", a.neg)
      assert.are.equal("the group is created", f:attr("g/sub", "made"))
      assert.are.equal(1.5, f:attrs("d").on_a_dataset)
      assert.are.equal("group", f:kind("g"))
      f:close()
    end)

    it("replaces a dataset in place or with a new shape", function()
      local f = h5.open(path("r.h5"), "w")
      f:write("x", ae.zeros(3, 3))
      f:write("x", ae.ones(3, 3))
      f:close()
      f = h5.open(path("r.h5"), "a")
      same(f:read("x"), ae.ones(3, 3))
      f:write("x", ae.full({ 2, 5 }, 7))
      f:close()
      f = h5.open(path("r.h5"), "r")
      same(f:read("x"), ae.full({ 2, 5 }, 7))
      f:close()
    end)

    it("mode a creates a missing file and keeps an existing one", function()
      local p = path("append.h5")
      local f = h5.open(p, "a")
      f:write("one", ae.ones(1))
      f:close()
      f = h5.open(p, "a")
      f:write("two", ae.ones(2))
      f:close()
      f = h5.open(p)
      assert.are.same({ "one", "two" }, f:list("/"))
      f:close()
      f = h5.open(p, "w")   -- truncates
      assert.are.same({}, f:list())
      f:close()
    end)
  end)

  describe("names", function()
    it("lists, walks and looks up objects", function()
      local f = h5.open(path("names.h5"), "w")
      for _, n in ipairs { "p/encoder/0/weight", "p/encoder/0/bias", "p/encoder/10/weight", "p/decoder/2/weight" } do
        f:write(n, ae.zeros(1))
      end
      assert.are.same({ "decoder", "encoder" }, f:list("p"))
      assert.are.same({ "0", "10" }, f:list("/p/encoder/"))
      assert.are.same({ "decoder/2/weight", "encoder/0/bias", "encoder/0/weight", "encoder/10/weight" }, f:walk("p"))
      assert.are.same({}, f:walk("nothing/here"))
      assert.is_true(f:exists("p/encoder"))
      assert.is_false(f:exists("p/encoder/1"))
      assert.is_false(f:exists("no/such/path"))
      assert.are.equal("group", f:kind("/p"))
      assert.are.equal("dataset", f:kind("p/encoder/0/weight"))
      assert.is_nil(f:kind("p/x"))
      assert.are.equal("group", f:kind("/"))
      f:close()
    end)
  end)

  describe("errors", function()
    local p

    setup(function()
      p = path("err.h5")
      local f = h5.open(p, "w")
      f:write("params/encoder/0/weight", ae.zeros(2, 2))
      f:close()
    end)

    local function fails(pattern, fn, ...)
      local ok, err = pcall(fn, ...)
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find(pattern, 1, true), "got: " .. tostring(err))
    end

    it("name the file and the object", function()
      local f = h5.open(p)
      fails(p .. ": /params/encoder/1/weight: not found", f.read, f, "params/encoder/1/weight")
      fails(p .. ": /params/encoder/0/weight/x: not found (/params/encoder/0/weight is a dataset, not a group)",
        f.read, f, "params/encoder/0/weight/x")
      fails(p .. ": /params: is a group, not a dataset", f.read, f, "params")
      fails(p .. ": /params/encoder/0/weight: is a dataset, not a group", f.list, f, "params/encoder/0/weight")
      fails(p .. ": /x: the file is open read-only", f.write, f, "x", ae.zeros(1))
      fails(p .. ": /: has no attribute nope", f.attr, f, "/", "nope")
      fails(p .. ": /nothing: not found", f.attrs, f, "nothing")
      fails("invalid object name", f.read, f, "a//b")
      f:close()
      fails(p .. ": the file is closed", f.read, f, "x")
      f:close()   -- a second close is harmless
    end)

    it("reject files that are not HDF5, with a clear message", function()
      write_all(path("text.h5"), "just some text, not HDF5\n")
      write_all(path("empty.h5"), "")
      fails(path("text.h5") .. ": not an HDF5 file", h5.open, path("text.h5"))
      fails(path("empty.h5") .. ": is empty, not an HDF5 file", h5.open, path("empty.h5"))
      fails(path("missing.h5") .. ": cannot open (No such file or directory)", h5.open, path("missing.h5"))
      fails(dir .. ": is a directory", h5.open, dir)
      fails("unknown mode", h5.open, p, "rw")
      fails("cannot create", h5.open, path("no/such/dir/x.h5"), "w")
    end)

    it("reject a truncated file without crashing", function()
      local big = path("big.h5")
      local f = h5.open(big, "w")
      f:write("w", ae.randn(100, 100))
      f:set_attr("/", "format", "x")
      f:close()
      local s = read_all(big)
      for _, cut in ipairs { #s // 2, #s - 1, 100, 8 } do
        local t = path("cut.h5")
        write_all(t, s:sub(1, cut))
        local ok, err = pcall(function()
          local g = h5.open(t)
          local r = g:read("w")
          g:close()
          return r
        end)
        assert.is_false(ok, "a file cut at " .. cut .. " bytes opened")
        assert.is_truthy(err:find(t, 1, true), err)
      end
    end)

    it("refuse compound and string datasets by name (files from h5py)", function()
      if not have_h5py() then
        pending("python3-h5py not installed")
        return
      end
      local foreign = path("foreign.h5")
      local script = table.concat({
        "import h5py, numpy as np, sys",
        "f = h5py.File(sys.argv[1], 'w')",
        "f['i64'] = np.arange(6, dtype=np.int64).reshape(2, 3) - 2",
        "f['u8'] = np.array([0, 7, 255], dtype=np.uint8)",
        "f['f64'] = np.array([[0.5, -1.25]], dtype=np.float64)",
        "f['b'] = np.array([True, False])",
        "f['s'] = 'a string'",
        "f['c'] = np.zeros(2, dtype=[('a', 'i4'), ('b', 'f4')])",
        "f.attrs['fixed'] = np.string_('fixed bytes')",
        "f.attrs['arr'] = np.array([1.5, 2.5])",
        "f.attrs['ints'] = np.array([1, 2, 3], dtype=np.int32)",
        "f.attrs['strs'] = ['x', 'yz']",
        "f.attrs['comp'] = np.zeros(1, dtype=[('a', 'i4')])[0]",
        "f.close()" }, "\n")
      write_all(path("make.py"), script)
      assert.is_true(os.execute("/usr/bin/python3 " .. quote(path("make.py")) .. " " .. quote(foreign)))
      local f = h5.open(foreign)
      same(f:read("i64"), ae.tensor { { -2, -1, 0 }, { 1, 2, 3 } })
      same(f:read("u8"), ae.tensor { 0, 7, 255 })
      same(f:read("f64"), ae.tensor { { 0.5, -1.25 } })
      assert.are.same({ -2.0, -1.0, 0.0, 1.0, 2.0, 3.0 }, f:read_numbers("i64"))
      fails(foreign .. ": /c: holds compound data", f.read, f, "c")
      fails(foreign .. ": /s: holds string data", f.read, f, "s")
      fails(foreign .. ": /b: holds enum data", f.read, f, "b")
      fails("/f64: holds float data of 8-byte elements, not bytes", f.read_bytes, f, "f64")
      local a = f:attrs("/")
      assert.are.equal("fixed bytes", a.fixed)
      assert.are.same({ 1.5, 2.5 }, a.arr)
      assert.are.same({ 1, 2, 3 }, a.ints)
      assert.are.same({ "x", "yz" }, a.strs)
      assert.is_nil(a.comp)   -- left out, not fatal
      fails("attribute comp is of compound type", f.attr, f, "/", "comp")
      f:close()
    end)
  end)

  describe("resources", function()
    it("leaves no HDF5 object open after failures", function()
      local p = path("leak.h5")
      local f = h5.open(p, "w")
      f:write("a/b", ae.zeros(2))
      f:close()
      collectgarbage()
      local base = h5.open_objects()
      for _ = 1, 20 do
        f = h5.open(p, "a")
        pcall(f.read, f, "a/missing")
        pcall(f.read, f, "a")
        pcall(f.read, f, "a/b/c")
        pcall(f.list, f, "a/b")
        pcall(f.attr, f, "a", "missing")
        pcall(f.attrs, f, "missing")
        pcall(f.shape, f, "a")
        pcall(f.read_bytes, f, "a/b")
        pcall(f.write, f, "a/b/c", ae.zeros(1))
        pcall(f.set_attr, f, "a/b/c", "k", 1)
        f:write("a/b", ae.zeros(3))
        f:set_attr("a", "k", "v")
        f:set_attr("a", "k", 2)
        f:attrs("a")
        assert.are.equal(base + 1, h5.open_objects())   -- the file itself
        f:close()
        assert.are.equal(base, h5.open_objects())
      end
      pcall(h5.open, path("missing.h5"))
      assert.are.equal(base, h5.open_objects())
    end)

    it("closes every identifier on every path in C (tests/h5_leaks.c, under ASan)", function()
      local build = os.getenv("BUILD") or "build"
      local objects = {}
      -- the core, the ops and io but the HDF5 files, which are compiled
      -- here with the wrappers
      local ls = "ls " .. quote(build) .. "/obj/core/*.o " .. quote(build) .. "/obj/ops/*.o "
        .. quote(build) .. "/obj/io/*.o 2>/dev/null"
      for o in capture(ls):gmatch("[^\n]+") do
        if not o:match("/io/h5[%w_]*%.o$") then objects[#objects + 1] = quote(o) end
      end
      if #objects == 0 then
        pending("no objects in " .. build .. "/obj to link the harness with")
        return
      end
      local wraps = {}
      for name in read_all("tests/h5_leaks.c"):gmatch("\nWRAP%(hid_t, ([%w_]+),") do
        wraps[#wraps + 1] = "-Wl,--wrap=" .. name
      end
      assert.is_true(#wraps >= 10)
      local exe = path("h5_leaks")
      local cmd = table.concat({ "cc -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g -fsanitize=address,undefined",
        "-fno-omit-frame-pointer $(pkg-config --cflags hdf5) -Iruntime tests/h5_leaks.c runtime/io/h5*.c",
        table.concat(objects, " "), table.concat(wraps, " "),
        "$(pkg-config --libs hdf5 libpng libjpeg zlib libzip cairo) -lopenblas -lm -o", quote(exe), "2>", quote(path("cc.txt")) }, " ")
      -- make test installed every library the runtime links, so a harness
      -- that does not build is a failure, not a reason to skip
      assert(os.execute(cmd) == true,
        "cannot build the C harness: " .. (read_all(path("cc.txt")):match("[^\n]*error[^\n]*") or "cc failed"))
      local work = path("leaks")
      os.execute("mkdir " .. quote(work))
      local out = capture("ASAN_OPTIONS=detect_leaks=1 " .. quote(exe) .. " " .. quote(work) .. " 2>&1; echo \"rc=$?\"")
      assert.is_truthy(out:find("all closed\nrc=0", 1, true), out)
      assert.are.equal("", capture("ls " .. quote(work) .. " | grep '\\.tmp\\.' || true"))
    end)

    it("closes a forgotten file in the collector and with <close>", function()
      local p = path("gc.h5")
      h5.open(p, "w"):close()
      collectgarbage()
      local base = h5.open_objects()
      do local _ = h5.open(p) end
      collectgarbage()
      collectgarbage()
      assert.are.equal(base, h5.open_objects())
      local kept
      do
        local f <close> = h5.open(p, "a")
        kept = f
        f:write("x", ae.ones(2))
      end
      assert.is_false(kept:is_open())
      assert.are.equal(base, h5.open_objects())
      local g = h5.open(p)
      same(g:read("x"), ae.ones(2))
      g:close()
    end)
  end)

  describe("atomic files", function()
    local function temps()
      return capture("ls -a " .. quote(dir) .. " | grep -c '\\.tmp\\.' || true")
    end

    local function value(p)
      local f = h5.open(p)
      local v = f:read("v"):item()
      f:close()
      return v
    end

    it("replace the target only on close", function()
      local p = path("atomic.h5")
      local f = h5.open(p, "w")
      f:write("v", ae.tensor(1))
      f:close()
      f = h5.open(p, "w", { atomic = true })
      f:write("v", ae.tensor(2))
      assert.are.equal(1, value(p))     -- the old file, untouched while writing
      assert.are.equal("1", temps())
      f:close()
      assert.are.equal(2, value(p))
      assert.are.equal("0", temps())
    end)

    it("are discarded by abort, by an error in <close>, and by the collector", function()
      local p = path("atomic2.h5")
      local f = h5.open(p, "w")
      f:write("v", ae.tensor(1))
      f:close()
      f = h5.open(p, "w", { atomic = true })
      f:write("v", ae.tensor(2))
      f:abort()
      assert.are.equal(1, value(p))
      local ok = pcall(function()
        local g <close> = h5.open(p, "w", { atomic = true })
        g:write("v", ae.tensor(3))
        error("failed half way")
      end)
      assert.is_false(ok)
      assert.are.equal(1, value(p))
      do
        local g = h5.open(p, "w", { atomic = true })
        g:write("v", ae.tensor(4))
      end
      collectgarbage()
      collectgarbage()
      assert.are.equal(1, value(p))
      assert.are.equal("0", temps())
      do
        local g <close> = h5.open(p, "w", { atomic = true })
        g:write("v", ae.tensor(5))
      end
      assert.are.equal(5, value(p))
    end)

    it("write through a symlink and keep the file's permissions", function()
      local real = path("real.h5")
      local f = h5.open(real, "w")
      f:write("v", ae.tensor(1))
      f:close()
      os.execute("chmod 640 " .. quote(real) .. " && ln -sf real.h5 " .. quote(path("link.h5")))
      f = h5.open(path("link.h5"), "a")
      f:write("v", ae.tensor(6))
      f:close()
      assert.are.equal("link.h5 -> real.h5", capture("cd " .. quote(dir) .. " && stat -c '%N' link.h5"):gsub("['‘’]", ""))
      assert.are.equal("640", capture("stat -c %a " .. quote(real)))
      assert.are.equal(6, value(real))
    end)

    it("fail cleanly where no file can be made", function()
      write_all(path("plain"), "a regular file")
      local ok, err = pcall(h5.open, path("plain") .. "/x.h5", "w", { atomic = true })
      assert.is_false(ok)
      assert.is_truthy(err:find(path("plain") .. "/x.h5: cannot create", 1, true), err)
      ok, err = pcall(h5.open, "/proc/aerun-test.h5", "w", { atomic = true })
      assert.is_false(ok)
      assert.is_truthy(err:find("/proc/aerun-test.h5: cannot create", 1, true), err)
      assert.is_false(exists("/proc/aerun-test.h5"))
    end)
  end)
end)
