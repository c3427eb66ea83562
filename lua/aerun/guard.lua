-- aerun.guard: the library's boundary with scripts.
--
-- A script that passes a bad argument must see the error at its own line,
-- naming the function it called, and not a Lua runtime error at some line
-- of lua/aerun/nn.lua.  Each module wraps its public functions and class
-- methods here on the way out.  When a script calls one, an error raised
-- inside the library is raised again as
--
--   script.lua:12: ae.nn.Linear: <message> (arguments: 784, nil)
--
-- (the arguments only when the message is a Lua runtime error, i.e. the
-- library did not check them).  Errors raised by the script's own code,
-- such as its Module:forward called by Sequential, pass through untouched,
-- and so do error values that are not strings.  Calls from inside the
-- library go straight through at the cost of one debug.getinfo.
--
-- AERUN_RAW_ERRORS=1 turns the boundary off: errors keep the library's
-- line and traceback, for working on the library itself.
local guard = {}

local getinfo, pcall, xpcall, select, type = debug.getinfo, pcall, xpcall, select, type
local pack, unpack = table.pack, table.unpack

require "aerun.core"
local registry = debug.getregistry()
-- guard.wrap's functions are C closures around their Lua handler (see
-- runtime/lua/guard.c): a script's `return f(x)` then keeps its frame
local boundary = registry["aerun.boundary"]
-- the caller's level seen from a handler: 1 the handler, 2 the C closure
local CALLER = boundary and 3 or 2

local raw = os.getenv("AERUN_RAW_ERRORS") or ""
raw = raw ~= "" and raw ~= "0"

-- the library's files sit in this file's directory, embedded or installed
local here = getinfo(1, "S")
local dir_source = here.source:match("^(.*[/\\])") or here.source
local dir_short = here.short_src:match("^(.*[/\\])") or here.short_src

