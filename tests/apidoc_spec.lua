-- apidoc_spec.lua: the API reference (docs/api.md, docs/api/ from the doc
-- comments through LDoc) covers every public name, and every example in
-- it runs.
--
-- The public names are the ones the API walk finds (tests/abuse/walk.lua
-- with ABUSE_NAMES=1: the tables under `ae`, the tensor methods, and the
-- methods of the objects its calls return); this spec only maps the walk's
-- labels to the names a script writes (T(4x3):exp is Tensor:exp, the
-- object returned by ae.experiment.start is a Run).  The reference's names
-- come from LDoc's own reading of the comments (tools/ldoc_markdown.lua).
local json = require "aerun.json"
local process = require "tests.helpers.process"
local quote, sh, read = process.quote, process.sh, process.read

local root = process.root

-- the reference as LDoc reads it now, as Markdown
local function reference()
  local md = os.tmpname()
  local out, ok = sh("cd " .. quote(root) .. " && LDOC_MARKDOWN=" .. quote(md)
    .. " ldoc -c config.ld --filter tools.ldoc_markdown.render .")
  local text = read(md)
  os.remove(md)
  assert(ok and text and text:find("^# aerun API reference"), "ldoc failed (is lua-ldoc installed? make deps):\n" .. out)
  return text
end

-- entries: name -> {sig, text, usages = {code...}, line}
local function entries(md)
  local found, current, n = {}, nil, 0
  local lines = {}
  for line in (md .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  local i = 1
  while i <= #lines do
    local line = lines[i]
    local sig = line:match("^### class `(.-)`") or line:match("^### `(.-)`$")
    local mod = line:match("^## (%S+)$")
    if sig or mod then
      local name = mod or sig:match("^[^(]+")
      current = { sig = sig or mod, text = {}, usages = {}, line = i }
      found[name] = current
      n = n + 1
    elseif current and line == "```lua example" then
      local code = {}
      i = i + 1
      while i <= #lines and lines[i] ~= "```" do
        code[#code + 1] = lines[i]
        i = i + 1
      end
      current.usages[#current.usages + 1] = table.concat(code, "\n")
    elseif current then
      current.text[#current.text + 1] = line
    end
    i = i + 1
  end
  return found, n
end

-- the walk's targets, in names mode (no abuse calls)
local function walk_names()
  local dir = process.tmpdir()
  assert(os.execute("mkdir -p " .. quote(dir .. "/data")))
  local out, ok = sh(string.format("cd %s && AERUN_DATA=%s ABUSE_NAMES=1 %s %s %s 1 1 </dev/null",
    quote(dir), quote(dir .. "/data"), quote(process.aerun), quote(root .. "/tests/abuse/walk.lua"),
    quote(dir .. "/names.json")))
  local text = read(dir .. "/names.json")
  assert(ok and text, "the walk in names mode failed:\n" .. out:sub(-2000))
  os.execute("rm -rf " .. quote(dir))
  return json.decode(text).names
end

-- the Module protocol: a class's own forward, init, extra_repr and
-- from_config are what its constructor's entry and Module's describe
local protocol = { forward = true, init = true, extra_repr = true, from_config = true }

local classes = { ["T(4x3)"] = "Tensor", ["ae.experiment.start[1]"] = "Run" }

-- the name a script writes for a walk label, or nil when it is no public
-- name of its own: private (_x), or a function returned by another one
-- (an iterator, a schedule), documented with what returns it
local function canonical(label, nn_classes)
  if label:match("[._:]_") or label:match("^_") then return nil end
  local obj, method = label:match("^(.-):([%w_]+)$")
  if obj then
    if obj:match("%]$") and not classes[obj] then return nil end
    obj = classes[obj] or obj:gsub("^aerun%.", "")
    if nn_classes[obj] and protocol[method] then return "Module:" .. method end
    return obj .. ":" .. method
  end
  if label:match("%]$") then return nil end
  local m = label:match("^ae%.nn%.Module%.([%w_]+)$")
  if m then return "Module:" .. m end
  -- modules that keep aerun.json as a field re-export it
  local j = label:match("^ae%.[%w_]+%.json%.([%w_]+)$")
  if j then return "ae.json." .. j end
  return label
end

local md, documented, count
local function load()
  if md then return end
  md = reference()
  documented, count = entries(md)
end

describe("the API reference", function()
  it("has an entry for every public name the API walk finds", function()
    load()
    local ae = require "aerun"
    local nn_classes = {}
    for k, v in pairs(ae.nn) do
      if type(v) == "table" and rawget(v, "__name") then nn_classes[k] = true end
    end
    local missing, seen, total = {}, {}, 0
    for _, label in ipairs(walk_names()) do
      local name = canonical(label, nn_classes)
      if name and not seen[name] then
        seen[name] = true
        total = total + 1
        if not documented[name] then missing[#missing + 1] = name end
      end
    end
    table.sort(missing)
    print(string.format("\napi reference: %d entries; the walk finds %d public names", count, total))
    -- a walk that found nothing would pass: it finds hundreds today
    assert.is_true(total >= 300, "the walk found only " .. total .. " public names")
    assert(#missing == 0, "undocumented public names (add a doc comment): " .. table.concat(missing, ", "))
  end)

  it("describes every run option", function()
    load()
    local ae = require "aerun"
    local entry = documented["ae.experiment.run_options"]
    assert(entry, "no entry ae.experiment.run_options (a @table in lua/aerun/experiment.lua)")
    local body = table.concat(entry.text, "\n")
    local missing = {}
    for key in pairs(ae.experiment.config({}, {})) do
      if not body:find("`" .. key .. "`", 1, true) then missing[#missing + 1] = key end
    end
    table.sort(missing)
    assert(#missing == 0, "run options without a field in ae.experiment.run_options: " .. table.concat(missing, ", "))
  end)

  it("gives every function an example", function()
    load()
    local bare = {}
    for name, e in pairs(documented) do
      if e.sig:find("(", 1, true) and #e.usages == 0 then bare[#bare + 1] = name end
    end
    table.sort(bare)
    assert(#bare == 0, "functions without an example (add a @usage line): " .. table.concat(bare, ", "))
  end)

  it("is what docs/api.md holds (make docs writes it)", function()
    load()
    assert(read(root .. "/docs/api.md") == md, "docs/api.md is out of date: run make docs")
  end)
end)

describe("the API reference's examples", function()
  load()
  local names = {}
  for name, e in pairs(documented) do
    if #e.usages > 0 then names[#names + 1] = name end
  end
  table.sort(names)
  it("are many", function()
    assert.is_true(#names >= 100, "only " .. #names .. " entries have an example")
  end)
  for _, name in ipairs(names) do
    for k, code in ipairs(documented[name].usages) do
      it(string.format("%s (example %d) runs", name, k), function()
        local dir = process.tmpdir()
        for _, link in ipairs { "data", "experiments" } do
          assert(os.execute("ln -s " .. quote(root .. "/" .. link) .. " " .. quote(dir .. "/" .. link)))
        end
        local f = assert(io.open(dir .. "/example.lua", "w"))
        f:write('local ae = require "aerun"\nlocal nn = ae.nn\n', code, "\n")
        f:close()
        local out, ok, status = sh("cd " .. quote(dir) .. " && " .. quote(process.aerun) .. " example.lua </dev/null")
        os.execute("rm -rf " .. quote(dir))
        assert(ok, string.format("the example of %s exited with %s:\n%s\n--- output:\n%s", name,
          tostring(status), code, out))
      end)
    end
  end
end)
