-- aerun.checkpoint: checkpoints as plain HDF5 files (ae.checkpoint), in the
-- layout README.md's "Checkpoint format, version 1" fixes (format
-- "aerun.checkpoint", format_version 1; docs/architecture.md places it):
--
--   /                      attrs format, format_version, aerun_version, created
--   /params/<module path>  float32, PyTorch's orientation ("encoder/0/weight")
--   /buffers/<module path> float32 (BatchNorm running statistics)
--   /model                 attr architecture (JSON of model:architecture())
--   /optimizer             attrs type, hyperparameters (JSON), step;
--                          /optimizer/state/<param path>/<slot> datasets
--   /train                 attrs epoch, step, seed, script, seconds; dataset rng_state
--                          (uint8); /train/metrics/<name> float64 series;
--                          a checkpoint taken inside an epoch (on a signal)
--                          adds attrs batch, epoch_loss_sum, epoch_batches,
--                          epoch_samples, epoch_seconds, epoch_eval_seconds and
--                          dataset epoch_rng_state
--   /config                attr json
--   /schedulers            optional: one attr per scheduler saved (save's
--                          schedulers = {name = s}), the JSON of its
--                          state_dict (±inf as the strings "inf", "-inf");
--                          files without it are read as before
--   /probe                 optional: dataset input and the model's outputs
--                          on it (save's probe option), for converters to
--                          check themselves against
--   /data                  (optional) attrs source, output; datasets mean and
--                          std (float32, one per feature) when the run
--                          standardised its data
--
--   ae.checkpoint.save(path, {model =, optimizer =, epoch =, step =, config =,
--                             metrics = {loss = {...}}, seed =, script =,
--                             data = {source =, output =, standardizer =},
--                             schedulers = {lr = sched, ...}})
--   local info = ae.checkpoint.load(path, {model =, optimizer =, schedulers = {lr = sched},
--                                          restore_rng = true})
--   local model, info = ae.checkpoint.model(path[, {as_base = true}])  -- rebuilt from /model
--   local info = ae.checkpoint.info(path)          -- a summary, no model needed
--   local out = ae.checkpoint.probe(model, x)      -- {output =} or {mu =, logvar =, decoded =}
--
-- A model whose classes a script defined is rebuilt once the script's
-- classes are loaded and registered (nn.register; see aerun.nn).
--
-- A save writes a temporary file beside the target and renames it over the
-- target only when complete.  A load checks the format, the version, every
-- name and every shape before it changes anything, and never runs code from
-- the file: JSON is parsed by the small reader below, and models are built
-- only from registered classes.
-- (JSON goes through aerun.json, which says why it is not lua-cjson.)

--- Checkpoints as plain HDF5 files, in the layout of README.md's
-- "Checkpoint format, version 1": `ae.checkpoint`.
-- Saves are atomic; loads check the format, every name and every shape
-- before changing anything, and never run code from the file.
-- @module aerun.checkpoint

--- Writes a checkpoint (atomically: a temporary file renamed over path).
-- @param path
-- @param state `{model =, optimizer =, epoch =, step =, config =, metrics = {name = {...}}, seed =, script =, probe = x, data = {source =, output =, standardizer =}, schedulers = {name = scheduler}}`
-- @raise when a constructor argument cannot be recorded, or the file cannot be written
-- @usage local m = nn.mlp { 4, 2 }; ae.checkpoint.save("m.h5", { model = m, epoch = 1 }); assert(ae.checkpoint.info("m.h5").epoch == 1)
-- @function save

--- Loads parameters (and optimizer and RNG state) into existing objects.
-- @param path
-- @param objects `{model =, optimizer =, schedulers = {name = scheduler}, restore_rng = true}` (each scheduler named must be in the file)
-- @return `{epoch =, step =, config =, metrics =, ...}`
-- @raise when the file is not a checkpoint, or a name or shape differs (listing them)
-- @usage local m = nn.mlp { 4, 2 }; ae.checkpoint.save("m.h5", { model = m, epoch = 3 })
-- assert(ae.checkpoint.load("m.h5", { model = nn.mlp { 4, 2 } }).epoch == 3)
-- @function load

--- Rebuilds the model from the file alone (its /model architecture) and loads its weights.
-- @param path
-- @param[opt] opts `{as_base = true}` rebuilds a script's class that replaces no method as its built-in base
-- @return the model
-- @return the info table
-- @raise on a class that is not registered, saying what to load
-- @usage ae.checkpoint.save("m.h5", { model = nn.mlp { 4, 2 } }); local m = ae.checkpoint.model("m.h5"); assert(m(ae.rand(1, 4)):size(2) == 2)
-- @function model

--- A summary of a checkpoint, no model needed.
-- @param path
-- @return `{epoch =, step =, config =, metrics =, architecture =, optimizer =, ...}`
-- @usage ae.checkpoint.save("m.h5", { model = nn.Linear(1, 1), step = 7 }); assert(ae.checkpoint.info("m.h5").step == 7)
-- @function info

--- The model's outputs on x in eval mode (what save's `probe` stores), its RNG and modes restored.
-- @param model a module
-- @param x an input batch
-- @return `{output =}`, or `{mu =, logvar =, decoded =}` for a model with encode/decode
-- @raise when the model fails on x or returns no tensor
-- @usage assert(ae.checkpoint.probe(nn.Linear(2, 3), ae.rand(1, 2)).output:size(2) == 3)
-- @function probe

