-- bf16 mixed precision (ae.precision, ae.autocast, --precision=bf16;
-- runtime/core/gemm.c).  Under bf16 a product rounds both operands to bf16
-- and accumulates in fp32, so its result is checked against the exact sum
-- (in double) of the rounded operands' products.  Each product of two
-- bf16 values is exact in fp32 (8 + 8 significant bits), so the only error
-- is fp32 accumulation over k terms: at most k·2^-24·Σ|a·b| (the standard
-- bound for a sum of k terms), the tolerance used throughout.  That bound
-- is far below bf16's rounding (2^-9 relative per operand), so each test
-- also shows that the fp32 product of the unrounded operands falls outside
-- it: the product really took bf16 inputs.
local ae = require "aerun"
local process = require "tests.helpers.process"

local U = 2 ^ -24

local has_bf16 = require("tests.helpers.check").has_bf16()
local WHY = "skipped: bf16 is not available here (needs oneDNN chosen and a CPU with bf16 units; " .. ae.gemm_backend() .. ")"
local needs = has_bf16 and it or function(name) pending(name .. ": " .. WHY) end

local function flat(t) return require("tests.helpers.check").values(t) end

-- round to nearest even at 16 bits, on the float's bits u (an independent
-- implementation of what ae.round_bf16 does; bits, because with denormals
-- flushed a subnormal read as a number is zero)
local function bf16_bits(u)
  if u & 0x7fffffff > 0x7f800000 then return (u >> 16) | 0x40 end
  local low = u & 0xffff
  local hi = u >> 16
  if low > 0x8000 or (low == 0x8000 and hi & 1 == 1) then hi = hi + 1 end
  return hi
end

-- the exact products of rounded a (m×k) and b (k×n), and Σ|a·b|, in double
local function exact_product(a, b)
  local ra, rb = ae.round_bf16(a):totable(), ae.round_bf16(b):totable()
  local m, k, n = #ra, #rb, #rb[1]
  local sum, abs = {}, {}
  for i = 1, m do
    local s, t = {}, {}
    for j = 1, n do s[j], t[j] = 0, 0 end
    local ai = ra[i]
    for q = 1, k do
      local x, bq = ai[q], rb[q]
      for j = 1, n do
        local p = x * bq[j]
        s[j] = s[j] + p
        t[j] = t[j] + math.abs(p)
      end
    end
    sum[i], abs[i] = s, t
  end
  return sum, abs, k
end

-- every element of got within k·2^-24·Σ|a·b| of the exact sum (+ extra,
-- a table of per-element slack for an added bias); returns whether the
-- fp32 result `plain` breaks that bound somewhere
local function check_product(what, got, a, b, plain, bias)
  local want, abs, k = exact_product(a, b)
  local g, p = got:totable(), plain and plain:totable()
  local broken = false
  for i = 1, #want do
    for j = 1, #want[i] do
      local w = want[i][j] + (bias and bias[j] or 0)
      local tol = k * U * abs[i][j] + (bias and 2 * U * math.abs(w) or 0) + 1e-30
      local d = math.abs(g[i][j] - w)
      assert(d <= tol, string.format("%s [%d][%d]: got %.9g, exact %.9g, off by %.3g > %.3g", what, i, j, g[i][j],
        w, d, tol))
      if p and math.abs(p[i][j] - w) > tol then broken = true end
    end
  end
  return broken
end

