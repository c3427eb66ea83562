-- The speed work must not change results: the fused sigmoid+bce backward,
-- gradients stored into fresh buffers, the one-call Adam, GEMMs split over
-- threads, both GEMM backends, the vectorised normals, and the profiler.
-- No test here times anything.
local ae = require "aerun"
local gc = require "tests.helpers.gradcheck"
local U = gc.uniform

local BIN = os.getenv("AERUN_BIN") or "build/aerun"

local function ok(f, inputs, opts)
  local good, msg = gc.check(f, inputs, opts)
  assert(good, msg)
end

local function max_diff(a, b)
  local x, y = gc.flatten(a:totable()), gc.flatten(b:totable())
  assert.are.equal(#x, #y)
  local m = 0
  for i = 1, #x do m = math.max(m, math.abs(x[i] - y[i])) end
  return m
end

local function max_abs(a)
  local m = 0
  for _, v in ipairs(gc.flatten(a:totable())) do m = math.max(m, math.abs(v)) end
  return m
end

local function run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local good = p:close()
  return out, good
end

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

describe("bce on a sigmoid's output (fused backward)", function()
  before_each(function() ae.manual_seed(3) end)

  for _, red in ipairs { "mean", "sum", "none" } do
    it("matches finite differences, reduction " .. red, function()
      local t = U({ 3, 5 }, 0.05, 0.95)
      ok(function(z) return ae.loss.bce(z:sigmoid(), t, red) end, { U({ 3, 5 }, -3, 3) })
    end)
  end

  it("gives the gradient the unfused chain gives", function()
    local z = U({ 4, 6 }, -4, 4):requires_grad_()
    local t = U({ 4, 6 }, 0, 1)
    ae.loss.bce(z:sigmoid(), t, "sum"):backward()
    -- the same chain by hand: bce's gradient on a leaf p, then the sigmoid's
    local p = z:detach():sigmoid():requires_grad_()
    ae.loss.bce(p, t, "sum"):backward()
    local s = z:detach():sigmoid()
    local chain = p.grad * s * (1 - s)
    assert.is_true(max_diff(z.grad, chain) <= 1e-5 * math.max(1, max_abs(chain)))
  end)

  it("keeps the other users of the sigmoid's output in the gradient", function()
    local t = U({ 2, 4 }, 0.1, 0.9)
    ok(function(z)
      local p = z:sigmoid()
      return ae.loss.bce(p, t, "none") + p * 3 + (p * p):sum()
    end, { U({ 2, 4 }, -2, 2) })
  end)

  it("keeps PyTorch's 1e-12 guard where the sigmoid saturates", function()
    -- sigmoid(30) rounds to 1 in float: PyTorch's chain gives exactly 0;
    -- sigmoid(-30) = 9.4e-14: the guard scales the gradient by p(1-p)/1e-12
    local z = ae.tensor { 30, -30, 0 }:requires_grad_()
    local t = ae.tensor { 0.5, 0.5, 0.5 }
    ae.loss.bce(z:sigmoid(), t, "sum"):backward()
    local g = z.grad:totable()
    assert.are.equal(0, g[1])
    local p = 1 / (1 + math.exp(30))
    local want = (p - 0.5) / 1e-12 * (p * (1 - p))
    assert.is_true(math.abs(g[2] - want) <= 1e-3 * math.abs(want), g[2] .. " vs " .. want)
    assert.is_true(math.abs(g[3]) < 1e-7)
  end)

  it("takes the target's gradient too", function()
    ok(function(z, t) return ae.loss.bce(z:sigmoid(), t, "sum") end,
      { U({ 2, 3 }, -2, 2), U({ 2, 3 }, 0.1, 0.9) })
  end)
end)

describe("gradients stored into fresh buffers, added into used ones", function()
  before_each(function() ae.manual_seed(5) end)

  -- two backwards without zero_grad must give twice one backward
  local function doubles(build, inputs)
    local once = {}
    build(table.unpack(inputs)):backward()
    for i, x in ipairs(inputs) do once[i] = x.grad:clone() end
    build(table.unpack(inputs)):backward()
    for i, x in ipairs(inputs) do
      assert.is_true(max_diff(x.grad, once[i] * 2) <= 1e-5 * math.max(1, max_abs(once[i])),
        "input " .. i)
    end
  end

  it("linear, relu, sigmoid, mse", function()
    local x, w, b = U({ 5, 7 }, -1, 1):requires_grad_(), U({ 3, 7 }, -1, 1):requires_grad_(),
        U({ 3 }, -1, 1):requires_grad_()
    local t = U({ 5, 3 }, 0, 1)
    doubles(function(x_, w_, b_) return ae.loss.mse(ae.linear(x_, w_, b_):relu():sigmoid(), t) end, { x, w, b })
  end)

  it("matmul with transposed views and bce", function()
    local a, c = U({ 4, 6 }, -1, 1):requires_grad_(), U({ 5, 6 }, -1, 1):requires_grad_()
    local t = U({ 4, 5 }, 0.1, 0.9)
    doubles(function(a_, c_) return ae.loss.bce(ae.matmul(a_, c_:t()):sigmoid(), t) end, { a, c })
  end)

  it("one tensor as both operands", function()
    ok(function(x) return ae.matmul(x, x) end, { U({ 3, 3 }, -1, 1) })
    ok(function(x) return ae.linear(x, x) end, { U({ 3, 3 }, -1, 1) })
    ok(function(x) return ae.loss.mse(x, x * 0.5, "sum") end, { U({ 4 }, -1, 1) })
  end)
end)

describe("Adam over every parameter in one call", function()
  it("updates exactly as one core.adam_step per parameter, skipping those without a gradient", function()
    ae.manual_seed(9)
    local shapes = { { 300, 70 }, { 70 }, { 5, 5 }, { 1 }, { 40000 } }
    local a, b = {}, {}
    for i, s in ipairs(shapes) do
      a[i] = ae.randn(s):requires_grad_()
      b[i] = a[i]:detach():clone():requires_grad_()
    end
    local opt = ae.optim.Adam(a, { lr = 1e-2, weight_decay = 0.1 })
    local state = {}
    for step = 1, 3 do
      for i, s in ipairs(shapes) do
        -- parameter 3 has no gradient at step 2
        if not (i == 3 and step == 2) then
          local g = ae.randn(s)
          a[i].grad = g
          b[i].grad = g:clone()
        else
          a[i].grad = nil
          b[i].grad = nil
        end
      end
      opt:step()
      for i, p in ipairs(b) do
        if p.grad then
          local st = state[i] or { step = 0, m = ae.zeros(p:shape()), v = ae.zeros(p:shape()) }
          state[i] = st
          st.step = st.step + 1
          ae.adam_step(p, p.grad, st.m, st.v, st.step, 1e-2, 0.9, 0.999, 1e-8, 0.1, false)
        end
      end
    end
    for i = 1, #shapes do assert.are.equal(0, max_diff(a[i], b[i]), "parameter " .. i) end
    local sd = opt:state_dict()
    assert.are.equal(3, sd.state[1].step:item())
    assert.are.equal(2, sd.state[3].step:item())
    assert.are.equal(0, max_diff(sd.state[5].exp_avg, state[5].m))
    assert.are.equal(0, max_diff(sd.state[5].exp_avg_sq, state[5].v))
  end)

  it("gives the same numbers on one thread and on two", function()
    local results = {}
    for _, threads in ipairs { 1, 2 } do
      ae.gemm_threads(threads)
      ae.manual_seed(11)
      local p = ae.randn(200000):requires_grad_()
      local opt = ae.optim.AdamW({ p }, { lr = 1e-3 })
      for _ = 1, 2 do
        p.grad = ae.randn(200000)
        opt:step()
      end
      results[threads] = p:detach()
    end
    assert.are.equal(0, max_diff(results[1], results[2]))
  end)

  it("refuses a state slot of the wrong shape, naming the parameter", function()
    local p = ae.zeros(3):requires_grad_()
    local opt = ae.optim.Adam({ p })
    p.grad = ae.ones(3)
    opt:step()
    opt.state[1].exp_avg = ae.zeros(4)
    p.grad = ae.ones(3)
    local good, err = pcall(opt.step, opt)
    assert.is_false(good)
    assert.matches("state%[1%]%.exp_avg has shape 4", err)
  end)
end)

describe("GEMM", function()
  after_each(function() ae.gemm_threads(1) end)

  it("names its backend, kernel and threads", function()
    assert.matches("^[%w]+ [%d.]+ [%w_]+ %(%d+ [%w ]*threads?%)$", ae.gemm_backend())
  end)

  -- big enough to be split across threads: rows split when m > n, columns otherwise
  local cases = {
    { "columns, A·B", 64, 700, 300, false, false },
    { "columns, A·Bᵀ", 64, 700, 300, false, true },
    { "rows, Aᵀ·B", 700, 64, 300, true, false },
    { "rows, Aᵀ·Bᵀ", 700, 96, 300, true, true },
  }
  for _, c in ipairs(cases) do
    it("gives one thread's result on two threads: " .. c[1], function()
      local m, n, k, ta, tb = c[2], c[3], c[4], c[5], c[6]
      ae.manual_seed(2)
      local a = ta and ae.randn(k, m):t() or ae.randn(m, k)
      local b = tb and ae.randn(n, k):t() or ae.randn(k, n)
      ae.gemm_threads(1)
      local one = ae.matmul(a, b)
      ae.gemm_threads(2)
      local two = ae.matmul(a, b)
      assert.are.same({ m, n }, two:shape())
      assert.is_true(max_diff(one, two) <= 1e-4 * max_abs(one))
    end)
  end

  -- few outputs over a long K (the conv weight gradients): the runtime's
  -- own chunked kernel (5 × 7), and the product taken with its sides
  -- swapped (6 × 40 over K = 400), edges in both directions
  for _, c in ipairs { { 5, 7, 4100 }, { 6, 40, 400 } } do
    it(("gives A·Bᵀ (%d × %d over K = %d) to float accuracy, the same on two threads"):format(c[1], c[2], c[3]), function()
      local m, n, k = c[1], c[2], c[3]
      ae.manual_seed(6)
      local a, b = ae.randn(m, k), ae.randn(n, k)
      ae.gemm_threads(1)
      local one = ae.matmul(a, b:t())
      ae.gemm_threads(2)
      local two = ae.matmul(a, b:t())
      assert.are.equal(0, max_diff(one, two))
      local at, bt, y = a:totable(), b:totable(), one:totable()
      for i = 1, m do
        for j = 1, n do
          local s, mag = 0, 0
          for q = 1, k do
            s = s + at[i][q] * bt[j][q]
            mag = mag + math.abs(at[i][q] * bt[j][q])
          end
          -- the classic bound for a float sum of k products: (k + 1)·2⁻²⁴ of their magnitude
          assert.is_true(math.abs(y[i][j] - s) <= 1.01 * (k + 1) * 2 ^ -24 * mag, ("(%d, %d): %g against %g"):format(i, j, y[i][j], s))
        end
      end
    end)
  end

  it("gives the same products through OpenBLAS and oneDNN (where oneDNN is installed)", function()
    local script = [[
      local ae = require "aerun"
      ae.manual_seed(4)
      local a, b = ae.randn(130, 257), ae.randn(300, 257)
      local y = ae.matmul(a, b:t())
      local s = 0
      for _, row in ipairs(y:totable()) do for _, v in ipairs(row) do s = s + v * v end end
      print(ae.gemm_backend(), string.format("%.6e", s))
    ]]
    local outs = {}
    for _, backend in ipairs { "openblas", "dnnl" } do
      local out, good = run("AERUN_GEMM=" .. backend .. " " .. quote(BIN) .. " -e " .. quote(script))
      assert.is_true(good, out)
      outs[backend] = out
    end
    assert.matches("^OpenBLAS", outs.openblas)
    local a = tonumber(outs.openblas:match("(%S+)%s*$"))
    local b = tonumber(outs.dnnl:match("(%S+)%s*$"))
    assert.is_true(math.abs(a - b) <= 1e-5 * a)
    if outs.dnnl:find("^oneDNN") == nil then
      -- not installed: the default was kept, with a warning
      assert.matches("AERUN_GEMM: gemm: oneDNN", outs.dnnl)
    end
  end)

  it("reports an unknown AERUN_GEMM and keeps working", function()
    local out, good = run("AERUN_GEMM=nonsense " .. quote(BIN) ..
      " -e " .. quote("local ae = require 'aerun'; print(ae.matmul(ae.ones(2, 3), ae.ones(3, 2)):sum():item())"))
    assert.is_true(good, out)
    assert.matches("unknown backend 'nonsense'", out)
    assert.matches("\n12%.0\n?$", out)
  end)
end)

describe("elementwise ops, losses and convolutions shared between threads", function()
  after_each(function() ae.gemm_threads(1) end)

  -- everything of one training step, on one thread or two
  local function step(threads)
    ae.gemm_threads(threads)
    ae.manual_seed(12)
    local x = ae.rand(64, 1, 28, 28)
    local w1, w2 = (ae.randn(16, 1, 3, 3) * 0.3):requires_grad_(), (ae.randn(16, 8, 3, 3) * 0.1):requires_grad_()
    local h = ae.conv2d(x, w1, nil, 2, 1):relu()
    local y = ae.conv_transpose2d(h, w2, nil, 2, 1, 1):sigmoid()
    local t = ae.rand(y:shape())
    local loss = ae.loss.bce(y, t, "sum") + ae.loss.mse(y:tanh(), t)
    loss:backward()
    return { loss = loss:item(), y = y:detach(), g1 = w1.grad, g2 = w2.grad }
  end

  it("gives one thread's results on two", function()
    local one, two = step(1), step(2)
    -- elementwise maps and block-wise sums do not depend on the split
    assert.are.equal(one.loss, two.loss)
    for _, k in ipairs { "y", "g1", "g2" } do
      assert.is_true(max_diff(one[k], two[k]) <= 1e-5 * math.max(1, max_abs(one[k])), k)
    end
  end)
end)

describe("normal random numbers", function()
  it("have the standard normal's moments", function()
    ae.manual_seed(21)
    local n = 200000
    local x = ae.randn(n)
    local mean = x:mean():item()
    local var = (x * x):mean():item() - mean * mean
    local kurt = (x ^ 4):mean():item()
    assert.is_true(math.abs(mean) < 5 / math.sqrt(n), "mean " .. mean)
    assert.is_true(math.abs(var - 1) < 5 * math.sqrt(2 / n), "variance " .. var)
    assert.is_true(math.abs(kurt - 3) < 5 * math.sqrt(96 / n), "kurtosis " .. kurt)
    local tail = (x:abs():gt(3)):mean():item()   -- 0.0027 for N(0, 1)
    assert.is_true(math.abs(tail - 0.0027) < 5 * math.sqrt(0.0027 / n), "tail " .. tail)
  end)

  it("continue the same sequence across calls of any length and a restored state", function()
    ae.manual_seed(8)
    local s = ae.rng_state()
    local a, b = ae.randn(7), ae.randn(6)
    ae.set_rng_state(s)
    local c = ae.randn(13)
    assert.are.same(gc.flatten(ae.cat({ a, b }):totable()), gc.flatten(c:totable()))
  end)
end)

describe("aerun --profile", function()
  it("prints the time of each kind of work at exit", function()
    local script = [[
      local ae = require "aerun"
      local m = ae.nn.mlp({ 100, 300, 100 })
      local opt = ae.optim.Adam(m:parameters())
      local x = ae.rand(64, 100)
      for _ = 1, 5 do
        opt:zero_grad()
        ae.loss.mse(m(x), x):backward()
        opt:step()
      end
      assert(ae.profile().gemm > 0)
    ]]
    local out, good = run(quote(BIN) .. " --profile -e " .. quote(script))
    assert.is_true(good, out)
    assert.matches("aerun profile: [%d.]+ s wall", out)
    for _, kind in ipairs { "gemm", "conv", "elementwise", "optimizer", "data", "autograd", "Lua %(the rest%)" } do
      assert.matches("\n  " .. kind .. " +[%d.]+ +[%d.]+%% +%d+", out)
    end
    assert.matches("\n  gemm +[%d.]+ +[%d.]+%% +[1-9]%d*", out)         -- 5 steps: 30 products
    assert.matches("\n  optimizer +[%d.]+ +[%d.]+%% +5\n", out)           -- one call per step
    assert.matches("backward linear", out)
    -- the op families that are tables of the core are profiled by the name
    -- a script calls them with
    assert.matches("\n    loss%.mse +elementwise +[%d.]+ +[%d.]+%% +5\n", out)
  end)

  it("is off, and costs nothing, without the option", function()
    assert.is_nil(ae.profile())
    local out, good = run(quote(BIN) .. " -e " .. quote("require 'aerun'"))
    assert.is_true(good, out)
    assert.are.equal("", out)
  end)

  it("keeps the script's position in error messages", function()
    local out = run(quote(BIN) .. " --profile -e " ..
      quote("local ae = require 'aerun'\nlocal y = ae.linear(ae.ones(2, 3), ae.ones(4, 5))"))
    assert.matches("%(command line%):2: linear: input 2×3", out)
  end)
end)
