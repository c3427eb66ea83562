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

--- HDF5 files from Lua: `ae.h5`, the layer checkpoints are built on.
-- Names are paths inside the file ("x" and "/x" are the same); errors name
-- the file and the object (`out.h5: /x: not found`).  A writable file is
-- built in memory and replaces its target in one step when closed.
-- @module aerun.h5

--- Opens a file.
-- @param path
-- @param[opt="r"] mode "r", "w" (truncate) or "a"
-- @param[opt] opts `{atomic = true}`: written only by :close() or by leaving a `<close>` block normally
-- @return an H5File
-- @raise on an empty path, an unknown mode, or a file that is not HDF5
-- @usage local f <close> = ae.h5.open("out.h5", "w"); f:write("x", ae.ones(2, 3))
-- @function open

--- How many HDF5 files and objects are open in the process (tests check for leaks).
-- @return an integer
-- @usage assert(ae.h5.open_objects() >= 0)
-- @function open_objects

--- An open HDF5 file.
-- @type H5File

--- Writes a tensor as a float32 dataset (parents created).
-- @param name
-- @param t a tensor
-- @usage local f = ae.h5.open("o.h5", "w"); f:write("a/b", ae.ones(2)); f:close(); assert(ae.h5.open("o.h5"):read("a/b"):numel() == 2)
-- @function H5File:write

--- Reads any integer or float dataset as a tensor.
-- @param name
-- @return a tensor
-- @raise when the dataset is missing or not numeric
-- @usage local f = ae.h5.open("o.h5", "w"); f:write("x", ae.full(3, 2)); f:close(); assert(ae.h5.open("o.h5"):read("x"):sum():item() == 6)
-- @function H5File:read

--- Writes a float64 1-D dataset from a list of numbers.
-- @param name
-- @param values a list
-- @usage local f = ae.h5.open("o.h5", "w"); f:write_numbers("loss", { 0.5, 0.25 }); assert(f:read_numbers("loss")[2] == 0.25); f:close()
-- @function H5File:write_numbers

--- Reads a 1-D dataset as a list of numbers.
-- @param name
-- @return a list
-- @usage local f = ae.h5.open("o.h5", "w"); f:write_numbers("n", { 1 }); assert(#f:read_numbers("n") == 1); f:close()
-- @function H5File:read_numbers

--- Writes a string as a uint8 1-D dataset.
-- @param name
-- @param s a string
-- @usage local f = ae.h5.open("o.h5", "w"); f:write_bytes("b", "\1\2"); assert(f:read_bytes("b") == "\1\2"); f:close()
-- @function H5File:write_bytes

--- Reads a uint8 1-D dataset as a string.
-- @param name
-- @return a string
-- @usage local f = ae.h5.open("o.h5", "w"); f:write_bytes("b", "ab"); assert(f:read_bytes("b") == "ab"); f:close()
-- @function H5File:read_bytes

--- Sets an attribute: strings, integers, floats; booleans as 0/1.
-- @param name the object ("/" for the file)
-- @param key
-- @param value
-- @usage local f = ae.h5.open("o.h5", "w"); f:set_attr("/", "format", "mine"); assert(f:attr("/", "format") == "mine"); f:close()
-- @function H5File:set_attr

--- One attribute's value.
-- @param name
-- @param key
-- @return the value
-- @raise when it is missing
-- @usage local f = ae.h5.open("o.h5", "w"); f:set_attr("/", "n", 3); assert(f:attr("/", "n") == 3); f:close()
-- @function H5File:attr

--- Every attribute of an object that aerun can convert.
-- @param name
-- @return a table key → value
-- @usage local f = ae.h5.open("o.h5", "w"); f:set_attr("/", "n", 3); assert(f:attrs("/").n == 3); f:close()
-- @function H5File:attrs

--- The sorted member names of a group.
-- @param group
-- @return a list
-- @usage local f = ae.h5.open("o.h5", "w"); f:write("g/x", ae.ones(1)); assert(f:list("g")[1] == "x"); f:close()
-- @function H5File:list

--- Every dataset below a group, as sorted relative paths (empty for a missing group).
-- @param[opt="/"] group
-- @return a list
-- @usage local f = ae.h5.open("o.h5", "w"); f:write("g/h/x", ae.ones(1)); assert(f:walk("g")[1] == "h/x"); f:close()
-- @function H5File:walk

--- Whether an object exists.
-- @param name
-- @return a boolean
-- @usage local f = ae.h5.open("o.h5", "w"); assert(not f:exists("x")); f:close()
-- @function H5File:exists

--- "group", "dataset", or nil when missing.
-- @param name
-- @return a string or nil
-- @usage local f = ae.h5.open("o.h5", "w"); f:write("x", ae.ones(1)); assert(f:kind("x") == "dataset"); f:close()
-- @function H5File:kind

--- A dataset's shape.
-- @param name
-- @return a table of sizes
-- @usage local f = ae.h5.open("o.h5", "w"); f:write("x", ae.ones(2, 5)); assert(f:shape("x")[2] == 5); f:close()
-- @function H5File:shape

--- Creates a group (and its parents).
-- @param name
-- @usage local f = ae.h5.open("o.h5", "w"); f:create_group("g/h"); assert(f:kind("g/h") == "group"); f:close()
-- @function H5File:create_group

--- The file's path.
-- @return a string
-- @usage local f = ae.h5.open("o.h5", "w"); assert(f:path() == "o.h5"); f:close()
-- @function H5File:path

--- Whether the file is still open.
-- @return a boolean
-- @usage local f = ae.h5.open("o.h5", "w"); f:close(); assert(not f:is_open())
-- @function H5File:is_open

--- Closes the file; a writable one replaces its target now.
-- @raise when the file cannot be written
-- @usage local f = ae.h5.open("o.h5", "w"); f:close()
-- @function H5File:close

--- Closes a writable file without writing it (the target stays as it was).
-- @usage local f = ae.h5.open("never.h5", "w", { atomic = true }); f:abort(); assert(not io.open("never.h5"))
-- @function H5File:abort

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