local core = require "aerun.core"
local h5 = require "aerun.h5"

local FORMAT, VERSION = "aerun.checkpoint", 1

local checkpoint = { format = FORMAT, format_version = VERSION }

local tensor_mt = debug.getregistry()["aerun.Tensor"]
local function is_tensor(v) return getmetatable(v) == tensor_mt end
local function shape_str(s) return #s == 0 and "scalar" or table.concat(s, "×") end

local json = require "aerun.json"

checkpoint.json = json

-- ------------------------------------------------------------------------
-- what a model and an optimizer hold, by name

local function is_module(m)
  local mt = type(m) == "table" and getmetatable(m)
  return mt and rawget(mt, "__module") == true or false
end

-- parallel arrays of module paths and tensors
local function named(iter)
  local names, values = {}, {}
  for name, t in iter do
    names[#names + 1] = name
    values[#values + 1] = t
  end
  return names, values
end

-- the name of each optimizer parameter: its module path when it is one of
-- the model's parameters (matched by identity), "param<i>" otherwise
local function optimizer_names(opt, names, params)
  local path = {}
  for i, p in ipairs(params) do path[p] = names[i] end
  local out = {}
  if type(opt.params) == "table" then
    for i, p in ipairs(opt.params) do out[i] = path[p] or ("param" .. i) end
  else
    for i = 1, #names do out[i] = names[i] end
  end
  return setmetatable(out, { __index = function(_, i) return "param" .. i end })
end

-- Errors inside this file are raised without a position (level 0):
-- aerun.guard, the module's boundary, raises them again at the script's
-- line.
local function fail(fmt, ...) error(string.format(fmt, ...), 0) end

-- a message without the positions inside aerun that Lua put in front of it
-- (C functions raise at their caller's line, which is here)
local function plain(msg)
  msg = tostring(msg)
  while true do
    local rest = msg:match("^[^%s:]*aerun/[%w_]+%.lua:%d+: (.*)$")
    if not rest then return msg end
    msg = rest
  end
end

local function check_model(fn, m)
  local guard = require "aerun.guard"
  if not is_module(m) then
    fail("checkpoint.%s: model must be an nn module, got %s%s", fn, guard.value(m), guard.hint(m) and ": " .. guard.hint(m) or "")
  end
end

local function check_optimizer(fn, opt)
  if type(opt) ~= "table" or type(opt.state_dict) ~= "function" or type(opt.load_state_dict) ~= "function" then
    fail("checkpoint.%s: optimizer must be an ae.optim optimizer (with state_dict and load_state_dict), got %s",
      fn, type(opt))
  end
end

local function whole(what, v)
  if v == nil then return nil end
  local i = math.tointeger(v)
  if not i then fail("checkpoint.save: %s must be an integer, got %s", what, tostring(v)) end
  return i
end

-- ------------------------------------------------------------------------
-- the probe: what a model computes on an input, deterministically (eval
-- mode, no graph, the RNG left as it was), by name.  A model deriving from
-- nn.VAE gives mu and logvar (encode) and decoded (decode(mu)), since its
-- forward samples; any other gives output (and output2, ... when forward
-- returns more tensors).

local function probe(model, x)
  check_model("probe", model)
  if not is_tensor(x) then fail("checkpoint.probe: the input must be a tensor, got %s", type(x)) end
  local nn = require "aerun.nn"
  local modes = {}
  for i, e in ipairs(model:named_modules()) do modes[i] = { e[2], e[2].training } end
  local rng = core.rng_state()
  model:eval()
  local ok, out = pcall(core.no_grad, function()
    local o = {}
    if nn.base(model) == "VAE" then
      local mu, logvar = model:encode(x)
      o.mu, o.logvar, o.decoded = mu, logvar, model:decode(mu)
    else
      local r = table.pack(model(x))
      for i = 1, r.n do
        if is_tensor(r[i]) then o[i == 1 and "output" or ("output" .. i)] = r[i] end
      end
    end
    return o
  end)
  for _, m in ipairs(modes) do rawset(m[1], "training", m[2]) end
  core.set_rng_state(rng)
  if not ok then fail("checkpoint.probe: the model failed on the probe input: %s", plain(out)) end
  if next(out) == nil then fail("checkpoint.probe: the model returned no tensor") end
  for k, v in pairs(out) do out[k] = v:contiguous() end
  return out
end

checkpoint.probe = probe

-- ------------------------------------------------------------------------
-- save

-- a metric as a dense list: per-epoch values with gaps (a test loss taken
-- every other epoch) have NaN in the gaps
local function series_of(name, series)
  if type(series) ~= "table" then
    fail("checkpoint.save: metrics.%s must be a list of numbers, got %s", name, type(series))
  end
  local n = 0
  for i, v in pairs(series) do
    if math.type(i) ~= "integer" or i < 1 then
      fail("checkpoint.save: metrics.%s has the key %s; a metric is a list of numbers", name, tostring(i))
    end
    if type(v) ~= "number" then fail("checkpoint.save: metrics.%s[%d] is %s, not a number", name, i, type(v)) end
    if i > n then n = i end
  end
  local out = {}
  for i = 1, n do out[i] = series[i] or 0 / 0 end
  return out
end

-- what the run's data was: its source and output ("sigmoid" or "linear"),
-- and the per-feature mean and std it was standardised with, if it was
local function data_of(d)
  if type(d) ~= "table" then fail("checkpoint.save: data must be a table {source =, output =, standardizer =}") end
  local out = { source = d.source, output = d.output }
  for _, k in ipairs { "source", "output" } do
    if out[k] ~= nil and type(out[k]) ~= "string" then fail("checkpoint.save: data.%s must be a string", k) end
  end
  local st = d.standardizer
  if st ~= nil then
    if not (is_tensor(st.mean) and is_tensor(st.std)) then
      fail("checkpoint.save: data.standardizer needs mean and std tensors")
    end
    out.mean, out.std = st.mean, st.std
  end
  return out
end

-- everything to write, prepared (and checked) before any file is touched
-- schedulers: their state_dicts as JSON, ±inf (ReduceLROnPlateau's best
-- before any metric) as strings, which JSON has no number for
local function finite_state(sd, to_file)
  local out = {}
  for k, v in pairs(sd) do
    if to_file and v == math.huge then v = "inf"
    elseif to_file and v == -math.huge then v = "-inf"
    elseif not to_file and v == "inf" then v = math.huge
    elseif not to_file and v == "-inf" then v = -math.huge end
    out[k] = v
  end
  return out
end

local function check_schedulers(fn, list)
  if type(list) ~= "table" then fail("checkpoint.%s: schedulers must be a table of name = scheduler", fn) end
  local names = {}
  for name, s in pairs(list) do
    if type(name) ~= "string" or not name:match("^[%w_.-]+$") then
      fail("checkpoint.%s: scheduler names must be strings of letters, digits, _ . -, got %s", fn, tostring(name))
    end
    if type(s) ~= "table" or type(s.state_dict) ~= "function" or type(s.load_state_dict) ~= "function" then
      fail("checkpoint.%s: schedulers.%s must be an lr_scheduler (with state_dict and load_state_dict)", fn, name)
    end
    names[#names + 1] = name
  end
  table.sort(names)
  return names
end

local function schedulers_of(list)
  if list == nil then return nil end
  local names = check_schedulers("save", list)
  local out = { names = names, json = {} }
  for _, name in ipairs(names) do
    local ok, text = pcall(json.encode, finite_state(list[name]:state_dict(), true), "schedulers." .. name)
    if not ok then fail("checkpoint.save: %s", plain(text)) end
    out.json[name] = text
  end
  return out
end

local function prepare(state)
  local model = state.model
  check_model("save", model)
  local p = {}
  p.param_names, p.params = named(model:named_parameters())
  p.buffer_names, p.buffers = named(model:named_buffers())
  local ok, arch = pcall(model.architecture, model)
  if ok then ok, arch = pcall(json.encode, arch, "model:architecture()", { config = true }) end
  if not ok then fail("checkpoint.save: %s", plain(arch)) end
  p.architecture = arch
  if state.probe ~= nil then
    if not is_tensor(state.probe) then fail("checkpoint.save: probe must be an input tensor, got %s", type(state.probe)) end
    local pok, out = pcall(probe, model, state.probe)
    if not pok then fail("checkpoint.save: %s", plain(out):gsub("^checkpoint%.probe: ", "probe: ")) end
    p.probe_input, p.probe = state.probe:contiguous(), out
  end
  local cfg
  ok, cfg = pcall(json.encode, state.config or {}, "config")
  if not ok then fail("checkpoint.save: %s", plain(cfg)) end
  p.config = cfg
  local opt = state.optimizer
  if opt ~= nil then
    check_optimizer("save", opt)
    p.opt = opt:state_dict()
    p.opt_names = optimizer_names(opt, p.param_names, p.params)
    ok, p.hyper = pcall(json.encode, p.opt.hyperparameters or {}, "optimizer hyperparameters")
    if not ok then fail("checkpoint.save: %s", plain(p.hyper)) end
  end
  p.schedulers = schedulers_of(state.schedulers)
  p.metric_names, p.metrics = {}, {}
  if state.metrics ~= nil then
    if type(state.metrics) ~= "table" then fail("checkpoint.save: metrics must be a table of name = {values}") end
    for name, series in pairs(state.metrics) do
      if type(name) ~= "string" or name == "" or name:find("^/") then
        fail("checkpoint.save: metric names must be non-empty strings, got %s", tostring(name))
      end
      p.metric_names[#p.metric_names + 1] = name
      p.metrics[name] = series_of(name, series)
    end
    table.sort(p.metric_names)
  end
  p.epoch = whole("epoch", state.epoch) or 0
  p.seconds = tonumber(state.seconds)
  p.step = whole("step", state.step) or (p.opt and whole("optimizer step", p.opt.step)) or 0
  p.seed = whole("seed", state.seed) or core.initial_seed()
  p.script = state.script or (type(arg) == "table" and type(arg[0]) == "string" and arg[0]) or ""
  if state.partial ~= nil then
    -- a checkpoint taken inside an epoch (on SIGINT/SIGTERM): where in the
    -- epoch it stopped, the RNG state when the epoch began (which fixes
    -- the epoch's data order) and the epoch's running sums
    local q = state.partial
    if type(q) ~= "table" or type(q.epoch_rng_state) ~= "string" then
      fail("checkpoint.save: partial needs batch and epoch_rng_state")
    end
    p.partial = { batch = whole("partial.batch", q.batch) or 0, rng = q.epoch_rng_state,
      loss_sum = tonumber(q.loss_sum) or 0, batches = whole("partial.batches", q.batches) or 0,
      samples = whole("partial.samples", q.samples) or 0, seconds = tonumber(q.seconds) or 0,
      eval_seconds = tonumber(q.eval_seconds) or 0 }
  end
  if state.data ~= nil then p.data = data_of(state.data) end
  if type(p.script) ~= "string" then fail("checkpoint.save: script must be a string") end
  if not utf8.len(p.script) then fail("checkpoint.save: script is not valid UTF-8") end
  return p
end

local function write_all(f, p)
  f:set_attr("/", "format", FORMAT)
  f:set_attr("/", "format_version", VERSION)
  f:set_attr("/", "aerun_version", require("aerun").version)
  f:set_attr("/", "created", os.date("!%Y-%m-%dT%H:%M:%SZ"))
  f:create_group("params")
  for i, name in ipairs(p.param_names) do f:write("params/" .. name, p.params[i]) end
  f:create_group("buffers")
  for i, name in ipairs(p.buffer_names) do f:write("buffers/" .. name, p.buffers[i]) end
  f:set_attr("model", "architecture", p.architecture)
  if p.probe then
    f:write("probe/input", p.probe_input)
    local names = {}
    for name in pairs(p.probe) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do f:write("probe/" .. name, p.probe[name]) end
  end
  if p.opt then
    local sd = p.opt
    f:set_attr("optimizer", "type", tostring(sd.type))
    f:set_attr("optimizer", "hyperparameters", p.hyper)
    f:set_attr("optimizer", "step", whole("optimizer step", sd.step) or 0)
    f:create_group("optimizer/state")
    for i, slots in pairs(sd.state or {}) do
      local group = "optimizer/state/" .. p.opt_names[i]
      f:create_group(group)
      for slot, v in pairs(slots) do
        if is_tensor(v) then f:write(group .. "/" .. slot, v)
        elseif type(v) == "number" then f:set_attr(group, slot, v)
        else fail("optimizer state[%s].%s is a %s", tostring(i), slot, type(v)) end
      end
    end
  end
  f:set_attr("train", "epoch", p.epoch)
  f:set_attr("train", "step", p.step)
  -- wall-clock seconds the run had trained when saved, so that a resumed
  -- run's time and samples/s count every session
  if p.seconds then f:set_attr("train", "seconds", p.seconds + 0.0) end
  f:set_attr("train", "seed", p.seed)
  f:set_attr("train", "script", p.script)
  f:write_bytes("train/rng_state", core.rng_state())
  if p.partial then
    f:set_attr("train", "batch", p.partial.batch)
    f:set_attr("train", "epoch_loss_sum", p.partial.loss_sum)
    f:set_attr("train", "epoch_batches", p.partial.batches)
    f:set_attr("train", "epoch_samples", p.partial.samples)
    f:set_attr("train", "epoch_seconds", p.partial.seconds + 0.0)
    f:set_attr("train", "epoch_eval_seconds", p.partial.eval_seconds + 0.0)
    f:write_bytes("train/epoch_rng_state", p.partial.rng)
  end
  f:create_group("train/metrics")
  for _, name in ipairs(p.metric_names) do f:write_numbers("train/metrics/" .. name, p.metrics[name]) end
  f:set_attr("config", "json", p.config)
  if p.schedulers then
    f:create_group("schedulers")
    for _, name in ipairs(p.schedulers.names) do f:set_attr("schedulers", name, p.schedulers.json[name]) end
  end
  if p.data then
    f:create_group("data")
    if p.data.source then f:set_attr("data", "source", p.data.source) end
    if p.data.output then f:set_attr("data", "output", p.data.output) end
    if p.data.mean then
      f:write("data/mean", p.data.mean)
      f:write("data/std", p.data.std)
    end
  end
end

-- the directory part of path, "" when there is none
local function dirname(path) return path:match("^(.*)/[^/]*$") or "" end

local function save(path, state)
  if type(path) ~= "string" or path == "" then fail("checkpoint.save: path must be a non-empty string") end
  if type(state) ~= "table" then fail("checkpoint.save: expects a table {model =, optimizer =, ...}") end
  local p = prepare(state)
  local dir = dirname(path)
  if dir ~= "" then
    local ok, err = core.mkdir_p(dir)
    if not ok then fail("checkpoint.save: %s: %s", path, plain(err)) end
  end
  local ok, f = pcall(core.h5_open, path, "w", true)
  if not ok then fail("checkpoint.save: %s", plain(f)) end
  local written, err = pcall(write_all, f, p)
  if not written then
    f:abort()
    fail("checkpoint.save: %s", plain(err))
  end
  local closed, cerr = pcall(f.close, f)
  if not closed then fail("checkpoint.save: %s", plain(cerr)) end
  return path
end

checkpoint.save = save

-- ------------------------------------------------------------------------
-- load

-- opens path and checks that it is a checkpoint this version can read
local function open_checked(path)
  if type(path) ~= "string" or path == "" then fail("checkpoint: path must be a non-empty string") end
  local f = core.h5_open(path, "r")
  local ok, attrs = pcall(f.attrs, f, "/")
  if not ok then
    f:close()
    error(plain(attrs), 0)
  end
  local function reject(fmt, ...)
    f:close()
    fail("%s: " .. fmt, path, ...)
  end
  if attrs.format ~= FORMAT then
    if attrs.format == nil then
      local members = f:list("/")
      reject("not an aerun checkpoint (no format attribute; it holds: %s)",
        #members > 0 and table.concat(members, ", ") or "nothing")
    end
    reject("not an aerun checkpoint (format is %q, expected %q)", tostring(attrs.format), FORMAT)
  end
  local v = attrs.format_version
  if math.type(v) ~= "integer" or v < 1 then reject("format_version is %s, not a version number", tostring(v)) end
  if v > VERSION then reject("format_version %d is newer than this aerun reads (%d); update aerun", v, VERSION) end
  return f, attrs
end

local function decode_attr(f, path, obj, key)
  local ok, v = pcall(json.decode, f:attr(obj, key))
  if not ok then fail("%s: /%s: attribute %s: %s", path, obj, key, plain(v)) end
  return v
end

-- compares the datasets under group with the model's names and shapes,
-- adding what differs to problems
local function compare(f, group, names, tensors, problems)
  local expected, in_file = {}, {}
  for i, n in ipairs(names) do expected[n] = i end
  local missing, unexpected = {}, {}
  for _, n in ipairs(f:walk(group)) do
    in_file[n] = true
    if not expected[n] then unexpected[#unexpected + 1] = group .. "/" .. n end
  end
  for i, n in ipairs(names) do
    local full = group .. "/" .. n
    if not in_file[n] then
      missing[#missing + 1] = full
    else
      local s, want = f:shape(full), tensors[i]:shape()
      if shape_str(s) ~= shape_str(want) then
        problems[#problems + 1] = string.format("%s: file has %s, model has %s", full, shape_str(s), shape_str(want))
      end
    end
  end
  if #missing > 0 then problems[#problems + 1] = "missing in the file: " .. table.concat(missing, ", ") end
  if #unexpected > 0 then
    problems[#problems + 1] = "unexpected in the file: " .. table.concat(unexpected, ", ")
  end
end

-- the optimizer state in the file, checked against the optimizer; returns
-- a state_dict for opt:load_state_dict with dataset names where tensors go
local function read_optimizer(f, path, opt, names, params, problems)
  if f:kind("optimizer") ~= "group" then
    problems[#problems + 1] = "/optimizer: not found (the checkpoint was saved without an optimizer)"
    return nil
  end
  local a = f:attrs("optimizer")
  if opt.type and a.type ~= opt.type then
    problems[#problems + 1] = string.format("/optimizer: the file holds %s state, the optimizer is %s",
      tostring(a.type), tostring(opt.type))
    return nil
  end
  local onames = optimizer_names(opt, names, params)
  local oparams = type(opt.params) == "table" and opt.params or params
  local index = {}
  for i = 1, #oparams do index[onames[i]] = i end
  local state, unexpected = {}, {}
  for _, rel in ipairs(f:walk("optimizer/state")) do
    local pname, slot = rel:match("^(.*)/([^/]+)$")
    local i = pname and index[pname]
    local full = "optimizer/state/" .. rel
    if not i then
      unexpected[#unexpected + 1] = full
    else
      local s, want = f:shape(full), oparams[i]:shape()
      if slot ~= "step" and shape_str(s) ~= shape_str(want) then
        problems[#problems + 1] = string.format("%s: file has %s, parameter has %s", full, shape_str(s),
          shape_str(want))
      end
      state[i] = state[i] or {}
      state[i][slot] = full
    end
  end
  if #unexpected > 0 then
    problems[#problems + 1] = "unexpected in the file: " .. table.concat(unexpected, ", ")
  end
  -- numbers are attributes of a parameter's state group
  for pname, i in pairs(index) do
    local group = "optimizer/state/" .. pname
    if f:kind(group) == "group" then
      for k, v in pairs(f:attrs(group)) do
        state[i] = state[i] or {}
        state[i][k] = v
      end
    end
  end
  return { type = a.type, step = a.step, hyperparameters = decode_attr(f, path, "optimizer", "hyperparameters"),
    state = state }
end

local function read_metrics(f)
  local out = {}
  for _, name in ipairs(f:walk("train/metrics")) do out[name] = f:read_numbers("train/metrics/" .. name) end
  return out
end

-- /data: {source =, output =, mean =, std =}, or nil
local function read_data(f)
  if f:kind("data") ~= "group" then return nil end
  local a = f:attrs("data")
  local d = { source = a.source, output = a.output }
  if f:kind("data/mean") == "dataset" then d.mean, d.std = f:read("data/mean"), f:read("data/std") end
  return d
end

local function summary(f, path, root)
  local t = f:kind("train") == "group" and f:attrs("train") or {}
  local partial
  if t.batch and f:kind("train/epoch_rng_state") == "dataset" then
    partial = { batch = t.batch, epoch_rng_state = f:read_bytes("train/epoch_rng_state"),
      loss_sum = t.epoch_loss_sum, batches = t.epoch_batches, samples = t.epoch_samples,
      seconds = t.epoch_seconds, eval_seconds = t.epoch_eval_seconds }
  end
  return {
    epoch = t.epoch, step = t.step, seed = t.seed, script = t.script, partial = partial, seconds = t.seconds,
    created = root.created, aerun_version = root.aerun_version, format_version = root.format_version,
    config = f:kind("config") == "group" and decode_attr(f, path, "config", "json") or {},
    metrics = read_metrics(f),
    data = read_data(f),
  }
end

-- with the file open: check, read, then change
local function restore(f, path, root, opts)
  local model, opt = opts.model, opts.optimizer
  local names, params = named(model:named_parameters())
  local bnames, buffers = named(model:named_buffers())
  local problems = {}
  compare(f, "params", names, params, problems)
  compare(f, "buffers", bnames, buffers, problems)
  local sd = opt and read_optimizer(f, path, opt, names, params, problems)
  local sched_states = {}
  if opts.schedulers ~= nil then
    local have = f:kind("schedulers") == "group" and f:attrs("schedulers") or {}
    local held = {}
    for k in pairs(have) do held[#held + 1] = k end
    table.sort(held)
    for _, name in ipairs(check_schedulers("load", opts.schedulers)) do
      if type(have[name]) ~= "string" then
        problems[#problems + 1] = string.format("/schedulers: no scheduler %s (the file holds: %s)", name,
          #held > 0 and table.concat(held, ", ") or "none")
      else
        local ok, decoded = pcall(json.decode, have[name])
        if not ok or type(decoded) ~= "table" then
          problems[#problems + 1] = string.format("/schedulers: %s is not a JSON object", name)
        else
          sched_states[name] = finite_state(decoded, false)
        end
      end
    end
  end
  if #problems > 0 then
    fail("%s: the checkpoint does not match the model:\n  %s", path, table.concat(problems, "\n  "))
  end
  local values, bvalues = {}, {}
  for i, n in ipairs(names) do values[i] = f:read("params/" .. n) end
  for i, n in ipairs(bnames) do bvalues[i] = f:read("buffers/" .. n) end
  if sd then
    for _, slots in pairs(sd.state) do
      for slot, v in pairs(slots) do
        if type(v) == "string" then slots[slot] = f:read(v) end
      end
    end
  end
  -- a checkpoint made outside aerun (tools/aerun_torch.py from-torch) has
  -- no RNG state; there is then nothing to restore
  local rng = opts.restore_rng ~= false and f:kind("train/rng_state") == "dataset"
    and f:read_bytes("train/rng_state")
  local info = summary(f, path, root)
  -- the changes, in an order that can undo the ones that might fail
  local saved_rng = core.rng_state()
  if rng then
    local ok, err = pcall(core.set_rng_state, rng)
    if not ok then fail("%s: /train/rng_state: %s", path, plain(err)) end
  end
  -- the schedulers before the optimizer: a scheduler's load sets the
  -- rate it last set, the optimizer's then sets the rate it held (which a
  -- ReduceLROnPlateau may have lowered since)
  for name, state in pairs(sched_states) do
    local s = opts.schedulers[name]
    local ok, err = pcall(s.load_state_dict, s, state)
    if not ok then
      core.set_rng_state(saved_rng)
      fail("%s: /schedulers: %s: %s", path, name, plain(err))
    end
  end
  if sd then
    local ok, err = pcall(opt.load_state_dict, opt, sd)
    if not ok then
      core.set_rng_state(saved_rng)
      fail("%s: /optimizer: %s", path, plain(err))
    end
  end
  core.no_grad(function()
    for i, p in ipairs(params) do p:copy_(values[i]) end
    for i, b in ipairs(buffers) do b:copy_(bvalues[i]) end
  end)
  return info
end

local function load(path, opts)
  if type(opts) ~= "table" then fail("checkpoint.load: expects a table {model =, optimizer =}") end
  check_model("load", opts.model)
  if opts.optimizer ~= nil then check_optimizer("load", opts.optimizer) end
  local f, root = open_checked(path)
  local ok, info = pcall(restore, f, path, root, opts)
  f:close()
  if not ok then error(info, 0) end
  return info
end

checkpoint.load = load

-- the model the file describes, built from /model and loaded strictly.
-- Built-in classes are made from their config; a class a script defined
-- (Module:extend) must be registered first (nn.register), and is called
-- with the arguments its module was made with.  opts.as_base: a script's
-- class that is not registered and replaces none of forward, encode and
-- decode is rebuilt as the built-in class it derives from (for scoring a
-- model without its script; its own methods are not there).
local function rebuild(path, opts)
  opts = require("aerun.guard").options("checkpoint.model", opts, { as_base = true })
  local f = open_checked(path)
  local ok, arch = pcall(decode_attr, f, path, "model", "architecture")
  local script = ok and f:kind("train") == "group" and f:attrs("train").script or nil
  f:close()
  if not ok then error(arch, 0) end
  local nn = require "aerun.nn"
  local bopts = { as_base = opts.as_base == true }
  local missing = nn.unbuildable(arch, bopts)
  if #missing > 0 then
    local m = missing[1]
    local where = m.path == "" and "" or string.format(" (at %s)", m.path)
    if m.script then
      local by = (type(script) == "string" and script ~= "") and string.format(" (saved by %s)", script) or ""
      local alt = m.base and string.format("; or ae.checkpoint.model(path, {as_base = true}) rebuilds it as the "
        .. "nn.%s it derives from, without its own methods", m.base) or ""
      fail("checkpoint %s holds a model of class '%s'%s, defined by a script%s: load the script that defines it "
        .. "and call nn.register(%s) before ae.checkpoint.model%s", path, m.type, where, by, m.type, alt)
    end
    fail("%s: /model: cannot rebuild the model: unknown module type '%s'%s (not a built-in class; a class "
      .. "defined by a script must be registered with nn.register before ae.checkpoint.model)", path,
      tostring(m.type), where)
  end
  local built, model = pcall(nn.build, arch, bopts)
  if not built then fail("%s: /model: cannot rebuild the model: %s", path, plain(model)) end
  local loaded, info = pcall(load, path, { model = model, restore_rng = false })
  if not loaded then
    error(string.format("%s\n  (the model was rebuilt from /model: its constructor made other parameters than the "
      .. "file holds)", plain(info)), 0)
  end
  return model, info
end

checkpoint.model = rebuild

-- what a checkpoint holds, without a model: the summary load returns, plus
-- params and buffers ({name =, shape =}, sorted by name), num_parameters,
-- architecture and optimizer ({type =, hyperparameters =, step =})
local function describe(f, path, root)
  local info = summary(f, path, root)
  info.num_parameters = 0
  for _, group in ipairs { "params", "buffers" } do
    local list = {}
    for _, name in ipairs(f:walk(group)) do
      local s = f:shape(group .. "/" .. name)
      list[#list + 1] = { name = name, shape = s }
      if group == "params" then
        local n = 1
        for _, d in ipairs(s) do n = n * d end
        info.num_parameters = info.num_parameters + n
      end
    end
    info[group] = list
  end
  if f:kind("model") == "group" then info.architecture = decode_attr(f, path, "model", "architecture") end
  if f:kind("optimizer") == "group" then
    local a = f:attrs("optimizer")
    info.optimizer = { type = a.type, step = a.step,
      hyperparameters = decode_attr(f, path, "optimizer", "hyperparameters") }
  end
  return info
end

local function inspect(path)
  local f, root = open_checked(path)
  local ok, info = pcall(describe, f, path, root)
  f:close()
  if not ok then error(info, 0) end
  return info
end

checkpoint.info = inspect

return require("aerun.guard").module("ae.checkpoint", checkpoint)
