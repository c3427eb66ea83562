-- Bad files beyond tests/idx_spec.lua and tests/checkpoint_spec.lua: the
-- cases the fuzz targets found.  A compressed IDX file whose header claims
-- gigabytes costs what it really holds; a checkpoint whose global heap
-- would send libhdf5 into an endless loop is refused at open; a tensor too
-- large for the machine is an error before any allocation.
local ae = require "aerun"

local process = require "tests.helpers.process"
local root, aerun, quote, sh = process.root, process.aerun, process.quote, process.sh
-- ulimit -v cannot be combined with AddressSanitizer's shadow memory
local under_asan = (os.getenv("LD_PRELOAD") or ""):match("asan") ~= nil

describe("bad files", function()
  it("a gzip IDX file whose header claims 6 GiB is read with the memory its data needs", function()
    if under_asan then return end
    -- 1 GiB of address space: reserving the claimed 6 GiB up front fails
    -- ("out of memory"); growing with the data reaches the truncation
    local input = root .. "/fuzz/regressions/idx/gzip-header-claims-6GiB"
    local f = assert(io.open(input, "rb"))
    local bytes = f:read("a"):sub(2)   -- the driver's first byte chose the mode
    f:close()
    local path = os.tmpname()
    f = assert(io.open(path, "wb"))
    f:write(bytes)
    f:close()
    local out, ok = sh(string.format("ulimit -v 1048576; %s -e %s", quote(aerun),
      quote("local ok, e = pcall(require('aerun').data.idx, " .. string.format("%q", path) .. ") print(ok, e)")))
    os.remove(path)
    assert.is_true(ok, out)
    assert.matches("false", out)
    assert.matches("truncated", out)
    assert.is_nil(out:match("out of memory"), out)
  end)

  it("a checkpoint whose global heap would hang libhdf5 is refused at once, naming the damage", function()
    local input = root .. "/fuzz/regressions/hdf5_raw/hdf5-global-heap-loops-forever"
    local t0 = ae.time()
    local out, ok = sh(string.format("timeout -s KILL 20 %s -e %s", quote(aerun),
      quote("local ok, e = pcall(require('aerun').checkpoint.info, " .. string.format("%q", input) .. ") print(ok, e)")))
    assert.is_true(ok, out)
    assert.is_true(ae.time() - t0 < 10)
    assert.matches("false", out)
    assert.matches("global heap collection at byte %d+ is corrupt", out)
  end)

  it("a tensor larger than the machine's memory is an error before any allocation", function()
    for _, make in ipairs { ae.zeros, ae.ones, ae.rand, ae.randn, ae.empty } do
      local ok, err = pcall(make, 2 ^ 33)
      assert.is_false(ok)
      assert.matches("needs 32.0 GiB, more than this machine's", err)
    end
    local ok, err = pcall(ae.full, 2 ^ 20, 2 ^ 14, 1)
    assert.is_false(ok)
    assert.matches("full: shape 1048576×16384 needs 64.0 GiB", err)
    ok, err = pcall(ae.zeros, 2 ^ 40, 2 ^ 40)
    assert.is_false(ok)
    assert.matches("too large", err)
  end)
end)
