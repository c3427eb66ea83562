-- csv_spec.lua: core.csv_read, the CSV reader (runtime/io/csv.c,
-- runtime/lua/files.c).  Files written by Python's csv module
-- (tests/files/make_csv.py: CRLF, minimal and full quoting, numbers in
-- several notations) must give exactly numpy's float32 values; files
-- written here cover the header rule, labels by name and number, line
-- ends, quoting, blank lines and every error message, which must name
-- the file, the line and (for a cell) the column.
local core = require "aerun.core"
local process = require "tests.helpers.process"
local quote, write, read_all = process.quote, process.write, process.read_all

-- python is not ours to sanitize: under make test-asan the preloaded ASan
-- runtime would make torch's from_numpy abort, so it runs without it
local PYTHON = "env -u LD_PRELOAD /usr/bin/python3"

local f32 = require("tests.helpers.check").f32

local function read_error(...)
  local ok, err = pcall(core.csv_read, ...)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

local assert_mentions = require("tests.helpers.check").mentions

describe("csv_read", function()
  local dir, n
  setup(function()
    dir = process.tmpdir()
    n = 0
  end)
  teardown(function() os.execute("rm -rf " .. quote(dir)) end)

  local function file(text)
    n = n + 1
    local path = dir .. "/f" .. n .. ".csv"
    write(path, text)
    return path
  end

  it("reads a header, the label by name, and the other columns in order", function()
    local x, y, names, label = core.csv_read(file("a,b,label,c\n1,2,0,3\n4,5,1,6\n"), { label = "label" })
    assert.are.same({ { 1, 2, 3 }, { 4, 5, 6 } }, x:totable())
    assert.are.same({ 0, 1 }, y:totable())
    assert.are.same({ "a", "b", "c" }, names)
    assert.are.equal("label", label)
  end)

  it("takes the label by number, negative from the end, with or without a header", function()
    local path = file("1,2,3\n4,5,6\n")
    local x, y, names = core.csv_read(path, { label = 1 })
    assert.are.same({ { 2, 3 }, { 5, 6 } }, x:totable())
    assert.are.same({ 1, 4 }, y:totable())
    assert.is_nil(names)
    x, y = core.csv_read(path, { label = -1 })
    assert.are.same({ { 1, 2 }, { 4, 5 } }, x:totable())
    assert.are.same({ 3, 6 }, y:totable())
    x, y = core.csv_read(path)
    assert.are.same({ { 1, 2, 3 }, { 4, 5, 6 } }, x:totable())
    assert.is_nil(y)
  end)

  it("detects a header: a first row with no number in it", function()
    local _, _, names = core.csv_read(file("x,y\n1,2\n"))
    assert.are.same({ "x", "y" }, names)
    -- pandas' to_csv writes an unnamed index column: an empty name
    local x
    x, _, names = core.csv_read(file(",a\n0,1.5\n1,2.5\n"))
    assert.are.same({ "", "a" }, names)
    assert.are.same({ { 0, 1.5 }, { 1, 2.5 } }, x:totable())
    -- numbers (nan too) make it data
    x = core.csv_read(file("1,2\n3,4\n"))
    assert.are.same({ 2, 2 }, x:shape())
    local err = read_error(file("nan,nan\n1,2\n"))
    assert_mentions(err, "line 1", "'nan', a missing value")
  end)

  it("obeys header = true and header = false", function()
    local x, _, names = core.csv_read(file("1,2\n3,4\n"), { header = true })
    assert.are.same({ "1", "2" }, names)
    assert.are.same({ { 3, 4 } }, x:totable())
    local path = file("a,b\n1,2\n")
    assert_mentions(read_error(path, { header = false }), path, "line 1", "column 1 is 'a', not a number")
  end)

  it("handles CRLF, CR, no final newline, blank lines, spaces, a byte-order mark and quoting", function()
    local texts = {
      "a,b\r\n1,2\r\n3,4\r\n",
      "a,b\r1,2\r3,4",
      "a,b\n1,2\n3,4",
      "\n\na,b\n\n1,2\n   \n3,4\n\n\n",
      "\xEF\xBB\xBFa,b\n 1 ,\t2\n3 , 4 \n",
      '"a","b"\n"1",2\n3,  "4"  \n',
    }
    for _, text in ipairs(texts) do
      local x, _, names = core.csv_read(file(text))
      assert.are.same({ { 1, 2 }, { 3, 4 } }, x:totable(), text)
      assert.are.same({ "a", "b" }, names, text)
    end
  end)

  it("reads quoted names with commas, doubled quotes and line breaks, and counts lines across them", function()
    local path = file('"x, 1","say ""hi""","two\nlines"\n1,2,3\n4,5\n')
    local err = read_error(path)
    -- the header spans lines 1 and 2: the ragged row is line 4
    assert_mentions(err, path, "line 4", "expected 3 columns (as line 1 has), found 2")
    local _, _, names = core.csv_read(file('"x, 1","say ""hi""","two\nlines"\n1,2,3\n'))
    assert.are.same({ "x, 1", 'say "hi"', "two\nlines" }, names)
  end)

  it("reads spaces inside a quoted number as Python's float() does, and keeps them in a quoted name", function()
    local x, _, names = core.csv_read(file('" a ",b\n" 1.5 ",\t"2"\n'))
    assert.are.same({ { 1.5, 2 } }, x:totable())
    assert.are.same({ " a ", "b" }, names)
  end)

  it("names UTF-8 columns whole in its messages, cutting long ones between characters", function()
    local path = file("größe,b\nx,1\n")
    assert_mentions(read_error(path), path, "column 1 ('größe') is 'x'")
    path = file(string.rep("é", 30) .. ",b\n1,y\n")
    local err = read_error(path, { label = "z" })
    assert_mentions(err, string.rep("é", 20) .. "...'")
  end)

  it("reads decimal numbers in every notation as float32 rounds them", function()
    local cells = { "0", "-0", "+7", "1.", ".5", "-2.5e-3", "1E10", "3.4028234e38", "1e-50", "0.1", "16777217",
      "123456789012345678901234567890" }
    local x = core.csv_read(file(table.concat(cells, ",") .. "\n"))
    local got = x:totable()[1]
    for i, c in ipairs(cells) do
      -- Lua reads "-0" as the integer 0: the float form keeps the sign, as strtod does
      local want = f32(tonumber(c:find("[.eE]") and c or c .. ".0"))
      assert.are.equal(string.pack("<f", want), string.pack("<f", got[i]), c)
    end
    assert.are.equal(16777216, got[11])
  end)

  it("uses another delimiter, and hints at one when the file seems to have a single column", function()
    local x, y = core.csv_read(file("a;b\n1;2\n"), { delimiter = ";", label = "b" })
    assert.are.same({ { 1 } }, x:totable())
    assert.are.same({ 2 }, y:totable())
    x = core.csv_read(file("1\t2\n3\t4\n"), { delimiter = "\t" })
    assert.are.same({ { 1, 2 }, { 3, 4 } }, x:totable())
    -- the first row "1;2" is no number: a header; the hint comes at line 2
    local path = file("1;2\n3;4\n")
    assert_mentions(read_error(path), path, "line 2", "'3;4', not a number", "is its delimiter ';'?")
  end)

  it("refuses a ragged row, saying the line and both counts", function()
    local path = file("a,b,c\n1,2,3\n4,5,6\n7,8\n")
    assert_mentions(read_error(path), path, "line 4", "expected 3 columns (as line 1 has), found 2")
    path = file("1,2\n3,4,5\n")
    assert_mentions(read_error(path), path, "line 2", "expected 2 columns", "found 3")
  end)

  it("refuses missing values, words, infinities and values float32 cannot hold, naming line and column", function()
    local bad = {
      { "a,b\n1,2\n3,\n", "line 3", "column 2 ('b') is empty", "missing value" },
      { "a,b\n1,2\nNaN,4\n", "line 3", "column 1 ('a') is 'NaN', a missing value (NaN)" },
      { "a,b\n1,NA\n", "line 2", "column 2 ('b') is 'NA', a missing value" },
      { "a,b\n1,null\n", "line 2", "'null', a missing value" },
      { "1,2\n3,x7\n", "line 2", "column 2 is 'x7', not a number" },
      { "1,2\n3,inf\n", "line 2", "column 2 is 'inf', not a finite number" },
      { "1,2\n3,-Infinity\n", "line 2", "not a finite number" },
      { "1,2\n3,1e39\n", "line 2", "column 2 is 1e39, outside float32's range" },
      { "1,2\n3,0x10\n", "line 2", "'0x10', not a number" },
      { "1,2\n3,1e\n", "line 2", "'1e', not a number" },
      { "1,2\n\n\n3,\"\"\n", "line 4", "column 2 is empty" },
    }
    for _, b in ipairs(bad) do
      local path = file(b[1])
      assert_mentions(read_error(path), path, table.unpack(b, 2))
    end
  end)

  it("refuses a label column that does not exist, listing the columns", function()
    local path = file("a,b,c\n1,2,3\n")
    assert_mentions(read_error(path, { label = "d" }), path, "no column is named 'd'", "'a', 'b', 'c'")
    assert_mentions(read_error(path, { label = 4 }), path, "no column 4", "3 columns", "'a', 'b', 'c'")
    assert_mentions(read_error(path, { label = -4 }), path, "no column -4")
    path = file("1,2,3\n")
    assert_mentions(read_error(path, { label = 5 }), path, "no column 5", "3 columns (1 to 3)")
    assert_mentions(read_error(path, { label = "y" }), path, "named ('y')", "no header", "header = true")
    path = file("a,a,b\n1,2,3\n")
    assert_mentions(read_error(path, { label = "a" }), path, "two columns 'a' (1 and 2)")
    path = file("y\n1\n")
    assert_mentions(read_error(path, { label = "y" }), path, "one column, the label")
  end)

  it("refuses an empty file, one of blank lines and a header without rows", function()
    for _, text in ipairs { "", "\n\n \r\n" } do
      local path = file(text)
      assert_mentions(read_error(path), path, "is empty")
    end
    local path = file("a,b\n")
    assert_mentions(read_error(path), path, "header (line 1) but no data rows")
  end)

  it("refuses broken quoting, naming the line", function()
    local path = file('a,b\n1,"2\n3,4\n')
    assert_mentions(read_error(path), path, "line 2", "column 2", "not closed")
    path = file('a,b\n1,"2"x\n')
    assert_mentions(read_error(path), path, "line 2", "column 2", "after the closing quote")
  end)

  it("refuses bad options and unreadable paths", function()
    local path = file("1,2\n")
    assert_mentions(read_error(path, { lable = 1 }), "unknown option lable", "header, label and delimiter")
    assert_mentions(read_error(path, { header = "yes" }), "header must be true, false or nil")
    assert_mentions(read_error(path, { label = 0 }), "label must be a column's name or its number")
    assert_mentions(read_error(path, { label = 1.5 }), "label must be")
    assert_mentions(read_error(path, { delimiter = ";;" }), "delimiter must be one character")
    assert_mentions(read_error(path, { delimiter = '"' }), "delimiter must be one character")
    assert_mentions(read_error(path, 5), "options must be a table of named options, got 5")
    assert_mentions(read_error(dir .. "/none.csv"), dir .. "/none.csv", "No such file")
    assert_mentions(read_error(dir), dir, "directory")
  end)

  it("reads a large file in one pass with the values in place", function()
    -- 100,000 rows of 8 columns, 2 MiB blocks over several 1 MiB reads
    local rows, lines = 100000, {}
    for i = 1, rows do
      lines[i] = string.format("%d,%d.5,%d,-%d,0.25,%d,1e-3,%d", i, i, i % 10, i, i * 3, i % 2)
    end
    local path = file("a,b,c,d,e,f,g,label\n" .. table.concat(lines, "\n") .. "\n")
    local x, y = core.csv_read(path, { label = "label" })
    assert.are.same({ rows, 7 }, x:shape())
    assert.are.same({ rows }, y:shape())
    assert.are.same({ 1, 1.5, 1, -1, 0.25, 3, f32(1e-3) }, x[1]:totable())
    assert.are.same({ rows, rows + 0.5, 0, -rows, 0.25, 3 * rows, f32(1e-3) }, x[rows]:totable())
    for i = 1, rows, 997 do
      assert.are.same({ i, i + 0.5, i % 10, -i, 0.25, 3 * i, f32(1e-3) }, x[i]:totable())
      assert.are.equal(i % 2, y[i]:item())
    end
    -- partial sums of 0s and 1s are exact in float32
    assert.are.equal(rows // 2, y:sum():item())
  end)
end)

describe("csv_read on files Python's csv module wrote", function()
  local dir, missing
  setup(function()
    if os.execute(PYTHON .. " -c 'import numpy' >/dev/null 2>&1") ~= true then
      missing = "/usr/bin/python3 cannot import numpy (apt-get install python3-numpy)"
      return
    end
    dir = process.tmpdir()
    local out, ok = process.sh(PYTHON .. " tests/files/make_csv.py " .. quote(dir))
    assert(ok, out)
  end)
  teardown(function() if dir then os.execute("rm -rf " .. quote(dir)) end end)

  local expected = require("tests.helpers.check").f32_file

  it("gives numpy's float32 values for every cell, with CRLF and minimal or full quoting", function()
    if missing then return pending(missing) end
    for _, name in ipairs { "plain", "quoted" } do
      local x, y, names, label = core.csv_read(dir .. "/" .. name .. ".csv", { label = "label" })
      assert.are.same({ "a", "b, with a comma", 'c "quoted"', "e" }, names)
      assert.are.equal("label", label)
      assert.are.same({ 500, 4 }, x:shape())
      for what, pair in pairs { x = { x, "_x" }, y = { y, "_y" } } do
        local want = expected(dir .. "/" .. name .. pair[2] .. ".f32")
        local got = pair[1]:reshape(-1):totable()
        assert.are.equal(#want, #got)
        for i = 1, #want do
          if string.pack("<f", want[i]) ~= string.pack("<f", got[i]) then
            assert.is_true(false, string.format("%s %s[%d]: numpy %.9g, aerun %.9g", name, what, i, want[i], got[i]))
          end
        end
      end
    end
  end)
end)
