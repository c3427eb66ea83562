-- fuzz/drivers/checkpoint.lua: the checkpoint loader (lua/aerun/checkpoint.lua
-- over runtime/io/h5*.c and runtime/lua/h5.c) on damaged and hostile files.
--
-- An input is one of:
--   * "#aerun-fuzz-h5\n" and a description of a file, which the driver
--     writes with ae.h5 first: one object per line,
--       a <obj> <key> <text>      string attribute (the rest of the line)
--       i <obj> <key> <integer>   f <obj> <key> <number>
--       t <path> <d1>x<d2>... <v> float32 dataset filled with v (≤ 4096 values)
--       b <path> <text>           uint8 dataset   n <path> <v1>,<v2>,...  float64
--       g <path>                  group
--     so that mutations reach every check behind the HDF5 layer: format
--     and version, the architecture JSON that checkpoint.model rebuilds a
--     model from, optimizer hyperparameters, names, shapes and dtypes of
--     datasets, RNG state, metrics, partial-epoch fields;
--   * anything else: damage done to a valid checkpoint, the first byte
--     choosing which: truncated at a point the next bytes give, its first
--     bytes (the signature) overwritten by the input, or the input itself
--     as a file that is not HDF5.
-- Arbitrary corruption inside HDF5's own metadata is fuzz/drivers/
-- hdf5_raw.lua's business: it finds bugs of libhdf5, not of aerun.
-- Every file is given to checkpoint.info, checkpoint.load (into a fixed
-- model and Adam) and checkpoint.model; each must succeed or fail with a
-- message (see common.check_error), and a model that loaded must run.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local ae = require "aerun"

local HEADER = "#aerun-fuzz-h5\n"

return function(scratch)
  local path = scratch .. "/input.h5"
  local nn = ae.nn
  ae.manual_seed(1)
  local model = nn.Sequential { nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 4) }
  local opt = ae.optim.Adam(model:parameters(), { lr = 1e-3 })
  local x = ae.rand(2, 4)

  local function number(s) return tonumber(s) end

  local function build(text)
    local f = ae.h5.open(path, "w")
    for line in text:gmatch("[^\n]+") do
      local op, a, rest = line:match("^(%a) (%S+) ?(.*)$")
      if op == "g" then
        f:create_group(a)
      elseif op == "a" or op == "i" or op == "f" then
        local key, value = rest:match("^(%S+) ?(.*)$")
        if key then
          if op == "a" then f:set_attr(a, key, value)
          else
            local v = number(value)
            if op == "i" then v = v and math.tointeger(v) end
            if v then f:set_attr(a, key, v) end
          end
        end
      elseif op == "t" then
        local dims, v = rest:match("^(%S*) ?(%S*)$")
        local shape, n = {}, 1
        for d in (dims or ""):gmatch("%d+") do
          shape[#shape + 1] = tonumber(d)
          n = n * tonumber(d)
        end
        if #shape <= 8 and n <= 4096 then f:write(a, ae.full(shape, number(v) or 0.5)) end
      elseif op == "b" then
        f:write_bytes(a, rest)
      elseif op == "n" then
        local list = {}
        for v in rest:gmatch("[^,]+") do list[#list + 1] = number(v) or 0 / 0 end
        f:write_numbers(a, list)
      end
    end
    f:close()
  end

  -- the undamaged file the damage is done to
  ae.checkpoint.save(path, { model = model, optimizer = opt, epoch = 1, step = 1, config = { lr = 1e-3 } })
  local f = assert(io.open(path, "rb"))
  local base = f:read("a")
  f:close()
  local SIGNATURE = "\x89HDF\r\n\x1a\n"

  local function damage(data)
    local op, arg = (data:byte(1) or 0) % 3, data:sub(2)
    if op == 0 then
      local at = ((arg:byte(1) or 0) * 256 + (arg:byte(2) or 0)) % #base
      return base:sub(1, at)
    elseif op == 1 then
      return arg .. base:sub(#arg + 1)
    end
    if arg:sub(1, 8) == SIGNATURE then arg = "\0" .. arg end
    return arg
  end

  local function attempt(name, fn, ...)
    local ok, a, b = pcall(fn, ...)
    if not ok then common.check_error(a, name) end
    return ok, a, b
  end

  return function(data)
    os.remove(path)
    if data:sub(1, #HEADER) == HEADER then
      -- a description the writer refuses (a bad object name) is no finding
      local ok, err = pcall(build, data:sub(#HEADER + 1))
      if not ok then
        common.check_error(err, "building the file")
        return
      end
    else
      common.write(path, damage(data))
    end
    attempt("checkpoint.info", ae.checkpoint.info, path)
    if attempt("checkpoint.load", ae.checkpoint.load, path, { model = model, optimizer = opt }) then
      assert(model(x):numel() == 8, "the loaded model does not run")
    end
    local ok, rebuilt = attempt("checkpoint.model", ae.checkpoint.model, path)
    if ok then
      -- any input shape may be wrong for it; a clean error is fine
      attempt("forward of the rebuilt model", function() return rebuilt(x) end)
    end
  end
end
