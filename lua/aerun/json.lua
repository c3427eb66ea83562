-- aerun.json: JSON that round-trips what checkpoints and result files hold.
--
-- Not lua-cjson, although it is a dependency: Debian's lua-cjson 2.1 prints
-- numbers with at most 14 digits (a learning rate set by a schedule would
-- not read back exactly, and a resumed run would drift from an
-- uninterrupted one), reads 3 back as 3.0 (so an integer argument such as
-- nn.Reshape's sizes fails its check), and cannot write an empty list as [].
-- Here floats are written with the fewest digits (15 to 17) that read back
-- exactly and keep a ".0", integers stay integers, keys are sorted so equal
-- tables give equal text, and the reader accepts any JSON (null reads as nil).

--- JSON that round-trips what checkpoints and result files hold: `ae.json`.
-- Floats keep the fewest digits that read back exactly, integers stay
-- integers, keys are sorted; null reads as nil.
-- @module aerun.json

--- A value as JSON text.
-- @param v nil, a boolean, number, string, or a table of these (a list or string keys)
-- @param[opt] where a name for the error
-- @return a string
-- @raise on functions, tensors, cycles, NaN or mixed keys (naming the path)
-- @usage assert(ae.json.encode({ b = 1, a = { 0.1 } }) == '{"a":[0.1],"b":1}')
-- @function encode

--- A value from JSON text.
-- @param s a string
-- @return the value
-- @raise on malformed JSON, naming the position
-- @usage assert(ae.json.decode('{"x": [1, 2.5]}').x[2] == 2.5)
-- @function decode

require "aerun.core"   -- registers the tensor metatable looked up below
local tensor_mt = assert(debug.getregistry()["aerun.Tensor"])
local function is_tensor(v) return getmetatable(v) == tensor_mt end

-- JSON: floats written so they read back exactly and stay floats (1.0),
-- integers as integers, keys sorted so equal tables give equal text

local json = {}

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function encode_string(s, where)
  if not utf8.len(s) then error(where .. " is not valid UTF-8", 0) end
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function encode_number(v, where)
  if math.type(v) == "integer" then return string.format("%d", v) end
  if v ~= v or v == math.huge or v == -math.huge then
    error(where .. " is " .. (v ~= v and "NaN" or tostring(v)) .. ", which JSON cannot hold", 0)
  end
  local s
  for digits = 15, 17 do
    s = string.format("%." .. digits .. "g", v)
    if tonumber(s) == v then break end
  end
  if not s:find("[.eEn]") then s = s .. ".0" end
  return s
end

-- empty tables are lists, except at the root and under the keys in
-- `objects` (an architecture's "config"), which are objects
local function encode(v, where, objects, key, depth)
  local t = type(v)
  if t == "string" then return encode_string(v, where)
  elseif t == "number" then return encode_number(v, where)
  elseif t == "boolean" then return tostring(v)
  elseif t ~= "table" or is_tensor(v) then
    error(where .. " is a " .. (is_tensor(v) and "tensor" or t) .. "; a checkpoint stores only data "
      .. "(strings, numbers, booleans and tables of them)", 0)
  end
  if depth > 64 then error(where .. " is nested too deeply (a cycle?)", 0) end
  local n, count = #v, 0
  for _ in pairs(v) do count = count + 1 end
  if count == 0 then return (depth == 0 or objects[key]) and "{}" or "[]" end
  local parts = {}
  if count == n then
    for i = 1, n do parts[i] = encode(v[i], where .. "[" .. i .. "]", objects, i, depth + 1) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  local keys = {}
  for k in pairs(v) do
    if type(k) ~= "string" and type(k) ~= "number" then
      error(where .. " has a " .. type(k) .. " key; JSON keys are strings", 0)
    end
    keys[#keys + 1] = k
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for i, k in ipairs(keys) do
    local name = tostring(k)
    parts[i] = encode_string(name, where) .. ":" .. encode(v[k], where .. "." .. name, objects, k, depth + 1)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function json.encode(v, where, objects)
  return encode(v, where or "value", objects or {}, nil, 0)
end

-- a reader for the JSON above and any other JSON; null reads as nil
local function decode_error(s, i, what)
  error(string.format("invalid JSON at byte %d: %s", i, what), 0)
end

local function skip(s, i) return s:find("[^ \t\r\n]", i) or #s + 1 end

local decode_value

local function decode_string(s, i)
  local out, j = {}, i + 1
  while true do
    local k = s:find('["\\]', j)
    if not k then decode_error(s, i, "unterminated string") end
    out[#out + 1] = s:sub(j, k - 1)
    if s:sub(k, k) == '"' then return table.concat(out), k + 1 end
    local c = s:sub(k + 1, k + 1)
    local simple = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" }
    if simple[c] then
      out[#out + 1] = simple[c]
      j = k + 2
    elseif c == "u" then
      local hex = s:sub(k + 2, k + 5)
      local code = hex:match("^%x%x%x%x$") and tonumber(hex, 16)
      if not code then decode_error(s, k, "bad \\u escape") end
      j = k + 6
      if code >= 0xD800 and code < 0xDC00 and s:sub(j, j + 1) == "\\u" then
        local low = tonumber(s:sub(j + 2, j + 5), 16)
        if low and low >= 0xDC00 and low < 0xE000 then
          code = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00)
          j = j + 6
        end
      end
      out[#out + 1] = utf8.char(code)
    else
      decode_error(s, k, "bad escape \\" .. c)
    end
  end
end

local literals = { ["true"] = true, ["false"] = false }

function decode_value(s, i, depth)
  if depth > 200 then decode_error(s, i, "nested too deeply") end
  i = skip(s, i)
  local c = s:sub(i, i)
  if c == "{" then
    local t = {}
    i = skip(s, i + 1)
    if s:sub(i, i) == "}" then return t, i + 1 end
    while true do
      if s:sub(i, i) ~= '"' then decode_error(s, i, "expected a key") end
      local k
      k, i = decode_string(s, i)
      i = skip(s, i)
      if s:sub(i, i) ~= ":" then decode_error(s, i, "expected ':'") end
      t[k], i = decode_value(s, i + 1, depth + 1)
      i = skip(s, i)
      local d = s:sub(i, i)
      if d == "}" then return t, i + 1 end
      if d ~= "," then decode_error(s, i, "expected ',' or '}'") end
      i = skip(s, i + 1)
    end
  elseif c == "[" then
    local t, n = {}, 0
    i = skip(s, i + 1)
    if s:sub(i, i) == "]" then return t, i + 1 end
    while true do
      n = n + 1
      t[n], i = decode_value(s, i, depth + 1)
      i = skip(s, i)
      local d = s:sub(i, i)
      if d == "]" then return t, i + 1 end
      if d ~= "," then decode_error(s, i, "expected ',' or ']'") end
      i = i + 1
    end
  elseif c == '"' then
    return decode_string(s, i)
  end
  local word = s:match("^[%w%.%+%-]+", i)
  if not word then decode_error(s, i, "unexpected " .. (c == "" and "end" or "'" .. c .. "'")) end
  if literals[word] ~= nil then return literals[word], i + #word end
  if word == "null" then return nil, i + #word end
  -- tonumber keeps "3" an integer and "3.0" a float, as they were written
  local v = word:match("^-?%d+%.?%d*[eE]?[%+%-]?%d*$") and tonumber(word)
  if not v then decode_error(s, i, "unexpected '" .. word .. "'") end
  return v, i + #word
end

function json.decode(s)
  local v, i = decode_value(s, 1, 0)
  i = skip(s, i)
  if i <= #s then decode_error(s, i, "trailing characters") end
  return v
end

return require("aerun.guard").module("ae.json", json)
