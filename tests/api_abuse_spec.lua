-- API abuse: tests/abuse/walk.lua generates calls over the whole public
-- Lua API with bad arguments (nil, wrong types, NaN, ±inf, negative and
-- huge sizes, 0-size, wrong-shaped and non-contiguous tensors...).  It runs
-- in subprocesses of the executable, two halves side by side, so that a
-- crash, an abort or a hang shows as a process that did not finish; its
-- log of calls then names the call that killed it.
--
-- What must hold:
--   * no call crashes, aborts or hangs, and the walk makes thousands of calls;
--   * every error raised by a C function of the runtime is a string that
--     starts with the calling script's file:line;
--   * the Lua library's functions raise errors at the caller's line that
--     name the function, not Lua runtime errors from inside the library
--     ("attempt to index a nil value"): lua/aerun/guard.lua is the
--     boundary that makes it so;
--   * the messages say how to fix the call (issue 13): a string given where
--     the seed had a number is quoted; an argument with a fixed set of
--     values lists them; a module class in place of a module gets "did you
--     mean nn.ReLU()?" (tests/errors_spec.lua has one case of each).
local ae = require "aerun"
local json = require "aerun.json"

local process = require "tests.helpers.process"
local root, aerun, quote, read = process.root, process.aerun, process.quote, process.read
local PARTS = 2
local TIMEOUT = tonumber(os.getenv("ABUSE_TIMEOUT") or "600")

local function last_line(path)
  local s = read(path) or ""
  local lines = {}
  for l in s:gmatch("[^\n]+") do lines[#lines + 1] = l end
  return lines[#lines] or "(no call logged)"
end

-- runs the walk; returns the parts' results (or fails naming the call
-- that crashed or hung)
local results
local function walk()
  if results then return results end
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. quote(dir .. "/data")))
  local cmds = {}
  for part = 1, PARTS do
    local out = dir .. "/part" .. part
    cmds[#cmds + 1] = string.format(
      "(cd %s && AERUN_DATA=%s timeout -s KILL %d %s %s %s %d %d </dev/null >%s.stdout 2>%s.stderr; echo $? > %s.rc) &",
      quote(dir), quote(dir .. "/data"), TIMEOUT, quote(aerun), quote(root .. "/tests/abuse/walk.lua"),
      quote(out .. ".json"), part, PARTS, quote(out), quote(out), quote(out))
  end
  assert(os.execute(table.concat(cmds, " ") .. " wait"))
  results = {}
  for part = 1, PARTS do
    local out = dir .. "/part" .. part
    local rc = tonumber(read(out .. ".rc"))
    local text = read(out .. ".json")
    if rc ~= 0 or not text then
      local why = rc == 137 and "hung (killed after " .. TIMEOUT .. " s)" or ("exited with status " .. tostring(rc))
      local stderr = (read(out .. ".stderr") or ""):gsub("aerun: [^\n]* no checkpoint was written\n", "")
      error(string.format("the walk (part %d) %s during the call\n  %s\nstderr:\n%s", part, why,
        last_line(out .. ".json.log"), stderr:sub(-3000)), 0)
    end
    results[part] = json.decode(text)
  end
  os.execute("rm -rf " .. quote(dir))
  return results
end

local function total(key)
  local n = 0
  for _, r in ipairs(walk()) do n = n + (r[key] or 0) end
  return n
end

-- the examples of every part under key, as lines
local function offenders(key)
  local out = {}
  for _, r in ipairs(walk()) do
    for _, example in pairs(r[key] or {}) do out[#out + 1] = example end
  end
  table.sort(out)
  return out
end

local function rule_checks(name)
  local n = 0
  for _, r in ipairs(walk()) do n = n + ((r.rules or {})[name] or 0) end
  return n
end

describe("the public API called with bad arguments", function()
  it("never crashes, aborts or hangs, over thousands of generated calls", function()
    walk()
    local calls = total("calls")
    print(string.format("\napi abuse: %d calls over %d targets (%d seeds, %d objects): %d returned, "
      .. "%d errors at the caller's line, %d at the library's line, %d unlocated, %d Lua runtime "
      .. "errors from the library, %d on a wrong self",
      calls, total("targets"), total("seeds"), total("objects"), total("returned"), total("located"),
      total("library"), total("unlocated"), total("internal"), total("self")))
    assert.is_true(calls >= 20000, "only " .. calls .. " calls were made")
    assert.is_true(total("located") >= 10000)
  end)

  it("gets errors from C functions that start with the script's file:line", function()
    local offenders = {}
    for _, r in ipairs(walk()) do
      for _, o in ipairs(r.c_offenders or {}) do offenders[#offenders + 1] = o end
    end
    assert.are.equal(0, #offenders, "errors without the caller's file:line:\n  " .. table.concat(offenders, "\n  "))
  end)

  it("gets errors from the Lua library that name the function at the caller's line", function()
    local bad = {}
    for _, r in ipairs(walk()) do
      for _, per in pairs(r.examples or {}) do
        for _, kind in ipairs { "internal", "unlocated", "library" } do
          if per[kind] then bad[#bad + 1] = kind .. ": " .. per[kind] end
        end
      end
      for _, example in pairs(r.unnamed_lua or {}) do bad[#bad + 1] = "unnamed: " .. example end
    end
    print(string.format("api abuse: %d of %d errors at the caller's line do not contain the name called "
      .. "(C functions that name their op or file instead)", total("unnamed"), total("located")))
    table.sort(bad)
    assert.are.equal(0, #bad, "errors that do not name the function at the caller's line:\n  "
      .. table.concat(bad, "\n  "))
  end)

  it("quotes a string given where a number goes", function()
    local bad = offenders("unquoted")
    print(string.format("api abuse: %d errors for a string in place of a number checked for the quoted string",
      rule_checks("quoted")))
    assert.is_true(rule_checks("quoted") >= 300, "only " .. rule_checks("quoted") .. " checked")
    assert.are.equal(0, #bad, "a string in place of a number, not quoted in the message:\n  " .. table.concat(bad, "\n  "))
  end)

  it("lists the values of an argument that has a fixed set of them", function()
    local bad = offenders("unlisted")
    print(string.format("api abuse: %d errors refusing a value checked for the list of valid ones", rule_checks("listed")))
    assert.is_true(rule_checks("listed") >= 100, "only " .. rule_checks("listed") .. " checked")
    assert.are.equal(0, #bad, "a refused value without the valid ones:\n  " .. table.concat(bad, "\n  "))
  end)

  it("hints 'did you mean nn.ReLU()?' for a module class given in place of a module", function()
    local bad = offenders("unhinted")
    print(string.format("api abuse: %d errors for a module class checked for the hint", rule_checks("hinted")))
    assert.is_true(rule_checks("hinted") >= 3, "only " .. rule_checks("hinted") .. " checked")
    assert.are.equal(0, #bad, "a module class in place of a module, without the hint:\n  " .. table.concat(bad, "\n  "))
  end)
end)
