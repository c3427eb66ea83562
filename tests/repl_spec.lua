-- The interactive aerun (the REPL in runtime/lua/aerun.c) and how it shows
-- results (lua/aerun/repl.lua): input is piped into `aerun -i`, which then
-- prints no prompts, and the output is compared line by line.
local ae = require "aerun"
local process = require "tests.helpers.process"

-- runs aerun -i on the lines; returns stdout (without -i's banner line) and stderr
local function session(lines)
  local dir = process.tmpdir()
  process.write(dir .. "/in.lua", table.concat(lines, "\n") .. "\n")
  local out = process.capture(("%s -i < %s 2> %s"):format(process.quote(process.aerun),
    process.quote(dir .. "/in.lua"), process.quote(dir .. "/err")))
  local err = process.read_all(dir .. "/err")
  os.execute("rm -rf " .. process.quote(dir))
  return (out:gsub("^aerun [^\n]*\n", "")), err
end

describe("the REPL", function()
  it("prints tensors as torch does, a summarised one with its size, and shapes as lists", function()
    local out, err = session {
      'ae = require "aerun"',
      "x = ae.tensor{{1, 2}, {3, 4.5}}",
      "x",
      "x:sum()",
      "x:shape()",
      "ae.zeros(40, 30)",
    }
    assert.are.equal("", err)
    assert.are.equal(table.concat({
      "tensor([[1.0000, 2.0000],",
      "        [3.0000, 4.5000]])",
      "tensor(10.5000)",
      "{2, 2}",
      "tensor([[0., 0., 0.,  ..., 0., 0., 0.],",
      "        [0., 0., 0.,  ..., 0., 0., 0.],",
      "        [0., 0., 0.,  ..., 0., 0., 0.],",
      "        ...,",
      "        [0., 0., 0.,  ..., 0., 0., 0.],",
      "        [0., 0., 0.,  ..., 0., 0., 0.],",
      "        [0., 0., 0.,  ..., 0., 0., 0.]])",
      "[tensor of size 40×30]",
    }, "\n"), out)
  end)

  it("prints tables one level deep, modules as their repr, several results with tabs", function()
    local out, err = session {
      'ae = require "aerun"',
      '{3, 4, name = "vae", ["two words"] = true, sub = {1}, empty = {}, t = ae.tensor{1, 2}, z = ae.zeros(5, 5)}',
      "ae.nn.Sequential{ae.nn.Linear(2, 3), ae.nn.ReLU()}",
      "{model = ae.nn.Sequential{ae.nn.Linear(2, 3)}}",
      '1, "two", nil',
      "local n = 0 for i = 1, 3 do n = n + i end return n",
    }
    assert.are.equal("", err)
    assert.are.equal(table.concat({
      '{3, 4, empty = {}, name = "vae", sub = {...}, t = tensor([1., 2.]), ["two words"] = true, z = tensor(size=5×5)}',
      "Sequential(",
      "  (0): Linear(in_features=2, out_features=3, bias=true)",
      "  (1): ReLU()",
      ")",
      "{model = Sequential(...)}",
      "1\ttwo\tnil",
      "6",
    }, "\n"), out)
  end)

  it("reads statements over several lines and reports errors without stopping", function()
    local out, err = session {
      "function f(x)",
      "  return x * 2",
      "end",
      "f(21)",
      'error("boom")',
      "f(1)",
    }
    assert.are.equal("42\n2", out)
    assert.matches("stdin:1: boom", err)
  end)
end)

describe("ae.repl.repr", function()
  it("shows values as the REPL does", function()
    local big = {}
    for i = 1, 40 do big[i] = i end
    assert.are.equal("{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, "
      .. "27, 28, 29, 30, ... (10 more)}", ae.repl.repr(big))
    assert.are.equal('{a = "x\\ny", [1.5] = 2}', ae.repl.repr { a = "x\ny", [1.5] = 2 })
    local cyclic = {}
    cyclic.self = cyclic
    assert.are.equal("{self = {...}}", ae.repl.repr(cyclic))
    assert.are.equal("tensor([1., 2.])", ae.repl.repr(ae.tensor { 1, 2 }))
    assert.are.equal("plain", ae.repl.repr("plain"))
    assert.are.equal("nil", ae.repl.repr(nil))
  end)
end)
