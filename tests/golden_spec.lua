-- Compares aerun with reference values computed by PyTorch.
--
-- tests/golden/core_golden.lua is written by tests/golden/make_golden.py (see
-- tests/golden/README); it holds inputs, outputs and gradients in float32 for
-- a linear layer, the losses, a small MLP and the optimizers.  Specs run from
-- the repository root, but the file is found next to this spec so busted can
-- also be started elsewhere.

local ae = require "aerun"
local nn = ae.nn

local function golden_path()
  local source = debug.getinfo(1, "S").source
  local dir = source:match("^@(.*)/[^/]*$") or "tests"
  return dir .. "/golden/core_golden.lua"
end

local G = dofile(golden_path())

-- Tolerances are |got - want| <= atol + rtol * |want|, per tensor.
-- Default: float32 results whose operations PyTorch may order differently
-- (sums of a handful of products), so a few ulps of the largest term.
local DEFAULT = { atol = 1e-5, rtol = 1e-4 }
-- Optimizer trajectories: bit for bit.  Each step of SGD and Adam is a
-- few correctly rounded float32 operations (and fused multiply-adds) in
-- ATen's order, which aerun repeats, so the result is determined; a
-- tolerance of 2e-6 let through Adam's (1 - 0.999f), 72 ulp here.
local OPTIM = { exact = true }

local shape_of = require("tests.helpers.check").shape_of

