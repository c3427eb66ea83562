-- aerun.config: an experiment's settings, from defaults written in the script
-- and --key=value words on the command line.
--
--     local cfg = ae.config{epochs = 10, lambda = 1e-3, name = "vae", verbose = false}
--     -- aerun script.lua --epochs=3 --lambda=1e-4 --no-verbose
--
-- The type of each default decides how its value is read:
--   integer   --epochs=3 (1e3 or 0x10 too, when exact); --epochs=2.5 is an error
--   float     --lambda=1e-3, 0x10, 2 (always stored as a float)
--   boolean   --flag, --flag=true|false|yes|no|on|off|1|0, --no-flag
--   string    everything after the first "=" (may be empty)
-- "-" and "_" in a key are the same: --kl-warmup sets kl_warmup.  A key given
-- twice: the last wins.  Unknown keys (with the closest known one suggested),
-- wrong types and stray positional words are errors raised at the caller's
-- line.  --help prints the keys with their types and defaults and exits.
-- Words after a bare "--" are positional.  Positional words are accepted only
-- when the defaults have a table field `args`: they are appended to a copy of
-- it.  Other table or function defaults are copied but cannot be set from
-- the command line.
--
-- Which keys were set explicitly is returned as a second value, a set
-- {key = true} with the keys spelled as in the defaults; config.explicit(cfg)
-- returns the same set later for any table made here.  It is kept in a weak
-- table, so cfg stays a plain table that serialises as it is (checkpoints
-- store it as JSON).
--
--   config(defaults [, argv]) -> cfg, explicit   (the module table is callable)
--   config.parse(defaults [, argv]) -> cfg, explicit
--   config.explicit(cfg) -> explicit, or nil for a table not made here
--   config.help(defaults [, program]) -> the text --help prints
--
-- argv is read from 1 to #argv and defaults to the global `arg`.  A global
-- `arg` without arg[-1] means no script was run (lua -e ...; lua.c puts the
-- interpreter at a negative index whenever there is a script), so its
-- words are the interpreter's, not settings.

--- An experiment's settings from defaults and command-line words.
-- `ae.config{defaults}` reads `--key=value` words (the module is callable:
-- `ae.config(defaults [, argv])` is `ae.config.parse`).  The type of each
-- default decides how a value is read; `--kl-warmup` and `--kl_warmup` are
-- the same key; unknown keys
-- (with the closest known one), wrong types and stray words are errors at
-- the caller's line; `--help` prints the keys and exits.
-- @module aerun.config

