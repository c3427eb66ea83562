-- The tensor userdata's own methods (runtime/lua/tensor.c) that no op family
-- owns; here its printing.  tostring(x) must be PyTorch's str(x) with the
-- default print options: a set of tensors is printed by both and compared
-- character for character (needs /usr/bin/python3 with torch; pending
-- without), and a few literal expectations run everywhere.
local ae = require "aerun"
local process = require "tests.helpers.process"

local PYTHON = "/usr/bin/python3"

-- tensors whose printing exercises one rule of torch's _tensor_str each
local function cases()
  ae.manual_seed(3)
  local nan, inf = 0 / 0, math.huge
  return {
    { "fixed, 2-D", ae.tensor { { 0.1, 2 }, { 3, -4 } } },
    { "integer values", ae.tensor { 1, 2, -3 } },
    { "all zero", ae.zeros(3) },
    { "negative zero", ae.tensor { -0.0, 1 } },
    { "0-D", ae.tensor(3.5) },
    { "0-D negative", ae.tensor(-0.25) },
    { "0-D integer", ae.tensor(7) },
    { "empty 1-D", ae.zeros(0) },
    { "empty 2-D", ae.zeros(2, 0) },
    { "empty 3-D", ae.zeros(0, 3, 2) },
    { "sci: smallest < 1e-4", ae.tensor { 1e-5, 1 } },
    { "sci: largest > 1e8, integers", ae.tensor { 1e9, 1 } },
    { "sci: ratio > 1000, integers", ae.tensor { 1, 2000 } },
    { "sci: ratio > 1000", ae.tensor { 0.5, 1000 } },
    { "no sci: ratio 1000", ae.tensor { 0.5, 500 } },
    { "extremes", ae.tensor { 3e38, -1e-40, 1 } },
    { "non-finite", ae.tensor { nan, 1.5, inf } },
    { "non-finite, integers", ae.tensor { nan, 1, -inf } },
    { "only non-finite", ae.tensor { nan, -inf } },
    { "wide values", ae.tensor { 123456.5, -1.25, 7 } },
    { "wrapped row", ae.arange(30) * 1.5 },
    { "wrapped sci row", ae.randn(25) * 1e5 },
    { "randn 3-D", ae.randn(3, 4, 5) * 100 },
    { "4-D", ae.rand(2, 2, 2, 3) },
    { "summarised rows", ae.arange(2000):reshape(20, 100) },
    { "summarised 1-D", ae.randn(1001) },
    { "summarised 3-D", ae.randn(10, 10, 12) },
    { "summarised, short rows", ae.rand(500, 3) },
    { "exactly 1000", ae.rand(10, 100) },
    { "transposed view", ae.randn(3, 5):t() },
    { "requires grad", ae.rand(3, 2):requires_grad_() },
    { "requires grad, suffix wraps", ae.rand(8):requires_grad_() },
    { "requires grad, empty", ae.zeros(2, 0):requires_grad_() },
  }
end

