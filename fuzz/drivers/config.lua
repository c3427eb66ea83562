-- fuzz/drivers/config.lua: the command-line parser (lua/aerun/config.lua,
-- ae.config and experiment.config) and the JSON reader (lua/aerun/json.lua)
-- that config files and checkpoints go through.
-- The first byte chooses: 0-1 mod 4, the rest is argv (words separated by
-- NUL bytes) parsed against one of three sets of defaults; 2 mod 4, the
-- same through experiment.config; 3 mod 4, the rest is JSON text.  A parse
-- must either give a table whose values have the defaults' types, or fail
-- with a message; decoded JSON must encode and decode to the same value.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local ae = require "aerun"
local config = require "aerun.config"
local json = require "aerun.json"

local defaults = {
  { epochs = 10, lr = 1e-3, name = "vae", verbose = false, beta = 1.0, kl_warmup = 0, seed = 42 },
  { args = {}, n = 3, mode = "a", flag = true, ["with-dash"] = 1 },
  {},
}

local function kind(v)
  if type(v) == "number" then return math.type(v) end
  return type(v)
end

local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b or (a ~= a and b ~= b) end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

-- --help prints the keys and ends the process; here it ends the call
local EXIT = setmetatable({}, { __tostring = function() return "os.exit" end })
os.exit = function() error(EXIT) end

return function()
  return function(data)
    local mode = (data:byte(1) or 0) % 4
    local rest = data:sub(2)
    if mode == 3 then
      local ok, v = pcall(json.decode, rest)
      if not ok then return common.check_error(v, "json.decode") end
      local encoded, text = pcall(json.encode, v)
      if not encoded then return common.check_error(text, "json.encode") end
      assert(same(json.decode(text), v), "json: decode(encode(v)) differs from v")
      return
    end
    local words = {}
    for w in (rest .. "\0"):gmatch("([^%z]*)%z") do words[#words + 1] = w end
    local d = defaults[(data:byte(2) or 0) % #defaults + 1]
    local parse = mode == 2 and ae.experiment.config or config.parse
    local ok, cfg = pcall(parse, d, words)
    if not ok then
      if cfg == EXIT then return end
      return common.check_error(cfg, "config.parse")
    end
    for k, v in pairs(d) do
      if type(v) ~= "table" then
        assert(kind(cfg[k]) == kind(v) or (math.type(v) == "float" and math.type(cfg[k]) == "float"),
          string.format("config: %s became a %s, its default is a %s", k, kind(cfg[k]), kind(v)))
      end
    end
    assert(type(config.help(d)) == "string")
  end
end
