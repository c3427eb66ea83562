-- aerun.repl: how the interactive aerun (`aerun`, `aerun -i`) shows the
-- values of what is typed.  repr(v) is one value's text: a tensor as
-- tostring gives it (PyTorch's layout) and, when that is summarised, its
-- size below as Torch7 printed it; a table one level deep,
-- {1, 2, a = 1, b = {...}}; anything with a __tostring (modules,
-- optimizers, data sets) as its own repr; the rest as print shows it.
-- print(...) writes the values' reprs separated by tabs, as print does.

--- How the interactive aerun shows values: `ae.repl`.
-- @module aerun.repl

--- One value's text: a tensor as tostring gives it (with its size when summarised), a table one level deep, others by __tostring.
-- @param v any value
-- @return a string
-- @usage assert(ae.repl.repr({ 1, 2, a = 1 }) == "{1, 2, a = 1}")
-- @function repr

--- Writes the values' reprs separated by tabs, as print does.
-- @param ... values
-- @usage ae.repl.print(ae.ones(2), { 1 })
-- @function print

local repl = {}

-- the most entries of a table shown, and a summarised tensor's size (torch's threshold)
local MAX_ITEMS = 30
local SUMMARISED = 1000

local tensor_mt = debug.getregistry()["aerun.Tensor"]

local function is_tensor(v) return tensor_mt ~= nil and getmetatable(v) == tensor_mt end

local function has_tostring(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__tostring") ~= nil
end

local function size_of(t)
  local shape = t:shape()
  return #shape == 0 and "0-D" or table.concat(shape, "×")
end

-- a value inside a table: one short line
local function short(v)
  if type(v) == "string" then return (("%q"):format(v):gsub("\\\n", "\\n")) end
  if is_tensor(v) then
    local s = tostring(v)
    if #s <= 60 and not s:find("\n", 1, true) then return s end
    return "tensor(size=" .. size_of(v) .. ")"
  end
  if type(v) == "table" and not has_tostring(v) then return next(v) == nil and "{}" or "{...}" end
  local s = tostring(v)
  local first = s:match("^[^\n]*")
  if first ~= s then return first:sub(-1) == "(" and first .. "...)" or first .. " ..." end
  return s
end

local function key_text(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return k end
  return "[" .. short(k) .. "]"
end

-- keys after the list part: strings in order, then numbers, then the rest
local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    local rank = { string = 1, number = 2 }
    return (rank[ta] or 3) < (rank[tb] or 3) or ((rank[ta] or 3) == (rank[tb] or 3) and ta < tb)
  end
  if ta == "string" or ta == "number" then return a < b end
  return tostring(a) < tostring(b)
end

local function table_text(t)
  local parts, n = {}, #t
  for i = 1, n do
    if #parts == MAX_ITEMS then break end
    parts[#parts + 1] = short(t[i])
  end
  local keys = {}
  for k in pairs(t) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, key_order)
  for _, k in ipairs(keys) do
    if #parts == MAX_ITEMS then break end
    parts[#parts + 1] = key_text(k) .. " = " .. short(t[k])
  end
  local total = n + #keys
  if total > #parts then parts[#parts + 1] = ("... (%d more)"):format(total - #parts) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function repl.repr(v)
  if is_tensor(v) then
    local s = tostring(v)
    if v:numel() > SUMMARISED then s = s .. "\n[tensor of size " .. size_of(v) .. "]" end
    return s
  end
  if type(v) == "table" and not has_tostring(v) then return table_text(v) end
  return tostring(v)
end

function repl.print(...)
  local n = select("#", ...)
  local parts = table.pack(...)
  for i = 1, n do parts[i] = repl.repr(parts[i]) end
  io.write(table.concat(parts, "\t", 1, n), "\n")
  io.flush()
end

return require("aerun.guard").module("ae.repl", repl)