--- cfg from defaults and words (what calling `ae.config` does;
-- `local cfg = ae.config{epochs = 5, lr = 1e-3}` reads the script's `arg`).
-- @param defaults a table key → default (integer, float, boolean, string)
-- @param[opt] argv the words (default the global `arg`)
-- @return cfg
-- @return the set of keys given explicitly
-- @raise on an unknown key, a value of the wrong type (`--epochs=2.5`), a stray word
-- @usage local cfg, given = ae.config.parse({ verbose = false, n = 1 }, { "--verbose" }); assert(cfg.verbose and given.verbose and not given.n)
-- @function parse

--- The keys set explicitly for a cfg made here, or nil.
-- @param cfg a table
-- @return a set, or nil
-- @usage local cfg = ae.config({ n = 1 }, { "--n=3" }); assert(ae.config.explicit(cfg).n)
-- @function explicit

--- The help text: every key with its type and default.
-- @param defaults
-- @param[opt] program the script's name
-- @return a string
-- @usage assert(ae.config.help({ epochs = 10 }):find("epochs"))
-- @function help

local M = {}

local explicit_of = setmetatable({}, {__mode = "k"})

local function normalize(name)
  return (name:gsub("-", "_"))
end

local function kind(v)
  local t = type(v)
  if t == "number" then
    return math.type(v) == "integer" and "integer" or "number"
  end
  if t == "boolean" or t == "string" then return t end
  return nil  -- not settable from the command line
end

local function is_positional_sink(key, v)
  return key == "args" and type(v) == "table"
end

-- the settable keys, sorted, and a map from normalized name to key
local function index_defaults(defaults)
  if type(defaults) ~= "table" then
    return nil, "ae.config expects a table of defaults, got " .. type(defaults)
  end
  local keys, index = {}, {}
  for k, v in pairs(defaults) do
    if type(k) ~= "string" then
      return nil, "ae.config: default keys must be strings, got " .. type(k)
        .. " key " .. tostring(k)
    end
    local n = normalize(k)
    if index[n] then
      local a, b = index[n], k
      if a > b then a, b = b, a end
      return nil, string.format("ae.config: defaults %s and %s name the same option", a, b)
    end
    index[n] = k
    if kind(v) then keys[#keys + 1] = k end
  end
  table.sort(keys)
  return keys, index
end

local function edit_distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = {[0] = i}
    local ca = a:byte(i)
    for j = 1, #b do
      local cost = ca == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

-- the known key closest to name, if it is close enough to be a typo
local function closest(name, keys)
  local n = normalize(name)
  local best, best_d
  for _, k in ipairs(keys) do
    local d = edit_distance(n, normalize(k))
    if not best_d or d < best_d then best, best_d = k, d end
  end
  if best and best_d <= math.max(1, #n // 3) then return best end
  return nil
end

local function known_list(keys)
  if #keys == 0 then return "this script takes no options" end
  local names = {}
  for i, k in ipairs(keys) do names[i] = "--" .. k end
  return "known options: " .. table.concat(names, ", ")
end

local function unknown(name, keys)
  local msg = "unknown option --" .. name
  local near = closest(name, keys)
  if near then msg = msg .. " (did you mean --" .. near .. "?)" end
  return msg .. "; " .. known_list(keys)
end

local truth = {["true"] = true, yes = true, on = true, ["1"] = true,
               ["false"] = false, no = false, off = false, ["0"] = false}

local placeholder = {integer = "N", number = "X", string = "TEXT"}

-- value (a string, or nil for a bare --name) converted to the default's type
local function convert(name, value, default)
  local k = kind(default)
  if k == "boolean" then
    if value == nil then return true end
    local b = truth[value:lower()]
    if b == nil then
      return nil, string.format("--%s expects a boolean (true/false, yes/no, on/off, 1/0), got %q",
                                name, value)
    end
    return b
  end
  local article = k == "integer" and "an " or "a "
  if value == nil then
    return nil, string.format("--%s expects %s%s: write --%s=%s", name, article, k,
                              name, placeholder[k])
  end
  if k == "string" then return value end
  local v = tonumber(value)
  if k == "integer" then v = v and math.tointeger(v) end
  if v == nil then
    return nil, string.format("--%s expects %s%s, got %q", name, article, k, value)
  end
  if k == "number" then v = v + 0.0 end
  return v
end

local function default_argv()
  local a = rawget(_G, "arg")
  if type(a) ~= "table" or a[-1] == nil then return {} end
  return a
end

-- the word "--name" or "--name=value" applied to cfg; nil, message on error
local function apply(cfg, explicit, defaults, keys, index, word)
  local name, value = word:match("^%-%-([^=]*)=(.*)$")
  if not name then name = word:sub(3) end
  local n = normalize(name)
  local key = index[n]
  if key then
    local default = defaults[key]
    if not kind(default) then
      return nil, string.format("--%s cannot be set from the command line (its default is a %s)",
                                name, type(default))
    end
    local v, err = convert(name, value, default)
    if v == nil then return nil, err end
    cfg[key], explicit[key] = v, true
    return true
  end
  local flag = n:match("^no_(.+)$")
  key = flag and index[flag]
  if key and kind(defaults[key]) == "boolean" then
    if value ~= nil then
      return nil, string.format("--%s takes no value (it sets --%s to false)", name, key)
    end
    cfg[key], explicit[key] = false, true
    return true
  end
  if key and kind(defaults[key]) then
    return nil, string.format("--%s is not an option: --%s is %s, not a boolean flag",
                              name, key, kind(defaults[key]) == "integer" and "an integer"
                              or "a " .. kind(defaults[key]))
  end
  return nil, unknown(name, keys)
end

local function build(defaults, argv)
  local keys, index = index_defaults(defaults)
  if not keys then return nil, index end
  if argv == nil then argv = default_argv() end
  if type(argv) ~= "table" then
    return nil, "ae.config: argv must be a table of strings, got " .. type(argv)
  end
  local cfg, explicit = {}, {}
  for k, v in pairs(defaults) do
    cfg[k] = is_positional_sink(k, v) and table.move(v, 1, #v, 1, {}) or v
  end
  local positional, rest = {}, false
  for i = 1, #argv do
    local word = tostring(argv[i])
    if rest or word:sub(1, 2) ~= "--" then
      positional[#positional + 1] = word
    elseif word == "--" then
      rest = true
    elseif word == "--help" and index.help == nil then
      local program = type(argv[0]) == "string" and argv[0] or nil
      io.stdout:write(M.help(defaults, program))
      io.stdout:flush()
      os.exit(0, true)
    else
      local ok, err = apply(cfg, explicit, defaults, keys, index, word)
      if not ok then return nil, err end
    end
  end
  if #positional > 0 then
    local sink = cfg.args
    if not is_positional_sink("args", sink) then
      local quoted = {}
      for i, w in ipairs(positional) do quoted[i] = string.format("%q", w) end
      return nil, string.format("unexpected argument%s %s: options are written --key=value; %s",
                                #positional > 1 and "s" or "", table.concat(quoted, ", "),
                                known_list(keys))
    end
    table.move(positional, 1, #positional, #sink + 1, sink)
    explicit.args = true
  end
  explicit_of[cfg] = explicit
  return cfg, explicit
end

function M.parse(defaults, argv)
  local cfg, explicit = build(defaults, argv)
  if not cfg then error(explicit) end
  return cfg, explicit
end

function M.explicit(cfg)
  return explicit_of[cfg]
end

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

function M.help(defaults, program)
  local keys, index = index_defaults(defaults)
  if not keys then error(index) end
  local lines = {string.format("usage: %s [--key=value ...]", program or "script"), ""}
  if #keys == 0 then lines[#lines + 1] = "This script takes no options." end
  local rows, width = {}, 0
  for _, k in ipairs(keys) do
    local v = defaults[k]
    local left = kind(v) == "boolean" and "--[no-]" .. k
      or string.format("--%s=%s", k, placeholder[kind(v)])
    rows[#rows + 1] = {left, string.format("%-7s default %s", kind(v), show(v))}
    width = math.max(width, #left)
  end
  for _, r in ipairs(rows) do
    lines[#lines + 1] = string.format("  %-" .. width .. "s  %s", r[1], r[2])
  end
  if is_positional_sink("args", defaults.args) then
    lines[#lines + 1] = "  other words are collected in args"
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "\"-\" and \"_\" in names are the same; the last of a repeated key wins."
  return table.concat(lines, "\n") .. "\n"
end

return require("aerun.guard").module("ae.config", setmetatable(M, {
  __call = function(_, defaults, argv)
    local cfg, explicit = build(defaults, argv)
    if not cfg then error(explicit) end
    return cfg, explicit
  end,
}))
