-- aerun.h5: HDF5 files from Lua (ae.h5), the layer checkpoints are built on
-- and a way to read or write any HDF5 file a script needs.
--
--   local f <close> = ae.h5.open("out.h5", "w")   -- "r", "w" (truncate), "a"
--   f:write("params/encoder/0/weight", t)         -- float32, parents created
--   local t = f:read("x")                         -- any int/float dataset -> tensor
--   f:write_numbers("train/metrics/loss", {...})  -- float64 1-D; f:read_numbers
--   f:write_bytes("train/rng_state", s)           -- uint8 1-D; f:read_bytes
--   f:set_attr("/", "format", "aerun.checkpoint") -- strings, integers, floats, booleans
--   f:attrs("/"), f:attr("/", "format")
--   f:list("params"), f:walk("params"), f:exists(name), f:kind(name), f:shape(name)
--   f:close()
--
-- Names are paths inside the file; "x" and "/x" are the same.  Errors name
-- the file and the object ("out.h5: /x: not found").  A writable file is
-- built in memory and replaces its target in one step when closed (written
-- beside it, fsynced, renamed), so the target is never half written.  A file
-- left open is closed, and written, by the collector; with {atomic = true}
-- it is written only by :close() or by leaving a `<close>` block normally,
-- and an error, :abort() or the collector discard it.  The methods are C
-- functions (runtime/lua/h5.c); walk is added here.
local core = require "aerun.core"

local h5 = {}

local modes = { r = true, w = true, a = true }

-- h5.open(path [, mode [, {atomic = true}]])
function h5.open(path, mode, opts)
  if type(path) ~= "string" or path == "" then
    error("h5.open: path must be a non-empty string, got " .. type(path))
  end
  mode = mode or "r"
  if not modes[mode] then
    error(string.format("h5.open: %s: unknown mode %q (use \"r\", \"w\" or \"a\")", path, tostring(mode)))
  end
  if opts ~= nil and type(opts) ~= "table" then error("h5.open: options must be a table") end
  local atomic = opts and opts.atomic or false
  local f = core.h5_open(path, mode, atomic)
  return f
end

local File = debug.getregistry()["aerun.H5File"].__index

-- every dataset below group, as sorted paths relative to it
-- ("encoder/0/weight"); a missing group gives an empty list
function File:walk(group)
  group = group or "/"
  if type(group) ~= "string" then error("walk: group must be a path (a string), got " .. type(group)) end
  local out = {}
  if not self:exists(group) then return out end
  local function visit(abs, rel)
    for _, name in ipairs(self:list(abs)) do
      local child, r = abs .. "/" .. name, rel == "" and name or rel .. "/" .. name
      local kind = self:kind(child)
      if kind == "group" then visit(child, r)
      elseif kind == "dataset" then out[#out + 1] = r end
    end
  end
  visit(group == "/" and "" or group:gsub("/+$", ""), "")
  table.sort(out)
  return out
end

-- how many HDF5 files and objects in them are open in the process; tests
-- use it to check that nothing leaks
h5.open_objects = core.h5_open_objects

File.walk = require("aerun.guard").wrap("H5File:walk", File.walk)
return require("aerun.guard").module("ae.h5", h5)