describe("bf16 precision", function()
  after_each(function() ae.precision("fp32") end)

  it("rounds to bf16 to nearest, ties to even, as an independent bit-level rounding", function()
    local values = {}
    ae.manual_seed(7)
    for _, v in ipairs(flat(ae.randn(2000) * 100)) do values[#values + 1] = v end
    -- ties (low half exactly 0x8000) with an even and an odd upper half,
    -- just above and below a tie, the largest float (rounds to inf), a
    -- subnormal, signed zeros, infinities
    local bits = { 0x3f808000, 0x3f818000, 0x3f808001, 0x3f807fff, 0x7f7fffff, 0x00018000, 0x80000000, 0,
      0x7f800000, 0xff800000, 0xbf818000 }
    local bytes = {}
    for _, v in ipairs(values) do bytes[#bytes + 1] = string.pack("<f", v) end
    for _, u in ipairs(bits) do bytes[#bytes + 1] = string.pack("<I4", u) end
    local x = ae.frombytes(table.concat(bytes), #bytes)
    local r = ae.round_bf16(x):tobytes()
    local src = x:tobytes()
    for i = 1, #bytes do
      local u = string.unpack("<I4", r, 4 * i - 3)
      local want = bf16_bits(string.unpack("<I4", src, 4 * i - 3)) << 16
      assert(u == want, string.format("value %d (bits %08x): got %08x, want %08x", i,
        string.unpack("<I4", src, 4 * i - 3), u, want))
    end
  end)

  it("keeps a NaN a NaN", function()
    local nan = ae.frombytes(string.pack("<I4I4", 0x7fc00000, 0xffc00001), 2)
    local r = ae.round_bf16(nan):tobytes()
    for i = 1, 2 do
      local u = string.unpack("<I4", r, 4 * i - 3)
      assert.is_true(u & 0x7f800000 == 0x7f800000 and u & 0x007fffff ~= 0, string.format("%08x", u))
    end
  end)

  it("refuses a precision it does not know and restores the previous one after an error", function()
    local ok, err = pcall(ae.precision, "fp16")
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("precision must be 'fp32' or 'bf16', not 'fp16'", 1, true), err)
    assert.are.equal("fp32", ae.precision())
    ok, err = pcall(ae.autocast, "bf16", function() error("inside") end)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("inside", 1, true))
    assert.are.equal("fp32", ae.precision())
    assert.are.same({ 1, 2, 3 }, { ae.autocast("fp32", function(...) return ... end, 1, 2, 3) })
  end)

  -- 128 × 96 over k = 200 is 4.9 MFLOP: split between the threads
  for _, case in ipairs {
    { "A·B", false, false }, { "Aᵀ·B", true, false }, { "A·Bᵀ", false, true }, { "Aᵀ·Bᵀ", true, true },
  } do
    needs("multiplies " .. case[1] .. " on bf16-rounded operands with fp32 accumulation", function()
      ae.manual_seed(3)
      local a, b = ae.randn(128, 200), ae.randn(200, 96)
      -- the same values, stored transposed and seen through a view
      local ua = case[2] and a:t():contiguous():t() or a
      local ub = case[3] and b:t():contiguous():t() or b
      local got = ae.autocast("bf16", ae.matmul, ua, ub)
      local broken = check_product(case[1], got, a, b, ae.matmul(a, b))
      assert.is_true(broken, "the fp32 product fits the bf16 bound: the operands were not rounded")
    end)
  end

  needs("multiplies big products (split between threads, 512 × 256 over 1024) within the bound", function()
    ae.manual_seed(4)
    local a, b = ae.rand(512, 1024) - 0.5, ae.rand(1024, 256) - 0.5
    local got = ae.autocast("bf16", ae.matmul, a, b)
    -- 16 rows at each end checked exactly (the double sum in Lua is slow)
    check_product("512×1024·1024×256", got:narrow(1, 1, 16):contiguous(), a:narrow(1, 1, 16):contiguous(), b)
    check_product("last rows", got:narrow(1, 497, 16):contiguous(), a:narrow(1, 497, 16):contiguous(), b)
  end)

  needs("computes a linear layer and its backward in bf16, even when backward runs outside autocast", function()
    ae.manual_seed(5)
    local x = ae.randn(64, 120):requires_grad_()
    local w = ae.randn(80, 120):requires_grad_()
    local bias = ae.randn(80):requires_grad_()
    local g = ae.randn(64, 80)
    local y = ae.autocast("bf16", ae.linear, x, w, bias)
    local broken = check_product("linear", y, x:detach(), w:detach():t():contiguous(),
      ae.linear(x:detach(), w:detach(), bias:detach()), flat(bias))
    assert.is_true(broken)
    assert.are.equal("fp32", ae.precision())
    local loss = (y * g):sum()
    loss:backward()
    -- dL/dx = g·W, dL/dW = gᵀ·x, both products of rounded operands
    check_product("dx", x.grad, g, w:detach(), nil)
    check_product("dW", w.grad, g:t():contiguous(), x:detach(), nil)
    local gb = g:sum(1):totable()
    for j, v in ipairs(flat(bias.grad)) do
      assert.is_true(math.abs(v - gb[j]) <= 64 * U * math.abs(gb[j]) + 1e-6, "bias grad " .. j)
    end
    -- and a forward in fp32 keeps its backward in fp32, inside autocast too
    local x2 = x:detach():clone():requires_grad_()
    local y2 = ae.linear(x2, w:detach(), bias:detach())
    ae.autocast("bf16", function() (y2 * g):sum():backward() end)
    local ref = ae.matmul(g, w:detach())
    assert.are.same(flat(ref), flat(x2.grad))
  end)

  -- a convolution under bf16 is the fp32 convolution of the rounded input
  -- and weight, up to fp32 accumulation over K = channels·kh·kw terms:
  -- |got - ref| <= 2·K·2^-24·conv(|x|, |w|) (both sides accumulate)
  for _, op in ipairs { "conv2d", "conv_transpose2d" } do
    needs(op .. " takes bf16-rounded input and weight, forward and backward", function()
      ae.manual_seed(6)
      local x = ae.randn(8, 16, 10, 10):requires_grad_()
      local w = op == "conv2d" and ae.randn(24, 16, 3, 3) or ae.randn(16, 24, 3, 3)
      w:requires_grad_()
      -- K = 16·3·3 terms an output; the long sums of the weight gradient
      -- (8·10·10 = 800 terms over the batch and the image) bound its
      -- error: 2·800·2^-24 of the largest element, far below bf16's 2^-9
      local function f(a, b) return ae[op](a, b, nil, 1, 1) end
      require("tests.helpers.check").bf16_conv(op, f, x, w, 16 * 9, 800)
    end)
  end

  needs("names bf16 in the backend while it is on", function()
    assert.is_falsy(ae.gemm_backend():find(", bf16", 1, true))
    ae.autocast("bf16", function() assert.is_truthy(ae.gemm_backend():find(", bf16", 1, true)) end)
  end)

  -- DNNL_MAX_CPU_ISA is oneDNN's own cap on the ISA it dispatches to
  for _, case in ipairs {
    { "oneDNN has no bf16 units", "DNNL_MAX_CPU_ISA=AVX512_CORE", "no bf16 matrix units" },
    { "OpenBLAS is the chosen backend", "AERUN_GEMM=openblas", "bf16 runs in oneDNN, and the GEMM backend is openblas" },
  } do
    it("falls back to fp32 with a one-line notice where " .. case[1], function()
      local dir = process.tmpdir()
      process.write(dir .. "/fallback.lua", [[
local ae = require "aerun"
ae.manual_seed(1)
local a, b = ae.randn(64, 100), ae.randn(100, 32)
local plain = ae.matmul(a, b):tobytes()
ae.precision("bf16")
ae.precision("bf16")
print(ae.precision(), ae.matmul(a, b):tobytes() == plain)
]])
      local out, ok = process.sh(string.format("%s %s %s/fallback.lua", case[2], process.quote(process.aerun), dir))
      process.sh("rm -rf " .. process.quote(dir))
      assert.is_true(ok, out)
      local notices = select(2, out:gsub("running in fp32", ""))
      assert.are.equal(1, notices, out)
      assert.is_truthy(out:find(case[3], 1, true), out)
      assert.is_truthy(out:find("fp32\ttrue", 1, true), out)
    end)
  end

  describe("--precision in an experiment", function()
    local dir = process.tmpdir()
    teardown(function() process.sh("rm -rf " .. process.quote(dir)) end)
    local function run(extra)
      return process.sh(string.format("cd %s && OPENBLAS_NUM_THREADS=1 AERUN_DATA=%s %s %s/experiments/ae_mnist.lua "
        .. "--epochs=1 --limit=600 --quiet %s", process.quote(dir), process.quote(process.root .. "/data"),
        process.quote(process.aerun), process.quote(process.root), extra))
    end

    it("refuses a precision it does not know", function()
      local out, ok = run("--precision=fp16")
      assert.is_falsy(ok)
      assert.is_truthy(out:find("--precision must be fp32 or bf16, got fp16", 1, true), out)
    end)

    needs("names the run by it and trains in bf16", function()
      local out, ok = run("--precision=bf16")
      assert.is_true(ok, out)
      local result = require("aerun.json").decode(out:match("result (%b{})%s*$"))
      assert.are.equal("limit=600,precision=bf16", result.run_id)
      local cfg = process.read(dir .. "/" .. result.run_dir .. "/config.json")
      assert.is_truthy(cfg, out)
      assert.is_truthy(cfg:find('"precision":%s*"bf16"'), cfg)
      local bf16 = result.test_mse
      out, ok = run("")
      assert.is_true(ok, out)
      local fp32 = require("aerun.json").decode(out:match("result (%b{})%s*$")).test_mse
      -- the same seed and data: close (bf16 changes the low bits) but not equal
      assert.are_not.equal(fp32, bf16)
      assert.is_true(math.abs(bf16 - fp32) < 0.05 * fp32, fp32 .. " vs " .. bf16)
    end)
  end)
end)