local function flatten(v, out)
  out = out or {}
  if type(v) == "number" then
    out[#out + 1] = v
  else
    for i = 1, #v do flatten(v[i], out) end
  end
  return out
end

-- The multi-index, Lua style ([i][j], 1-based), of flat position k.
local function index_string(shape, k)
  local idx, rest = {}, k - 1
  for d = #shape, 1, -1 do
    table.insert(idx, 1, ("[%d]"):format(rest % shape[d] + 1))
    rest = rest // shape[d]
  end
  return table.concat(idx)
end

local function count(shape)
  local n = 1
  for _, d in ipairs(shape) do n = n * d end
  return n
end

local function is_finite(x)
  return x == x and x ~= math.huge and x ~= -math.huge
end

-- Checks tensor `got` against golden value `want` (a number or nested
-- table) and fails naming the case, the worst element, both values and how
-- many elements are out of tolerance.
local function check(what, got, want, tol)
  tol = tol or DEFAULT
  assert(got ~= nil, what .. ": got nil (missing tensor or gradient)")
  local got_shape = got:shape()
  local want_shape = shape_of(want)
  if type(want) == "number" then
    assert(count(got_shape) == 1, ("%s: expected a one-element tensor, got shape {%s}")
      :format(what, table.concat(got_shape, ", ")))
  else
    assert(table.concat(got_shape, "x") == table.concat(want_shape, "x"),
      ("%s: expected shape {%s}, got {%s}"):format(what,
        table.concat(want_shape, ", "), table.concat(got_shape, ", ")))
  end
  local g = type(want) == "number" and { got:item() } or flatten(got:totable())
  local w = flatten(want)
  assert(#g == #w, ("%s: expected %d values, got %d"):format(what, #w, #g))
  local bad, worst, worst_excess = 0, nil, -math.huge
  for k = 1, #w do
    -- exact: equal to the golden value rounded to float32 (it is written
    -- with the 9 digits that name one float32, not with all its digits)
    local want_k = tol.exact and string.unpack("f", string.pack("f", w[k])) or w[k]
    local limit = tol.exact and 0 or tol.atol + tol.rtol * math.abs(w[k])
    local diff = math.abs(g[k] - want_k)
    -- NaN compares false both ways; count it as a failure, not a pass.
    if not (diff <= limit) then
      bad = bad + 1
      local excess = diff ~= diff and math.huge or diff - limit
      if excess > worst_excess then worst, worst_excess = k, excess end
    end
  end
  if bad > 0 then
    local k = worst
    -- assert, not error, so busted counts a failure; the message names the case
    assert(false, ("%s%s: expected %.9g, got %.9g (|diff| %.3g > %.3g); %d of %d elements out of tolerance")
      :format(what, type(want) == "number" and "" or index_string(want_shape, k),
        w[k], g[k], math.abs(g[k] - w[k]),
        tol.exact and 0 or tol.atol + tol.rtol * math.abs(w[k]), bad, #w))
  end
end

local function check_finite(what, t)
  assert(t ~= nil, what .. ": got nil")
  local v = count(t:shape()) == 1 and { t:item() } or flatten(t:totable())
  for k = 1, #v do
    assert(is_finite(v[k]), ("%s: element %d is %s"):format(what, k, tostring(v[k])))
  end
end

local function leaf(v)
  local t = ae.tensor(v)
  t.requires_grad = true
  return t
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = type(v) == "table" and copy(v) or v end
  return c
end

describe("golden values from PyTorch " .. G.torch_version, function()

  it("nn.Linear forward and backward of (y * g):sum()", function()
    local L = G.linear
    local lin = nn.Linear(5, 3)
    ae.no_grad(function()
      lin.weight:copy_(ae.tensor(L.W))
      lin.bias:copy_(ae.tensor(L.b))
    end)
    local x = leaf(L.x)
    local y = lin(x)
    check("linear y", y, L.y)
    local loss = (y * ae.tensor(L.g)):sum()
    loss:backward()
    check("linear grad x", x.grad, L.grad_x)
    check("linear grad W", lin.weight.grad, L.grad_W)
    check("linear grad b", lin.bias.grad, L.grad_b)
  end)

  describe("ae.loss.mse", function()
    local M = G.mse
    for _, red in ipairs { "mean", "sum" } do
      it("reduction " .. red .. ": loss and grads of input and target", function()
        local a, b = leaf(M.input), leaf(M.target)
        local loss = ae.loss.mse(a, b, red)
        check("mse " .. red .. " loss", loss, M[red].loss)
        loss:backward()
        check("mse " .. red .. " grad input", a.grad, M[red].grad_input)
        check("mse " .. red .. " grad target", b.grad, M[red].grad_target)
      end)
    end

    it("reduction none, then a weighted sum", function()
      local W = M.none_weighted
      local a, b = leaf(M.input), leaf(M.target)
      local out = ae.loss.mse(a, b, "none")
      check("mse none out", out, W.out)
      local loss = (out * ae.tensor(M.weights)):sum()
      check("mse none weighted loss", loss, W.loss)
      loss:backward()
      check("mse none grad input", a.grad, W.grad_input)
      check("mse none grad target", b.grad, W.grad_target)
    end)

    it("defaults to mean", function()
      local loss = ae.loss.mse(ae.tensor(M.input), ae.tensor(M.target))
      check("mse default loss", loss, M.mean.loss)
    end)
  end)

  describe("ae.loss.bce", function()
    local B = G.bce
    -- p holds 1e-7 and 1-1e-7 whose gradients are ~3e6 in size, plus exact
    -- 0 and 1 with the matching target, where the loss and gradient are 0
    -- (a NaN there means 0/0 or 0*log 0 leaked through).
    for _, red in ipairs { "mean", "sum" } do
      it("reduction " .. red .. ": loss and grad of p, ends included", function()
        local p = leaf(B.p)
        local loss = ae.loss.bce(p, ae.tensor(B.target), red)
        check("bce " .. red .. " loss", loss, B[red].loss)
        loss:backward()
        check("bce " .. red .. " grad p", p.grad, B[red].grad_input)
      end)
    end

    it("defaults to mean", function()
      local loss = ae.loss.bce(ae.tensor(B.p), ae.tensor(B.target))
      check("bce default loss", loss, B.mean.loss)
    end)

    -- p exactly 0 or 1 against the opposite target: each log is clamped at
    -- -100 as in PyTorch.  The gradient there depends on how the clamp is
    -- differentiated (PyTorch gives +-1e12), so only finiteness is required.
    for _, red in ipairs { "mean", "sum" } do
      it("reduction " .. red .. ": log clamped at -100 for p = 0 or 1", function()
        local E = G.bce_edge
        local p = leaf(E.p)
        local loss = ae.loss.bce(p, ae.tensor(E.target), red)
        check("bce edge " .. red .. " loss", loss, E[red].loss)
        loss:backward()
        check_finite("bce edge " .. red .. " grad p", p.grad)
      end)
    end
  end)

  describe("ae.loss.bce_logits", function()
    local Z = G.bce_logits
    -- Logits of +-100 and +-30 overflow exp() in a naive formula; PyTorch's
    -- values are finite, and aerun's must be finite and equal.
    for _, red in ipairs { "mean", "sum" } do
      it("reduction " .. red .. ": loss and grads of logits and target", function()
        local z, y = leaf(Z.logits), leaf(Z.target)
        local loss = ae.loss.bce_logits(z, y, red)
        check_finite("bce_logits " .. red .. " loss", loss)
        check("bce_logits " .. red .. " loss", loss, Z[red].loss)
        loss:backward()
        check_finite("bce_logits " .. red .. " grad logits", z.grad)
        check_finite("bce_logits " .. red .. " grad target", y.grad)
        check("bce_logits " .. red .. " grad logits", z.grad, Z[red].grad_logits)
        check("bce_logits " .. red .. " grad target", y.grad, Z[red].grad_target)
      end)
    end

    it("defaults to mean", function()
      local loss = ae.loss.bce_logits(ae.tensor(Z.logits), ae.tensor(Z.target))
      check("bce_logits default loss", loss, Z.mean.loss)
    end)
  end)

  it("MLP 6-4-3 (Linear, ReLU, Linear, Sigmoid) with MSE: the chain rule", function()
    local P = G.mlp
    local model = nn.Sequential{ nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3), nn.Sigmoid() }
    -- named_parameters() iterates like PyTorch's: for path, p in ... do
    local named = {}
    for name, p in model:named_parameters() do named[#named + 1] = { name, p } end
    assert.are.equal(#P.params, #named)
    ae.no_grad(function()
      for i, want in ipairs(P.params) do
        assert.are.equal(want.name, named[i][1])
        named[i][2]:copy_(ae.tensor(want.value))
      end
    end)
    local out = model(ae.tensor(P.x))
    check("mlp out", out, P.out)
    local loss = ae.loss.mse(out, ae.tensor(P.target), "mean")
    check("mlp loss", loss, P.loss)
    loss:backward()
    local params = model:parameters()
    assert.are.equal(#P.params, #params)
    for i, want in ipairs(P.params) do
      check("mlp grad " .. want.name, named[i][2].grad, want.grad)
      -- parameters() must list the same tensors in the same order.
      check("mlp parameters()[" .. i .. "] grad", params[i].grad, want.grad)
    end
  end)

  describe("optimizers fed PyTorch's fixed gradients", function()
    local O = G.optim

    -- Runs `make(params)` over the five golden gradients and checks the
    -- parameter after every step against `steps`.
    local function run(what, make, steps)
      local p = leaf(O.init)
      local opt = make({ p })
      for k, g in ipairs(O.grads) do
        p.grad = ae.tensor(g)
        opt:step()
        check(("%s step %d"):format(what, k), p, steps[k], OPTIM)
      end
    end

    local function describe_opts(o)
      local parts = {}
      for k, v in pairs(o) do
        parts[#parts + 1] = k .. "=" .. (type(v) == "table" and "{" .. table.concat(v, ",") .. "}" or tostring(v))
      end
      table.sort(parts)
      return table.concat(parts, " ")
    end

    for _, case in ipairs(O.adam) do
      local what = "Adam " .. describe_opts(case.opts)
      it(what, function()
        run(what, function(ps) return ae.optim.Adam(ps, copy(case.opts)) end, case.steps)
      end)
    end

    it("Adam defaults (betas 0.9/0.999, eps 1e-8, no weight decay) match PyTorch's", function()
      local case = O.adam[1]
      assert.are.same({ 0.9, 0.999 }, case.opts.betas)
      run("Adam {lr=0.01}", function(ps) return ae.optim.Adam(ps, { lr = case.opts.lr }) end, case.steps)
    end)

    for _, case in ipairs(O.sgd) do
      local what = "SGD " .. describe_opts(case.opts)
      it(what, function()
        run(what, function(ps) return ae.optim.SGD(ps, copy(case.opts)) end, case.steps)
      end)
    end

    it("SGD defaults (no momentum, no weight decay) match PyTorch's", function()
      local case = O.sgd[1]
      assert.are.equal(0, case.opts.momentum)
      run("SGD {lr=0.1}", function(ps) return ae.optim.SGD(ps, { lr = case.opts.lr }) end, case.steps)
    end)
  end)
end)
