-- fuzz/drivers/tensor.lua: tensors from Lua tables (ae.tensor, and shape
-- tables for ae.zeros/ones/full; runtime/lua/tensor.c).
-- An input is a little program that builds one Lua value; each byte is an
-- instruction (low 4 bits) whose operands follow:
--   0 open a table   1 close it (it joins its parent)   2 small integer
--   3 float32   4 float64 (NaN, inf, 1e308...)   5 string   6 boolean
--   7 NaN   8 ±inf   9 int64   10 a hole (the next index skipped)
--   11 a string key   12 repeat the last element n times (the same table)
--   13 the open table inside itself (a cycle)   14 a tensor   15 a function
-- A value holds at most 2^14 numbers and tables all told, counting
-- repeats (a bigger one makes a slower input, not a new one).  ae.tensor
-- must return a tensor whose shape and values are the table's (numbers as
-- float32) or fail with a message naming tensor; the same value as a shape
-- must give a tensor of that shape or a message.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local ae = require "aerun"

local LIMIT = 1 << 14

-- the value a program builds
local function decode(s)
  local pos = 1
  local function byte()
    local b = s:byte(pos) or 0
    pos = pos + 1
    return b
  end
  local function bytes(n)
    local r = s:sub(pos, pos + n - 1)
    pos = pos + n
    return r .. string.rep("\0", n - #r)
  end
  local stack = { { t = {}, weight = 0 } }
  local total = 0
  local function top() return stack[#stack] end
  local function add(v, weight)
    local f = top()
    if total + weight > LIMIT then return end
    total = total + weight
    f.t[#f.t + 1 + (f.hole and 1 or 0)] = v
    f.hole = false
    f.last, f.last_weight = v, weight
    f.weight = f.weight + weight
  end
  while pos <= #s do
    local op = byte() % 16
    if op == 0 then
      if #stack < 12 then stack[#stack + 1] = { t = {}, weight = 0 } end
    elseif op == 1 then
      if #stack > 1 then
        local f = table.remove(stack)
        total = total - f.weight
        add(f.t, f.weight + 1)
      end
    elseif op == 2 then add(byte() - 128, 1)
    elseif op == 3 then add((string.unpack("<f", bytes(4))), 1)
    elseif op == 4 then add((string.unpack("<d", bytes(8))), 1)
    elseif op == 5 then add(bytes(byte() % 8), 1)
    elseif op == 6 then add(byte() % 2 == 1, 1)
    elseif op == 7 then add(0 / 0, 1)
    elseif op == 8 then add(byte() % 2 == 1 and math.huge or -math.huge, 1)
    elseif op == 9 then add((string.unpack("<i8", bytes(8))), 1)
    elseif op == 10 then top().hole = true
    elseif op == 11 then top().t[bytes(1)] = byte()
    elseif op == 12 then
      local f = top()
      for _ = 1, byte() % 16 do
        if f.last == nil then break end
        add(f.last, f.last_weight)
      end
    elseif op == 13 then local f = top() f.t[#f.t + 1] = f.t
    elseif op == 14 then add(ae.zeros(byte() % 3), 1)
    elseif op == 15 then add(print, 1)
    end
  end
  while #stack > 1 do
    local f = table.remove(stack)
    total = total - f.weight
    add(f.t, f.weight + 1)
  end
  local root = stack[1].t
  -- a program that made one value makes that value, not a list of it
  if #root == 1 and next(root, 1) == nil then return root[1] end
  return root
end

-- compares a tensor's nested values with the table it came from
local function check_values(t, v, d, shape, path)
  if d > #shape then
    assert(type(v) == "number", path .. ": a tensor was made from a " .. type(v))
    local want, got = common.f32(v), t
    assert(got == want or (got ~= got and want ~= want), string.format("%s: %s became %s", path, v, got))
    return
  end
  assert(type(v) == "table" and #v == shape[d], path .. ": length differs from the shape")
  for i = 1, shape[d] do check_values(t[i], v[i], d + 1, shape, path .. "[" .. i .. "]") end
end

return function()
  return function(data)
    local v = decode(data)
    local ok, t = pcall(ae.tensor, v)
    if ok then
      local shape = t:shape()
      local n = 1
      for _, s in ipairs(shape) do n = n * s end
      assert(n == t:numel(), "tensor: numel differs from the shape")
      if type(v) == "table" then check_values(t:totable(), v, 1, shape, "value") end
    else
      common.check_error(t, "ae.tensor")
    end
    -- the same value as a shape, unless it is a valid one of more than
    -- 2^20 elements (a real allocation, which is no test of the checks)
    local p, exact = 1, type(v) == "table"
    for _, s in ipairs(type(v) == "table" and v or {}) do
      s = tonumber(s) or s   -- sizes may be numeric strings, as Lua converts them
      if math.type(s) == "integer" or (type(s) == "number" and s == math.floor(s)) then
        p = p * math.abs(s)
        exact = exact and s >= 0
      else
        exact = false
      end
    end
    if type(v) == "table" and not (exact and p > (1 << 20) and p < 2 ^ 40) then
      for _, make in ipairs { ae.zeros, ae.ones, ae.rand } do
        local made, z = pcall(make, v)
        if made then
          for i, s in ipairs(z:shape()) do assert(s == tonumber(v[i]), "a shape table was not followed") end
        else
          common.check_error(z, "ae.zeros")
        end
      end
      local made, z = pcall(ae.full, v, 0.5)
      if not made then common.check_error(z, "ae.full") end
    end
  end
end
