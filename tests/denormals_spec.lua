-- Denormals (runtime/core/denormals.c): flushed to zero by default in
-- every thread that computes, IEEE subnormals with AERUN_DENORMALS=keep.
-- A thread that computed with the other mode would leave a subnormal (or
-- a zero) where the mode says otherwise, so each check computes on
-- subnormal inputs and reads every element back.
local ae = require "aerun"
local process = require "tests.helpers.process"

local mode = os.getenv("AERUN_DENORMALS") == "keep" and "keep" or "flush"
local other = mode == "flush" and "keep" or "flush"

-- A script that multiplies subnormals elementwise and through the GEMM
-- (big enough to be split between two threads: 256 × 256 × 512 is 67
-- MFLOP) and prints each result's distinct bit patterns.  Values go in and
-- out as bytes: under DAZ even a conversion to double reads a subnormal
-- as zero.  D = 0x00010000 is 2^-133, a subnormal float; 512 of them sum
-- exactly to 0x01800000 (2^-124, normal); D · 1 is D.
local PROBE = [[
local ae = require "aerun"
ae.gemm_threads(2)
local D = string.pack("<I4", 0x00010000)
local function patterns(t)
  local seen, list = {}, {}
  local bytes = t:tobytes()
  for i = 1, #bytes, 4 do
    local u = string.unpack("<I4", bytes, i)
    if not seen[u] then seen[u] = true; list[#list + 1] = string.format("%08x", u) end
  end
  table.sort(list)
  return table.concat(list, ",")
end
local x = ae.frombytes(D:rep(1024 * 1024), 1024, 1024) * 1.0
local c = ae.matmul(ae.frombytes(D:rep(256 * 512), 256, 512), ae.ones(512, 256))
print(ae.denormals() .. " " .. patterns(x) .. " " .. patterns(c))
print(ae.gemm_backend())
]]

local function probe(env)
  local dir = process.tmpdir()
  process.write(dir .. "/probe.lua", PROBE)
  local out, ok = process.sh(string.format("cd %s && %s AERUN_THREADS=2 %s %s/probe.lua",
    process.quote(process.root), env, process.quote(process.aerun), dir))
  process.sh("rm -rf " .. process.quote(dir))
  return out, ok
end

describe("denormals", function()
  it("are " .. mode .. "ed in every thread of a parallel job", function()
    assert.are.equal(mode, ae.denormals())
    local was = ae.gemm_threads()
    ae.gemm_threads(2)
    local threads, wrong = ae.denormals_threads()
    ae.gemm_threads(was)
    assert.are.equal(2, threads, "the probe job never ran on the worker thread")
    assert.are.equal(0, wrong)
  end)

  -- every backend, with the runtime's threads and with the BLAS's own
  -- (OpenBLAS's pool starts before aerun sets the mode and is restarted;
  -- oneDNN's OpenMP team inherits it)
  for _, gemm in ipairs { "dnnl", "openblas" } do
    for _, threading in ipairs { "ours", "blas" } do
      for _, m in ipairs { "flush", "keep" } do
        it(string.format("%s: elementwise and GEMM results on %s with %s threads", m, gemm, threading), function()
          local out, ok = probe(string.format("AERUN_DENORMALS=%s AERUN_GEMM=%s AERUN_GEMM_THREADING=%s", m, gemm,
            threading))
          assert.is_true(ok, out)
          local got, x, c = out:match("^(%a+) (%S+) (%S+)")
          assert.is_truthy(got, out)
          assert.are.equal(m, got)
          if m == "flush" then
            -- DAZ reads the subnormal inputs as zero: every product is 0
            assert.are.same({ "00000000", "00000000" }, { x, c }, out)
          else
            assert.are.same({ "00010000", "01800000" }, { x, c }, out)
          end
          if gemm == "openblas" then assert.is_truthy(out:find("\nOpenBLAS"), out) end
          if gemm == "dnnl" then assert.is_truthy(out:find("\noneDNN"), out) end
        end)
      end
    end
  end

  it("refuses an AERUN_DENORMALS it does not know, naming the variable", function()
    local out, ok = probe("AERUN_DENORMALS=sometimes")
    assert.is_falsy(ok)
    assert.is_truthy(out:find("AERUN_DENORMALS must be 'flush' or 'keep', not 'sometimes'", 1, true), out)
  end)

  -- the numerics do not depend on the mode: the golden values and the
  -- gradchecks pass with the other one too (this run covers this mode)
  it("leaves the golden and gradcheck tests passing with AERUN_DENORMALS=" .. other, function()
    local out, ok = process.sh(string.format(
      "cd %s && AERUN_DENORMALS=%s lua5.4 /usr/bin/busted --output=tests/summary_output.lua "
      .. "tests/golden_spec.lua tests/gradcheck_spec.lua", process.quote(process.root), other))
    local passed, failed = out:match("(%d+) passed, (%d+) failed")
    assert.is_truthy(passed, out)
    assert.are.equal("0", failed, out)
    assert.is_true(tonumber(passed) >= 50, out) -- 85 when written: the specs ran, not a stub
    assert.is_true(ok, out)
  end)
end)