local memo = {}
local function is_library_source(source)
  local v = memo[source]
  if v == nil then
    v = source:sub(1, #dir_source) == dir_source
    memo[source] = v
  end
  return v
end

-- the location prefix of a message ("lua/aerun/nn.lua:88") is the library's
-- (Lua shortens long paths to ".../aerun/nn.lua")
local function is_library_location(file)
  return file:sub(1, #dir_short) == dir_short
    or (file:sub(1, 3) == "..." and file:match("aerun[/\\][%w_]+%.lua$") ~= nil)
end

-- the debug info ("Sl") of the innermost Lua function outside the library:
-- the script a library function works for (this file is in the library)
function guard.caller()
  local level = 2
  while true do
    local info = getinfo(level, "Sl")
    if not info then return nil end
    if info.what ~= "C" and not is_library_source(info.source) then return info end
    level = level + 1
  end
end

-- "script.lua:12: ", the caller's position
local function where()
  local info = guard.caller()
  if not info or info.currentline <= 0 then return "" end
  return info.short_src .. ":" .. info.currentline .. ": "
end

local runtime_errors = {
  "attempt to ", "bad argument #%d+ to ", "table index is ", "number has no integer representation",
  "invalid value %(at index", "string length overflow", "stack overflow",
}

local function is_runtime_error(msg)
  for _, p in ipairs(runtime_errors) do
    if msg:match(p) then return true end
  end
  return false
end

local tensor_mt = debug.getregistry()["aerun.Tensor"]

local function describe(v)
  local t = type(v)
  if t == "number" then
    return math.type(v) == "integer" and tostring(v) or string.format("%.6g", v)
  elseif t == "string" then
    return #v <= 20 and string.format("%q", v) or "a string"
  elseif t == "table" and type(rawget(v, "_type")) == "string" then
    return v._type
  elseif tensor_mt and getmetatable(v) == tensor_mt then
    local ok, shape = pcall(function() return table.concat(v:shape(), "×") end)
    return ok and ("tensor " .. (shape ~= "" and shape or "scalar")) or "tensor"
  elseif t == "nil" or t == "boolean" then
    return tostring(v)
  end
  return "a " .. t
end

-- a module class's name as a script writes it: nn.ReLU for the built-in
-- ones, the script's own name for the rest
local function class_name(c)
  local name = tostring(rawget(c, "__name"))
  local nn = package.loaded["aerun.nn"]
  if type(nn) == "table" and rawget(nn, name) == c then return "nn." .. name end
  return name
end

-- v for a message that says what was wrong with it: 3, nil, true, the
-- string "4" (quoted, so that "4" and 4 differ), the class nn.ReLU, a
-- Linear module, a tensor 2×3, a function...
function guard.value(v)
  if type(v) == "string" then return #v <= 40 and "the string " .. string.format("%q", v) or "a string" end
  if type(v) == "table" and rawget(v, "__module") == true then return "the class " .. class_name(v) end
  if type(v) == "table" and type(rawget(v, "_type")) == "string" then return "a " .. v._type .. " module" end
  local d = describe(v)
  if type(v) == "table" then return "a table" end
  return d
end

-- "<what> is the class nn.ReLU, not a module: did you mean nn.ReLU()?",
-- or "<what> is <value>, not a module": for a module expected as what
function guard.not_module(what, v)
  local hint = guard.hint(v)
  if hint then return string.format("%s is %s, not a module: %s", what, guard.value(v), hint) end
  return string.format("%s is %s, not a module", what, guard.value(v))
end

-- "did you mean nn.ReLU()?" when v is a module class, else nil
function guard.hint(v)
  if not (type(v) == "table" and rawget(v, "__module") == true) then return nil end
  local name = class_name(v)
  -- "nn.ReLU()" when the class makes a module from no arguments (tried
  -- for the built-in classes only: a script's constructor may do anything)
  local call = name .. "(...)"
  if name:sub(1, 3) == "nn." and pcall(v) then call = name .. "()" end
  return "did you mean " .. call .. "?"
end

-- skip: leading arguments not to show (the class, for a constructor)
local function arguments(skip, ...)
  local n = select("#", ...) - skip
  local parts = {}
  for i = 1, math.min(n, 6) do parts[i] = describe((select(skip + i, ...))) end
  if n > 6 then parts[#parts + 1] = "..." end
  return "(arguments: " .. (n == 0 and "none" or table.concat(parts, ", ")) .. ")"
end

-- msg without the locations inside the library in front of it (an error
-- caught and raised again inside the library gathers one each time)
function guard.strip(msg)
  if type(msg) ~= "string" then return msg end
  while true do
    local file, rest = msg:match("^([^\n:]+):%d+: (.*)$")
    if not (file and is_library_location(file)) then return msg end
    msg = rest
  end
end

-- the message a script sees for an error raised by the library
local function rewrite(name, err, skip, ...)
  if type(err) ~= "string" then return err end
  local file, line, rest = err:match("^([^\n:]+):(%d+): (.*)$")
  if file and not is_library_location(file) then return err end
  rest = guard.strip(file and rest or err)
  -- "Linear: in_features must be..." already names it
  local named = rest:match("^[%w_.:]*" .. name:match("[%w_]+$") .. "[%s:(]")
  local msg = named and rest or (name .. ": " .. rest)
  if is_runtime_error(rest) then
    -- a module class where the library wanted a module (nn.Linear:parameters())
    for i = skip + 1, select("#", ...) do
      local v = (select(i, ...))
      if guard.hint(v) then return where() .. name .. ": " .. guard.not_module("argument " .. (i - skip), v) end
    end
    msg = msg .. " " .. arguments(skip, ...)
    if file then msg = msg .. " [" .. file .. ":" .. line .. "]" end
  end
  return where() .. msg
end

-- guarded calls under way: only the outermost is a boundary, unless the
-- script's own code (a Module:forward, a callback) calls in again
local depth = 0

-- the traceback of the last Lua runtime error raised inside the library
-- (a bug there: the message a script sees names the line, and aerun prints
-- this under it; runtime/lua/aerun.c reads registry["aerun.internal_error"])
local internal_trace
local function on_error(e)
  if type(e) == "string" and is_runtime_error(e) and not e:find("stack overflow", 1, true) then
    local file = e:match("^([^\n:]+):%d+: ")
    if not file or is_library_location(file) then internal_trace = debug.traceback(e, 2) end
  end
  return e
end

local function raise(name, err, skip, ...)
  local msg = rewrite(name, err, skip, ...)
  if type(msg) == "string" and msg:match(" %[[^%]\n]+:%d+%]$") and internal_trace then
    registry["aerun.internal_error"] = { msg, internal_trace }
  end
  internal_trace = nil
  error(msg, 0)
end

-- the function each wrapper stands for (guard.unwrap)
local unwrapped = setmetatable({}, { __mode = "k" })

-- f, guarded under `name`; skip: leading arguments not shown in messages
function guard.wrap(name, f, skip)
  if raw then return f end
  skip = skip or 0
  local function handler(...)
    if depth > 0 then
      -- called by the library (or a C function it called): no boundary
      local info = getinfo(CALLER, "S")
      if not info or info.what == "C" or is_library_source(info.source) then return f(...) end
    end
    depth = depth + 1
    local r = pack(xpcall(f, on_error, ...))
    depth = depth - 1
    if r[1] then return unpack(r, 2, r.n) end
    raise(name, r[2], skip, ...)
  end
  local w = boundary and boundary(handler) or handler
  unwrapped[w] = f
  return w
end

-- the library function behind a guarded one (f itself otherwise)
function guard.unwrap(f) return unwrapped[f] or f end

-- a class: its own __index, or a named table whose __index is a function
-- (nn.Sequential, indexed by number too)
local function is_class(t)
  local index = rawget(t, "__index")
  return index == t or (type(index) == "function" and type(rawget(t, "__name")) == "string")
end

-- a class's methods, as Name:method, and calling an instance (a module's
-- __call runs its forward) as Name:forward
function guard.class(name, cls)
  if raw then return cls end
  for k, v in pairs(cls) do
    if type(k) == "string" and k:sub(1, 2) ~= "__" and type(v) == "function" and not unwrapped[v] then
      cls[k] = guard.wrap(name .. ":" .. k, v)
    end
  end
  local call = rawget(cls, "__call")
  if type(call) == "function" and not unwrapped[call] then cls.__call = guard.wrap(name .. ":forward", call) end
  return cls
end

-- opts, which must be nil (then {}) or a table of keys in known; the
-- errors name fname and, for an unknown key, the known ones.  Here because
-- every module's functions check their options the same way, and the
-- boundary positions what it raises.
function guard.options(fname, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" or rawget(opts, "__module") == true then
    local hint = guard.hint(opts)
    error(string.format("%s: options must be a table, got %s%s", fname,
      type(opts) == "table" and guard.value(opts) or type(opts), hint and " (" .. hint .. ")" or ""))
  end
  for k in pairs(opts) do
    if not known[k] then
      local names = {}
      for n in pairs(known) do names[#names + 1] = n end
      table.sort(names)
      error(string.format("%s: unknown option '%s' (known: %s)", fname, tostring(k), table.concat(names, ", ")))
    end
  end
  return opts
end

-- a module's functions (prefix.name), the classes it holds (their methods,
-- and the constructor behind calling the class) and its plain subtables
function guard.module(prefix, m)
  if raw then return m end
  local seen = {}
  local function visit(path, t)
    if seen[t] then return end
    seen[t] = true
    for k, v in pairs(t) do
      if type(k) == "string" and k:sub(1, 2) ~= "__" then
        local name = path .. "." .. k
        if type(v) == "function" then
          t[k] = guard.wrap(name, v)
        elseif type(v) == "table" and getmetatable(v) ~= tensor_mt then
          if is_class(v) then
            if not seen[v] then
              seen[v] = true
              guard.class(rawget(v, "__name") or k, v)
              local mt = getmetatable(v)
              if mt and type(rawget(mt, "__call")) == "function" then mt.__call = guard.wrap(name, mt.__call, 1) end
            end
          elseif not getmetatable(v) then
            visit(name, v)
          end
        end
      end
    end
  end
  visit(prefix, m)
  local mt = getmetatable(m)
  if mt and type(rawget(mt, "__call")) == "function" then mt.__call = guard.wrap(prefix, mt.__call, 1) end
  return m
end

return guard
