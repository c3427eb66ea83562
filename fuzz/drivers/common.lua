-- fuzz/drivers/common.lua: what the drivers share (loaded with dofile).
local common = {}

function common.write(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
end

-- Lua runtime errors mean an argument or a file's content reached code
-- that did not check it; they follow the "file:line: " prefixes directly
local internal = {
  "attempt to index a ", "attempt to call a ", "attempt to perform arithmetic on ",
  "attempt to perform bitwise operation on ", "attempt to compare %a+ with %a+",
  "attempt to concatenate a ", "attempt to get length of a ", "stack overflow",
  "table index is nil", "table index is NaN", "number has no integer representation",
  "bad argument #%d+ to '[%w_.]+' %(", "invalid value %(at index %d+%) in table for 'concat'",
  "string length overflow",
}

local known = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "../known_findings.lua")
common.known_hits = {}

local function is_known(err)
  for _, k in ipairs(known) do
    if err:find(k.match, 1, true) then
      if not common.known_hits[k.match] then
        io.stderr:write("known finding (fuzz/known_findings.lua, fix in ", k.fix, "): ", err, "\n")
      end
      common.known_hits[k.match] = (common.known_hits[k.match] or 0) + 1
      return true
    end
  end
  return false
end

-- the message after its position prefixes ("lua/aerun/nn.lua:88: ") and
-- the prefixes our own errors put in front ("x.h5: /model: ")
local function bare(err)
  local m = err
  repeat
    local rest = m:match("^[^\n:]+:%d+: (.*)$") or m:match("^[^\n]-: (.*)$")
    local changed = rest ~= nil
    if changed then m = rest end
    for _, p in ipairs(internal) do
      if m:find("^" .. p) then return m, true end
    end
  until not changed
  return m, false
end

-- err was raised for input; it must be a readable message: a string, not
-- a Lua runtime error, and holding each of the given words (the file's
-- name, the function's)
function common.check_error(err, input_name, ...)
  if type(err) ~= "string" then
    error(string.format("%s: error object is a %s, not a message", input_name, type(err)), 0)
  end
  local _, runtime = bare(err)
  -- luaL_argerror from our own C functions names the function too; only
  -- those raised by the standard library inside lua/aerun count
  if runtime and err:match("bad argument #%d+ to '") and not err:match("lua/aerun/") then runtime = false end
  if runtime and not is_known(err) then
    error(string.format("%s: Lua runtime error instead of a message: %s", input_name, err), 0)
  end
  for _, word in ipairs { ... } do
    if not err:find(word, 1, true) then
      error(string.format("%s: the error does not mention %q: %s", input_name, word, err), 0)
    end
  end
end

-- a float as float32 stores it
function common.f32(x) return (string.unpack("<f", string.pack("<f", x))) end

function common.here(level)
  local src = debug.getinfo((level or 1) + 1, "S").source
  return src:match("^@(.*/)") or "./"
end

return common
