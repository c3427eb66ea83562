-- tests/abuse/walk.lua: calls the whole public Lua API with bad arguments.
--
--   aerun tests/abuse/walk.lua <result file> [part parts]
--
-- Run by tests/api_abuse_spec.lua in a subprocess, in an empty directory,
-- so that a crash, an abort or a hang is seen as the process dying (the
-- spec reads the log of calls to name the one that killed it).  Nothing
-- here lists calls one by one; they are generated in three steps:
--
--   1. targets: every function reachable from the `ae` table and its
--      submodules, callable tables (nn classes), and the tensor methods;
--   2. search: each target is called with every combination of up to three
--      plausible arguments (a few tensors, 3, 0.5, "x", "w", {2, 3}, true);
--      the combinations that succeed are its seeds, and what they return
--      (modules, optimizers, data sets, files, iterators...) adds the
--      methods of those objects and the returned functions as targets;
--   3. abuse: every argument position of every seed (and one past the
--      end, and self for methods) is replaced by each bad value: nil,
--      wrong types, NaN, ±inf, negative and huge sizes, 0-size, wrong-shaped
--      and non-contiguous tensors...
--
-- Each call must return or raise an error.  Errors are classified:
--   located   the message starts with this file's name and the line of the
--             call (the caller's file:line, as a script would see it)
--   library   located inside lua/aerun/ (the library reported its own line)
--   internal  a Lua runtime error from inside the library ("attempt to
--             index a nil value"...): the argument was not checked
--   object    the error value is not a string
-- and the messages of located errors are checked against the rules of
-- errors that say how to fix them (check_rules below: strings quoted,
-- fixed sets listed, module classes hinted).
-- The result file gets counts, timings and examples as JSON.
local ae = require "aerun"
local json = require "aerun.json"
local guard = require "aerun.guard"

local result_path, part, parts = arg[1], tonumber(arg[2] or 1), tonumber(arg[3] or 1)
assert(result_path, "usage: walk.lua <result file> [part parts]")
local SELF = debug.getinfo(1, "S").short_src
-- ABUSE_NAMES=1: only the targets (steps 1 and 2) and their names, for
-- tests/apidoc_spec.lua
local NAMES_ONLY = os.getenv("ABUSE_NAMES") == "1"
local log = assert(io.open(result_path .. ".log", "w"))

-- the walk must not end because something asked to
os.exit = function(code) error("os.exit(" .. tostring(code) .. ") called", 2) end
local quiet = function() end
print = quiet
io.write = quiet

-- tiny stand-ins for the standard data sets: $AERUN_DATA is set by the spec
local function idx_file(path, magic, dims, count, byte)
  local f = assert(io.open(path, "wb"))
  f:write(string.char(0, 0, 8, #dims))
  for _, d in ipairs(dims) do f:write(string.pack(">I4", d)) end
  for i = 1, count do f:write(string.char(byte(i))) end
  f:close()
end
do
  local root = os.getenv("AERUN_DATA")
  for _, name in ipairs { "mnist", "fashion-mnist" } do
    local dir = root .. "/" .. name
    assert(ae.mkdir_p(dir))
    for _, split in ipairs { { "train", 24 }, { "t10k", 12 } } do
      local n = split[2]
      idx_file(dir .. "/" .. split[1] .. "-images-idx3-ubyte", 3, { n, 28, 28 }, n * 784,
        function(i) return (i * 7) % 256 end)
      idx_file(dir .. "/" .. split[1] .. "-labels-idx1-ubyte", 1, { n }, n,
        function(i) return i % 10 end)
    end
  end
end

local tensor_mt = debug.getregistry()["aerun.Tensor"]
local function is_tensor(v) return getmetatable(v) == tensor_mt end

---------------------------------------------------------------------------
-- values

-- each is {name, make}; make() builds a fresh value for every call, so a
-- call that changes its argument (fill_, requires_grad_) changes nothing else
local plausible = {
  { "T(4x3)", function() return ae.rand(4, 3) end },
  { "T(3)", function() return ae.rand(3) end },
  { "T(2x3x4x4)", function() return ae.rand(2, 3, 4, 4) end },
  { "3", function() return 3 end },
  { "0.5", function() return 0.5 end },
  { '"x"', function() return "x" end },
  { '"w"', function() return "w" end },
  { "{2,3}", function() return { 2, 3 } end },
  { "true", function() return true end },
  -- positions and a 0/1 mask, for gather, masked_fill and masked_select
  { "ones(2x3x4x4)", function() return ae.ones(2, 3, 4, 4) end },
  -- a module, for what takes one (Sequential, AutoEncoder, ...); last, so
  -- the targets that found their seeds without it find the same ones
  { "ReLU()", function() return ae.nn.ReLU() end },
}

local bad = {
  { "nil", function() return nil end },
  { "true", function() return true end },
  { "false", function() return false end },
  { '"x"', function() return "x" end },
  { '""', function() return "" end },
  { '"-1"', function() return "-1" end },
  { "{}", function() return {} end },
  { "{1,2}", function() return { 1, 2 } end },
  { "{{}}", function() return { {} } end },
  { "{x=1}", function() return { x = 1 } end },
  { "{-1}", function() return { -1 } end },
  { "{2^40,2^40}", function() return { 2 ^ 40, 2 ^ 40 } end },
  { "{nan}", function() return { 0 / 0 } end },
  { "cyclic table", function() local t = {} t[1] = t t.x = t return t end },
  { "function", function() return function() end end },
  { "erroring function", function() return function() error("from a callback") end end },
  { "coroutine", function() return coroutine.create(function() end) end },
  { "file", function() return io.tmpfile() end },
  { "0", function() return 0 end },
  { "-1", function() return -1 end },
  { "-3", function() return -3 end },
  { "0.5", function() return 0.5 end },
  { "nan", function() return 0 / 0 end },
  { "inf", function() return math.huge end },
  { "-inf", function() return -math.huge end },
  { "1e5", function() return 100000 end },
  { "2^33", function() return 2 ^ 33 end },
  { "2^40", function() return 2 ^ 40 end },
  { "-2^40", function() return -2 ^ 40 end },
  { "maxinteger", function() return math.maxinteger end },
  { "mininteger", function() return math.mininteger end },
  { "1e308", function() return 1e308 end },
  { "T(0)", function() return ae.zeros(0) end },
  { "T(0x3)", function() return ae.zeros(0, 3) end },
  { "T(3x0)", function() return ae.zeros(3, 0) end },
  { "T(scalar)", function() return ae.tensor(2) end },
  { "T(5)", function() return ae.rand(5) end },
  { "T(2x3)", function() return ae.rand(2, 3) end },
  { "T(7x5)", function() return ae.rand(7, 5) end },
  { "T(nan 2x3)", function() return ae.full(2, 3, 0 / 0) end },
  { "T(inf 4x3)", function() return ae.full(4, 3, math.huge) end },
  { "T(1x1x2x2)", function() return ae.rand(1, 1, 2, 2) end },
  { "T(4x3x2x2)", function() return ae.rand(4, 3, 2, 2) end },
  { "T(8-D)", function() return ae.rand(1, 1, 1, 1, 1, 1, 2, 2) end },
  { "T(3x4)ᵀ", function() return ae.rand(3, 4):t() end },
  { "T(4x3) narrow", function() return ae.rand(6, 3):narrow(1, 2, 4) end },
  { "T(4x3) grad", function() return ae.rand(4, 3):requires_grad_() end },
  { "T(4x3) graph", function() return ae.rand(4, 3):requires_grad_() * 2 end },
  { "module", function() return ae.nn.ReLU() end },
  { "class nn.ReLU", function() return ae.nn.ReLU end },
}

---------------------------------------------------------------------------
-- targets

local targets, seen = {}, {}

local function callable(v)
  if type(v) == "function" then return true end
  local mt = (type(v) == "table" or type(v) == "userdata") and getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__call") ~= nil
end

-- a function is walked once, however many tables and objects reach it;
-- depth counts how many constructions led to it (harvests stop at 2)
local function add_target(name, f, self_maker, depth)
  if seen[f] then return end
  seen[f] = true
  targets[#targets + 1] = { name = name, f = f, self = self_maker, depth = depth or 0 }
end

-- walks the namespaces; submodules are loaded through ae's lazy __index
local namespaces = {
  "json", "nn", "optim", "loss", "data", "config", "experiment", "models", "kl", "penalty",
  "noise", "schedule", "image", "h5", "checkpoint", "recipes", "metrics", "repl",
}
-- the reference also covers these (abusing them is not yet part of the walk)
if NAMES_ONLY then table.move({ "sweep", "eval", "report" }, 1, 3, #namespaces + 1, namespaces) end
local function walk_table(prefix, t, depth)
  local keys = {}
  for k in pairs(t) do if type(k) == "string" then keys[#keys + 1] = k end end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = rawget(t, k)
    if callable(v) then add_target(prefix .. "." .. k, v) end
    if type(v) == "table" and depth < 2 and not callable(v) then walk_table(prefix .. "." .. k, v, depth + 1) end
  end
end
walk_table("ae", ae, 1)
for _, ns in ipairs(namespaces) do
  local m = ae[ns]
  if callable(m) then add_target("ae." .. ns, m) end
  if type(m) == "table" then walk_table("ae." .. ns, m, 1) end
end

-- the methods of an object: functions found through its metatable
local function methods_of(obj)
  local out = {}
  local mt = getmetatable(obj)
  if type(mt) ~= "table" then return out end
  local function collect(t, depth)
    if type(t) ~= "table" or depth > 6 then return end
    for k, v in pairs(t) do
      if type(k) == "string" and type(v) == "function" and not k:match("^__") and out[k] == nil then
        out[k] = v
      end
    end
    local up = getmetatable(t)
    if type(up) == "table" and type(rawget(up, "__index")) == "table" then collect(rawget(up, "__index"), depth + 1) end
  end
  if rawget(mt, "methods") then collect(rawget(mt, "methods"), 1) end
  if type(rawget(mt, "__index")) == "table" then collect(rawget(mt, "__index"), 1) end
  return out
end

local objects = 0
local function add_object(label, make, depth)
  local ok, obj = pcall(make)
  if not ok or obj == nil then return end
  objects = objects + 1
  local names = {}
  for k in pairs(methods_of(obj)) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    local f = methods_of(obj)[k]
    add_target(label .. ":" .. k, f, make, depth)
  end
end

-- the tensor's methods on a plausible tensor
add_object("T(4x3)", function() return ae.rand(4, 3) end)

---------------------------------------------------------------------------
-- calling

local stats = {
  calls = 0, returned = 0, located = 0, library = 0, internal = 0, object = 0,
  targets = 0, seeds = 0, objects = 0, slowest = {}, examples = {}, by_target = {},
  c_offenders = {}, unnamed_lua = {},
  -- the rules of messages that say how to fix them (issue 13): how many
  -- errors each was checked on, and examples of those that broke it
  rules = { quoted = 0, listed = 0, hinted = 0 }, unquoted = {}, unlisted = {}, unhinted = {},
}

-- Rule checks on an error message err of a call whose argument at one
-- position was replaced (abuse.seed: the name of the value the seed had
-- there; abuse.bad: the name of the bad value):
--   quoted  a string where the seed had a number: the message quotes it
--           ('got the string "x"'), so that "4" and 4 differ
--   listed  an argument with a fixed set of values: the message lists them
--           (luaL_checkoption's "invalid option 'x'" does not)
--   hinted  a module class where a module goes: "did you mean nn.ReLU()?"
local NUMBERS = { ["3"] = true, ["0.5"] = true }
local STRINGS = { ['"x"'] = true, ['""'] = true, ['"-1"'] = true }
local function check_rules(target, label, err, abuse)
  if type(err) ~= "string" then return end
  local first = err:gsub("\n.*", "")
  local function offend(list, key)
    key = key or target.name
    if not list[key] then list[key] = label .. "  ->  " .. first end
  end
  -- (only messages that say what they got: a position that takes a path
  -- or a name as well, such as a file's, fails for other reasons)
  if abuse and NUMBERS[abuse.seed] and STRINGS[abuse.bad] and first:find("got", 1, true)
      and target.short:sub(1, 1) ~= "_" then
    stats.rules.quoted = stats.rules.quoted + 1
    if not first:find(abuse.bad, 1, true) then offend(stats.unquoted) end
  end
  local choice = first:match("invalid option '") or first:match("unknown %a+ ['\"]")
    or first:match("['\"][^'\"]*['\"] is not supported") or first:match("must be one of")
  if choice then
    stats.rules.listed = stats.rules.listed + 1
    if first:match("invalid option '") or not (first:find("known", 1, true) or first:find(" or ", 1, true)
        or first:find("one of", 1, true) or first:find("only ", 1, true) or first:find(", ", 1, true)) then
      offend(stats.unlisted)
    end
  end
  if abuse and abuse.bad == "class nn.ReLU" then
    -- a class read as a table of options ("unknown option '__module'")
    -- or as a module ("got table") says neither what it got nor the fix
    local expects_module = first:find("not a module", 1, true) or first:find("nn module", 1, true)
      or first:find("list of modules", 1, true) or first:find("model's parameters", 1, true)
    if first:find("__module", 1, true) then
      stats.rules.hinted = stats.rules.hinted + 1
      offend(stats.unhinted)
    elseif expects_module and (first:find("nn.ReLU", 1, true) or first:find("table", 1, true)) then
      stats.rules.hinted = stats.rules.hinted + 1
      if not (first:find("did you mean", 1, true) and first:find("nn.ReLU()", 1, true)) then offend(stats.unhinted) end
    end
  end
end
local clock = ae.time

-- not a tail call: the callee's errors then point at the call's line, the
-- caller's file:line a script would see.  The call goes through a field
-- named as the target (its last name part), as a script's would, so that
-- C functions' argument errors name it ("bad argument #1 to 'exp'"): one
-- small chunk per name, compiled under this file's name
local invokers = {}
local function invoke(f, args, n, short)
  local call = invokers[short]
  if not call then
    call = assert(load(string.format(
      "local t, f, args, n = {}, ...; t[%q] = f; return table.pack(t[%q](table.unpack(args, 1, n)))",
      short, short), "@" .. SELF))
    invokers[short] = call
  end
  return call(f, args, n)
end
local CALL_LINE = 1   -- the line of the generated chunks

local internal_patterns = {
  "attempt to ", "stack overflow", "table index is ", "number has no integer representation",
  "bad argument #%d+ to '[%w_.:]+'", "invalid value %(at index", "string length overflow",
  "C stack overflow", "not enough memory",
}

local function classify(err)
  if type(err) ~= "string" then return "object" end
  if err:sub(1, #SELF + 1) == SELF .. ":" then
    -- a Lua error raised by a standard function inside the library still
    -- points here when the library function was called in tail position
    return "located"
  end
  for _, p in ipairs(internal_patterns) do
    if err:match(p) and err:match("^lua/aerun/") then return "internal" end
  end
  if err:match("^lua/aerun/") then return "library" end
  for _, p in ipairs(internal_patterns) do
    if err:match(p) then return "internal" end
  end
  return "unlocated"
end

local budget_per_target = tonumber(os.getenv("ABUSE_TARGET_SECONDS") or "1.5")

-- builds the arguments (a harvested object's constructor may fail when it
-- is run again: that is no call of the target)
local function build(makers, n)
  local args = {}
  for i = 1, n do
    if makers[i] then args[i] = makers[i]() end
  end
  return args
end

-- one call; returns ok, results
-- the budget cuts the abuse of slow targets short, never the search: what
-- the search finds (seeds, objects, the names of targets) must not depend
-- on the machine's speed
local function try(target, label, makers, n, bad_self, searching, abuse)
  local spent = stats.by_target[target.name] or 0
  if spent > budget_per_target and not searching then return false end
  local built, args = pcall(build, makers, n)
  if not built then
    stats.skipped = (stats.skipped or 0) + 1
    return false
  end
  log:write(label, "\n")
  log:flush()
  local grad = ae.is_grad_enabled()
  local t0 = clock()
  target.short = target.short or target.name:match("([%w_]+)[%[%d%]]*$") or "f"
  local ok, r = pcall(invoke, target.f, args, n, target.short)
  local dt = clock() - t0
  ae.set_grad_enabled(grad)
  ae.trap_signals(false)
  ae.detect_anomaly(false)
  stats.by_target[target.name] = spent + dt
  stats.calls = stats.calls + 1
  if #stats.slowest < 10 or dt > stats.slowest[#stats.slowest][2] then
    stats.slowest[#stats.slowest + 1] = { label, dt }
    table.sort(stats.slowest, function(a, b) return a[2] > b[2] end)
    stats.slowest[11] = nil
  end
  if ok then
    stats.returned = stats.returned + 1
    return true, r
  end
  local kind = classify(r)
  if kind == "located" and not bad_self then check_rules(target, label, r, abuse) end
  -- a method called on something that is not its object (m.forward(nil))
  -- fails the way Lua's own methods do; counted apart
  if target.is_c == nil then
    -- (a function of the library guarded by aerun.guard is a C closure
    -- around the library's Lua function: that function is what it is)
    local f = guard.unwrap(target.f)
    target.is_c = type(f) == "function" and debug.getinfo(f, "S").what == "C"
  end
  -- the C functions raise through luaL_argerror/luaL_error, which always
  -- name the caller's line: any exception is a defect of the binding
  if target.is_c and kind ~= "located" and #stats.c_offenders < 50 then
    stats.c_offenders[#stats.c_offenders + 1] = label .. "  ->  " .. tostring(r)
  end
  if bad_self and kind ~= "located" then kind = "self" end
  -- a located error should also name what was called (its last name
  -- part); counted for every target, listed for the Lua library's (the C
  -- functions name their op or file in their own words: "mse: ...",
  -- "w.h5: /x: not found").  Errors raised by the walk's own callbacks
  -- carry their own line, not the call's.
  if kind == "located" and not bad_self and tostring(r):sub(1, #SELF + 3) == SELF .. ":1:"
      and not tostring(r):lower():find(target.short:lower(), 1, true) then
    stats.unnamed = (stats.unnamed or 0) + 1
    if not target.is_c and target.short:sub(1, 1) ~= "_" and not stats.unnamed_lua[target.name] then
      stats.unnamed_lua[target.name] = label .. "  ->  " .. tostring(r):gsub("\n.*", "")
    end
  end
  stats[kind] = (stats[kind] or 0) + 1
  if kind ~= "located" then
    local per = stats.examples[target.name] or {}
    stats.examples[target.name] = per
    if not per[kind] then per[kind] = label .. "  ->  " .. tostring(r):gsub("\n.*", "") end
    per[kind .. "_count"] = (per[kind .. "_count"] or 0) + 1
  end
  return false
end

local function describe(target, names)
  return target.name .. "(" .. table.concat(names, ", ") .. ")"
end

-- returned functions and objects become targets of their own
local function harvest(target, names, results)
  if target.depth >= 2 then return end
  for i = 1, math.min(results.n, 3) do
    local v = results[i]
    -- named after the target, without the arguments, or after the
    -- object's class when it has one ("aerun.H5File", "Linear")
    local label = target.name .. "[" .. i .. "]"
    local mt = getmetatable(v)
    if type(mt) == "table" and type(rawget(mt, "__name")) == "string" then label = rawget(mt, "__name") end
    if type(v) == "function" then
      add_target(label, v, nil, target.depth + 1)
    elseif (type(v) == "table" or type(v) == "userdata") and not is_tensor(v) and getmetatable(v) then
      local key = "obj:" .. tostring(getmetatable(v))
      if not seen[key] then
        seen[key] = true
        local f, args, n = target.f, {}, #names
        local makers = target.makers
        -- building a model per call would dominate the walk: an object is
        -- reused for 50 calls, whatever state bad calls left it in
        local obj, uses = nil, 0
        add_object(label, function()
          if obj == nil or uses >= 50 then
            obj, uses = nil, 0
            for j = 1, n do args[j] = makers[j]() end
            obj = f(table.unpack(args, 1, n))
          end
          uses = uses + 1
          return obj
        end, target.depth + 1)
      end
    end
  end
end

-- the calls for one target: search for seeds, then abuse them
local function walk(target)
  stats.targets = stats.targets + 1
  local seeds = {}
  local self_maker = target.self
  local offset = self_maker and 1 or 0
  -- search: combinations of plausible values, shortest first
  local function search(prefix_makers, prefix_names, arity)
    if #seeds >= 2 then return end
    if #prefix_makers == arity then
      local makers, names = {}, {}
      if self_maker then makers[1], names[1] = self_maker, "self" end
      for i, m in ipairs(prefix_makers) do makers[i + offset], names[i + offset] = m, prefix_names[i] end
      local ok, r = try(target, describe(target, names), makers, #makers, false, true)
      if ok then
        seeds[#seeds + 1] = { makers = makers, names = names }
        target.makers = makers
        harvest(target, names, r)
      end
      return
    end
    for _, p in ipairs(plausible) do
      prefix_makers[#prefix_makers + 1], prefix_names[#prefix_names + 1] = p[2], p[1]
      search(prefix_makers, prefix_names, arity)
      prefix_makers[#prefix_makers], prefix_names[#prefix_names] = nil, nil
      if #seeds >= 2 then return end
    end
  end
  for arity = 0, 3 do search({}, {}, arity) end
  stats.seeds = stats.seeds + #seeds
  if NAMES_ONLY then return end
  if #seeds == 0 then
    local makers, names = {}, {}
    if self_maker then makers[1], names[1] = self_maker, "self" end
    for i = 1, 3 do makers[i + offset], names[i + offset] = plausible[i][2], plausible[i][1] end
    seeds[1] = { makers = makers, names = names }
  end
  -- abuse: each position of each seed, and one past its end
  for _, seed in ipairs(seeds) do
    for pos = 1, #seed.makers + 1 do
      for _, b in ipairs(bad) do
        local makers, names = {}, {}
        local n = math.max(#seed.makers, pos)
        for i = 1, n do
          makers[i], names[i] = seed.makers[i], seed.names[i] or "nil"
          if i == pos then makers[i], names[i] = b[2], b[1] end
        end
        try(target, describe(target, names), makers, n, pos == 1 and target.self ~= nil, false,
          { seed = seed.names[pos], bad = b[1] })
      end
    end
  end
end

-- the parts split the targets found by walking the tables; what a walk
-- harvests is walked by the same process
local t0 = clock()
local nbase = #targets
if os.getenv("ABUSE_LIST") then
  for _, t in ipairs(targets) do io.stderr:write(t.name, "\n") end
end
local i = 1
while i <= #targets do
  if i > nbase or (i - 1) % parts == part - 1 then walk(targets[i]) end
  i = i + 1
  collectgarbage("step", 100)
end
-- then random argument lists over every target found, for what the
-- systematic walk does not combine (two bad arguments, a bad one late)
math.randomseed(tonumber(os.getenv("ABUSE_SEED") or "1"))
local pool = {}
for _, p in ipairs(plausible) do pool[#pool + 1] = p end
for _, b in ipairs(bad) do pool[#pool + 1] = b end
local random_calls = NAMES_ONLY and 0 or tonumber(os.getenv("ABUSE_RANDOM") or "20000")
local mine = {}
for k = 1, #targets do
  if k > nbase or (k - 1) % parts == part - 1 then mine[#mine + 1] = targets[k] end
end
for _ = 1, random_calls do
  local target = mine[math.random(#mine)]
  local makers, names = {}, {}
  local n = math.random(0, 4)
  for k = 1, n do
    local v = pool[math.random(#pool)]
    makers[k], names[k] = v[2], v[1]
  end
  if target.self and math.random() < 0.9 then
    table.insert(makers, 1, target.self)
    table.insert(names, 1, "self")
    n = n + 1
  end
  try(target, describe(target, names), makers, n, target.self ~= nil and names[1] ~= "self")
end

local costly = {}
for name, t in pairs(stats.by_target) do costly[#costly + 1] = { name, t } end
table.sort(costly, function(a, b) return a[2] > b[2] end)
for k = 16, #costly do costly[k] = nil end
stats.costly, stats.by_target = costly, nil
stats.objects = objects
stats.seconds = clock() - t0
stats.all_targets = #targets
stats.call_line = SELF .. ":" .. CALL_LINE
stats.names = {}
for i, t in ipairs(targets) do stats.names[i] = t.name end
local f = assert(io.open(result_path, "w"))
f:write(json.encode(stats))
f:close()
log:write("done\n")
log:close()