describe("tensor printing", function()
  it("is torch's str() for every rule it follows", function()
    if not os.execute(PYTHON .. " -c 'import torch' >/dev/null 2>&1") then
      pending("/usr/bin/python3 with torch is not installed")
      return
    end
    local dir = process.tmpdir()
    local lines, ours = {}, {}
    for i, c in ipairs(cases()) do
      local t = c[2]
      local vals = {}
      for k, v in ipairs(t:reshape(-1):totable()) do vals[k] = ("%.9g"):format(v) end
      lines[i] = ("%s|%s|%s"):format(table.concat(t:shape(), ","), t.requires_grad and 1 or 0, table.concat(vals, ","))
      ours[i] = tostring(t)
    end
    process.write(dir .. "/cases.txt", table.concat(lines, "\n") .. "\n")
    process.write(dir .. "/show.py", [[
import sys, torch
for line in open(sys.argv[1]):
    shape, grad, vals = line.rstrip("\n").split("|")
    shape = [int(s) for s in shape.split(",")] if shape else []
    vals = [float(v) for v in vals.split(",")] if vals else []
    t = torch.tensor(vals, dtype=torch.float32).reshape(shape)
    if grad == "1":
        t.requires_grad_()
    print(str(t))
    print("<<<end>>>")
]])
    local out, ok = process.sh(PYTHON .. " " .. process.quote(dir .. "/show.py") .. " " .. process.quote(dir .. "/cases.txt"))
    os.execute("rm -rf " .. process.quote(dir))
    assert(ok, out)
    local theirs = {}
    for s in out:gmatch("(.-)\n<<<end>>>\n") do theirs[#theirs + 1] = s end
    local all = cases()
    assert.are.equal(#all, #theirs, out)
    for i, c in ipairs(all) do
      assert.are.equal(theirs[i], ours[i], c[1])
    end
  end)

  it("shows rows, integers, scientific notation and summaries as torch does", function()
    assert.are.equal("tensor([[ 0.1000,  2.0000],\n        [ 3.0000, -4.0000]])",
      tostring(ae.tensor { { 0.1, 2 }, { 3, -4 } }))
    assert.are.equal("tensor([1., 2.])", tostring(ae.tensor { 1, 2 }))
    assert.are.equal("tensor(3.5000)", tostring(ae.tensor(3.5)))
    assert.are.equal("tensor([1.0000e-05, 1.0000e+00])", tostring(ae.tensor { 1e-5, 1 }))
    assert.are.equal("tensor([   nan, 1.5000,    inf])", tostring(ae.tensor { 0 / 0, 1.5, math.huge }))
    assert.are.equal("tensor([], size=(2, 0))", tostring(ae.zeros(2, 0)))
    assert.are.equal("tensor([0., 1.], requires_grad=True)", tostring(ae.tensor({ 0, 1 }):requires_grad_()))
    assert.are.equal("tensor([0., 2.], grad_fn=<mul>)", tostring(ae.tensor({ 0, 1 }):requires_grad_() * 2))
    local big = tostring(ae.arange(1001))
    assert.are.equal("tensor([   0.,    1.,    2.,  ...,  998.,  999., 1000.])", big)
    local rows = tostring(ae.zeros(1001, 2))
    assert.are.equal("tensor([[0., 0.],\n        [0., 0.],\n        [0., 0.],\n        ...,\n"
      .. "        [0., 0.],\n        [0., 0.],\n        [0., 0.]])", rows)
  end)

  it("keeps the one-line summary with the shape as x:summary()", function()
    assert.are.equal("tensor(1, 2, 3, 4, 5, 6, shape=2×3)", ae.tensor({ { 1, 2, 3 }, { 4, 5, 6 } }):summary())
    assert.are.equal("tensor(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ..., shape=100×100)", ae.zeros(100, 100):summary())
    assert.are.equal("tensor(shape=0×3)", ae.zeros(0, 3):summary())
    assert.are.equal("tensor(0, shape=1, requires_grad=true)", ae.zeros(1):requires_grad_():summary())
  end)
end)

describe("ae.tensor from nested tables", function()
  local ae = require "aerun"
  it("refuses a ragged table before allocating the shape its first elements claim", function()
    -- the first elements claim 120^4 floats (830 MB); the table itself
    -- holds 480 values.  Allocating first held the 830 MB until the next
    -- collection (the fuzzer piled up 18 GB of them, and spent seconds in
    -- ASan's fill of each); the walk that checks first allocates nothing
    local level = 1
    for _ = 1, 4 do
      local t = { level }
      for i = 2, 120 do t[i] = 1 end
      level = t
    end
    local live = ae.memory()
    local ok, err = pcall(ae.tensor, level)
    assert.is_true(ae.memory() - live < 1e6, "the refused tensor was allocated")
    assert.is_false(ok)
    assert.matches("tensor: element [1][1][2] is number, expected a table of 120", err, 1, true)
    -- a regular table still fills in order
    assert.are.same({ { 1, 2 }, { 3, 4 } }, ae.tensor({ { 1, 2 }, { 3, 4 } }):totable())
  end)
end)
