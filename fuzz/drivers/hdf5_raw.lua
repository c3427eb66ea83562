-- fuzz/drivers/hdf5_raw.lua: any bytes as a checkpoint file, mutated from
-- real checkpoints: corruption inside HDF5's metadata, which libhdf5 reads.
-- Exploratory, not part of make fuzz: libhdf5 1.10 is not written for
-- hostile files and this target finds its bugs (fuzz/known-hdf5-bugs/).
-- aerun guards against the ones it can (runtime/io/h5_file.c refuses global heap
-- collections that hang HDF5's reader); run it with make fuzz-hdf5.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local ae = require "aerun"

return function(scratch)
  local path = scratch .. "/input.h5"
  ae.manual_seed(1)
  local nn = ae.nn
  local model = nn.Sequential { nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 4) }
  local opt = ae.optim.Adam(model:parameters(), { lr = 1e-3 })

  local function attempt(name, fn, ...)
    local ok, err = pcall(fn, ...)
    if not ok then common.check_error(err, name) end
  end

  return function(data)
    common.write(path, data)
    attempt("checkpoint.info", ae.checkpoint.info, path)
    attempt("checkpoint.load", ae.checkpoint.load, path, { model = model, optimizer = opt })
    attempt("checkpoint.model", ae.checkpoint.model, path)
  end
end
