-- aerun.experiment: what every experiment script shares (ae.experiment).
--
--   local cfg = ex.config{epochs = 10, lr = 1e-3}    -- ae.config plus the run options
--   local run = ex.start("vae_mnist", cfg, {model = m, optimizer = opt})
--   for epoch in run:epochs() do
--     for x, y in run:batches(train) do ... run:step(loss) end
--     run:end_epoch{test_loss = ...}
--   end
--   run:finish{test_loss = ...}
--
-- A run owns a directory, checkpoints/<experiment>/<run id>/ (the run id
-- names the settings given on the command line, "default" when none are):
-- config.json, metrics.csv, checkpoint.h5 after every epoch, loss.png and
-- result.json.  checkpoints/<experiment>/latest.h5 and result.json point
-- at the newest run.  --resume (or --resume=path) continues a run exactly:
-- parameters, optimizer state, RNG state and the data order are restored.
-- None of this is required: a plain loop works the same without it.

--- What every experiment script shares: the run API, `ae.experiment`.
--
-- A run owns a directory, `checkpoints/<experiment>/<run id>/`: config.json,
-- metrics.csv, checkpoint.h5 after every epoch, loss.png and result.json;
-- `--resume` continues it exactly.  None of this is required: a plain loop
-- works the same without it.
-- @module aerun.experiment

--- The options every run understands, beside the script's own (given as
-- `--key=value`; `--on-nan` and `--on_nan` are the same key).
-- @table run_options
-- @field out the run directory instead of `checkpoints/<experiment>/<run id>` (`--out=DIR`)
-- @field resume continue from this run's checkpoint (`--resume`, an error when there is none), the given one (`--resume=path`), or this run's when it has one (`--resume=auto`, else a fresh start): parameters, optimizer and RNG state, epoch, data order and time so far
-- @field keep_best METRIC: keep best.h5, the checkpoint of the epoch with the best METRIC (`--keep-best=test_loss`)
-- @field best_mode "min" (default) or "max": which METRIC is best
-- @field patience stop after this many epochs without a better watched metric (keep_best's, else test_loss; 0: never)
-- @field log_every append every N-th step to steps.csv (0: none)
-- @field precision "fp32" (default) or "bf16": matrix products and convolutions in bf16 with fp32 accumulation, as PyTorch's CPU autocast (see ae.precision); a CPU without bf16 units runs fp32 and says so
-- @field quiet print only the result line
-- @field on_nan "stop" (default: a non-finite loss stops the run naming the epoch, step and tensor) or "skip" (the step changes nothing)
-- @field checkpoint write checkpoint.h5 after every epoch (default true; `--no-checkpoint`)
-- @field detect_anomaly check op outputs and gradients for NaN/inf (default true)
-- @field data train on a file or folder of your own (`--data=SPEC`, see ae.data.load)
-- @field test_data the test set's SPEC (default: a 10% split drawn with `--seed`)
-- @field output "sigmoid" (data in [0, 1]) or "linear" (any real values)
-- @field standardize fit a per-feature mean and std on the training split and apply them to both

--- `ae.config` with the run options added.
-- A bare `--resume` means this run's own checkpoint.
-- @param defaults the script's own keys and defaults
-- @param[opt] argv the words (default the global `arg`)
-- @return cfg
-- @return the keys given explicitly
-- @raise on an unknown key, a value of the wrong type, or a bad `--on-nan`/`--output`
-- @usage local cfg = ae.experiment.config({ epochs = 3 }, { "--epochs=5", "--quiet" }); assert(cfg.epochs == 5 and cfg.quiet)
-- @function config

--- Starts a run: makes its directory, resumes when `cfg.resume` says so,
-- traps SIGINT/SIGTERM so that they stop at a step with a checkpoint.
-- Seed the RNG before building the model.
-- @param name the experiment's name
-- @param cfg from `ae.experiment.config`
-- @param[opt] objects `{model =, optimizer =, data =, schedulers = {name = lr_scheduler}}` (data: experiment.data's third result; schedulers are kept in the checkpoint and restored on resume)
-- @return a Run
-- @raise when name is empty, or `--resume=path` names no file
-- @usage local cfg = ae.experiment.config({ epochs = 1 }, { "--quiet" })
-- local run = ae.experiment.start("doc_example", cfg); assert(run.dir == "checkpoints/doc_example/default")
-- @function start

--- "lambda=0.001,seed=2": the settings given on the command line (run options, epochs and patience aside), or "default".
-- @param cfg a config
-- @return a string
-- @usage assert(ae.experiment.run_id(ae.experiment.config({ lr = 0.1 }, { "--lr=0.5" })) == "lr=0.5")
-- @function run_id

--- A standard data set by name.
-- @param name "mnist" or "fashion_mnist"
-- @param split "train" or "test"
-- @param[opt] opts ae.data options (`limit`, `classes`)
-- @return a Dataset
-- @raise on an unknown name
-- @usage assert(#ae.experiment.dataset("mnist", "test", { limit = 10 }) == 10)
-- @function dataset

--- The run's train and test sets, from the dataset or data options
-- (`--dataset`, or `--data` and `--test-data`),
-- standardised with `--standardize`.
-- @param cfg a config (keys dataset, data, test_data, limit, standardize, seed)
-- @param[opt] opts
-- @return train
-- @return test
-- @return `{name =, standardizer =, probe =}`
-- @usage local cfg = ae.experiment.config({ dataset = "mnist", limit = 50, seed = 1 }, {})
-- local train, test = ae.experiment.data(cfg); assert(#train == 50)
-- @function data

--- A data set's samples as the {C, H, W} a convolutional model takes.
-- @param ds a Dataset
-- @param[opt] who the name to use in the error
-- @return a table {C, H, W}
-- @raise when the samples are vectors
-- @usage assert(ae.experiment.image_shape(ae.data.mnist { split = "test", limit = 1 })[2] == 28)
-- @function image_shape

--- A picture of rows of samples (e.g. {x, model(x)}): a grid when samples are images, else a heat map.
-- @param path a .png
-- @param tensors a list of tensors N×D
-- @param ds the Dataset they come from (its sample shape)
-- @param[opt] opts `{nrow =, padding =}`
-- @usage local ds = ae.data.mnist { split = "test", limit = 8 }; ae.experiment.save_samples("s.png", { ds:images() }, ds)
-- @function save_samples

--- The mean over a data set of what loss_fn(x, y) returns, without gradients, in one pass:
-- a loss (tensor or number), or a table name → loss whose means come back as a table.
-- A second result of loss_fn is the count the batch's values cover (default the batch size).
-- On a terminal, an evaluation that takes over a second shows its progress.
-- @param dataset a Dataset
-- @param loss_fn a function(x, y)
-- @param[opt=1000] batch_size
-- @return a number, or a table of numbers
-- @raise when loss_fn returns something else, or the data set is empty
-- @usage local ds = ae.data.tensor(ae.ones(10, 2)); assert(ae.experiment.evaluate(ds, function(x) return x:mean() end) == 1)
-- local m = ae.experiment.evaluate(ds, function(x) return { mean = x:mean(), max = x:max() } end); assert(m.max == 1)
-- @function evaluate

--- Prints `result {json}` and writes dir/result.json (for scripts without a run).
-- @param name the experiment's name
-- @param result a table
-- @param[opt] dir default `checkpoints/<name>`
-- @return the path written
-- @usage assert(ae.experiment.result("doc_example", { loss = 1 }):find("result.json"))
-- @function result

--- Writes a file atomically (a temporary file renamed over it).
-- @param path
-- @param text
-- @raise when it cannot write (naming the path)
-- @usage ae.experiment.write_file("out.txt", "hello\n")
-- @function write_file

--- Wall-clock seconds, `ae.time`.
-- @return a number
-- @usage assert(ae.experiment.time() > 0)
-- @function time

--- A training run (from `ae.experiment.start`).  Fields: `run.dir` (its
-- directory), `run.metrics` (name → list of values, one per epoch),
-- `run.epoch`, `run.step_count`, `run.cfg`, `run.model`, `run.optimizer`.
-- @type Run

--- The run's directory, `checkpoints/<experiment>/<run id>` or the out option.
-- @field Run.dir

--- The metrics recorded so far: name → {value per epoch} (train_loss, test_loss, your own).
-- @field Run.metrics

--- `for epoch in run:epochs() do`: from the resumed epoch on, to cfg.epochs (or last).
-- @param[opt] last the last epoch
-- @return an iterator of epoch numbers
-- @raise when the last epoch is not an integer
-- @usage local cfg = ae.experiment.config({ epochs = 2 }, { "--quiet", "--no-checkpoint" })
-- local model = nn.Linear(2, 2)
-- local opt = ae.optim.SGD(model:parameters(), { lr = 0.1 })
-- local run = ae.experiment.start("doc_example", cfg, { model = model, optimizer = opt })
-- local ds = ae.data.tensor(ae.rand(16, 2))
-- for epoch in run:epochs() do
--   for x in run:batches(ds, 4) do
--     opt:zero_grad()
--     local loss = ae.loss.mse(model(x), x)
--     loss:backward()
--     opt:step()
--     run:step(loss)
--   end
--   run:end_epoch { test_loss = 0 }
-- end
-- run:finish { test_loss = 0 }
-- assert(#run.metrics.train_loss == 2)
-- @function Run:epochs

--- The epoch's batches (shuffled by default) with a progress bar; a resumed run replays the order.
-- @param dataset a Dataset
-- @param[opt] batch_size default cfg.batch_size or 128
-- @param[opt] opts as Dataset:batches (`shuffle = true` by default)
-- @return an iterator of x, y
-- @raise with a sigmoid output, when a batch lies outside [0, 1]
-- @usage local run = ae.experiment.start("doc_example", ae.experiment.config({ epochs = 1 }, { "--quiet" }))
-- for _ in run:epochs() do for x in run:batches(ae.data.tensor(ae.rand(8, 2)), 4) do run:step(x:sum()) end end
-- @function Run:batches

--- Records one optimisation step's loss (a tensor or a number).
-- With `--log-every=N`, every N-th step is a row of steps.csv: step, epoch, batch, loss, lr, then extras.
-- @param loss
-- @param[opt] extras a table name → number for steps.csv (the same names at every step)
-- @return false when the step is skipped (`--on-nan=skip`)
-- @raise with `--on-nan=stop`, on a non-finite loss (naming the epoch, step and tensor)
-- @usage local run = ae.experiment.start("doc_example", ae.experiment.config({ epochs = 1 }, { "--quiet" }))
-- for _ in run:epochs() do run:step(0.5) end
-- @function Run:step

--- Ends an epoch: its metrics (train_loss from run:step, plus those given),
-- one printed line, metrics.csv, loss.png, a checkpoint and, with `--keep-best`, best.h5 when the metric improved.
-- @param[opt] metrics a table name → number
-- @usage local run = ae.experiment.start("doc_example", ae.experiment.config({ epochs = 1 }, { "--quiet" }))
-- for _ in run:epochs() do run:step(0.5); run:end_epoch { test_loss = 0.25 } end; assert(run.metrics.test_loss[1] == 0.25)
-- @function Run:end_epoch

--- The final result: printed as `result {json}`, written to result.json.
-- @param[opt] result a table
-- @return the result (with `seconds`)
-- @usage local run = ae.experiment.start("doc_example", ae.experiment.config({ epochs = 1 }, { "--quiet" }))
-- assert(run:finish({ loss = 1 }).seconds)
-- @function Run:finish

--- A schedule's value at the step about to be taken: a per-step schedule gets the step (from 1), a per-epoch one the epoch.
-- @param s a number, a schedule or a function(epoch)
-- @return a number
-- @usage local run = ae.experiment.start("doc_example", ae.experiment.config({ epochs = 1 }, { "--quiet" }))
-- for _ in run:epochs() do assert(run:value(ae.schedule.linear(0, 1, 2)) == 0); run:step(1) end
-- @function Run:value

--- Records a metric for the current epoch.
-- @param name
-- @param value a number
-- @usage local run = ae.experiment.start("doc_example", ae.experiment.config({ epochs = 1 }, { "--quiet" }))
-- for _ in run:epochs() do run:record("psnr", 20) end; assert(run.metrics.psnr[1] == 20)
-- @function Run:record

--- Writes the checkpoint (model, optimizer, RNG state, metrics).
-- @param[opt] partial where inside an epoch the run stopped (Run:stop), or nil
-- @usage local run = ae.experiment.start("doc_example", ae.experiment.config({ epochs = 1 }, { "--quiet" }), { model = nn.Linear(1, 1) })
-- run:save(); assert(io.open(run.dir .. "/checkpoint.h5"))
-- @function Run:save

--- Continues from a checkpoint ("auto": the run's own).
-- @param from a path or "auto"
-- @raise when a given path has no checkpoint, or it does not fit the model
-- @usage local run = ae.experiment.start("doc_example", ae.experiment.config({ epochs = 1 }, { "--quiet" }), { model = nn.Linear(1, 1) })
-- run:save(); run:resume("auto"); assert(run.resumed)
-- @function Run:resume

--- Every numeric metric of every epoch as loss.png, in panels by kind (ae.image.plot_metrics).
-- @usage local run = ae.experiment.start("doc_example", ae.experiment.config({ epochs = 1 }, { "--quiet" }))
-- for _ in run:epochs() do run:step(1); run:end_epoch() end; run:plot_losses()
-- @function Run:plot_losses

--- Prints a formatted line unless the run is quiet.
-- @param fmt a string.format pattern
-- @param ... its values
-- @usage ae.experiment.start("doc_example", ae.experiment.config({}, {})):say("%d epochs", 3)
-- @function Run:say

--- After a signal: writes a checkpoint of where the epoch stopped, says how
-- to continue, and exits with the signal's conventional status.
-- @param signal "SIGINT" or "SIGTERM"
-- @usage local run = ae.experiment.start("doc_example", ae.experiment.config({}, { "--quiet" }))
-- assert(type(run.stop) == "function")   -- run:stop("SIGTERM") would end the process
-- @function Run:stop

local core = require "aerun.core"

local experiment = {}

local datasets = { mnist = "mnist", fashion_mnist = "fashion_mnist", ["fashion-mnist"] = "fashion_mnist" }

-- experiment.dataset("mnist", "train", {limit = 1000})
function experiment.dataset(name, split, opts)
  local key = datasets[name]
  if not key then
    error(string.format("unknown dataset %q (use mnist or fashion_mnist)", tostring(name)))
  end
  local o = { split = split }
  for k, v in pairs(opts or {}) do o[k] = v end
  return require("aerun.data")[key](o)
end

-- the data a run trains and tests on: --dataset=mnist|fashion_mnist, or
-- --data=SPEC (ae.data.load: an HDF5, .npy, .npz or CSV file, or a folder
-- of images) tested on --test-data=SPEC or, without it, on a 10% split of
-- --data drawn with cfg.seed.  --limit keeps the first samples of each,
-- opts.classes the training samples with these labels only.
-- --standardize fits a per-feature mean and std on the training split and
-- applies them to both; the run's checkpoint keeps them (experiment.start's
-- objects.data), so `aerun eval` scores new data with the same numbers.
-- Returns train, test and {name =, standardizer =, probe =}.
function experiment.data(cfg, opts)
  opts = opts or {}
  local data = require "aerun.data"
  local limit = (cfg.limit or 0) > 0 and cfg.limit or nil
  local spec, test_spec = cfg.data or "", cfg.test_data or ""
  local train, test, name
  if spec == "" then
    if test_spec ~= "" then error("--test-data goes with --data") end
    train = experiment.dataset(cfg.dataset, "train", { limit = limit, classes = opts.classes })
    test = experiment.dataset(cfg.dataset, "test", { limit = limit })
    name = cfg.dataset
  else
    local all = data.load(spec)
    if test_spec ~= "" then
      train, test = all, data.load(test_spec)
    else
      train, test = table.unpack(data.split(all, { 0.9, 0.1 }, cfg.seed))
    end
    if opts.classes ~= nil or limit then train = train:select(opts.classes, limit) end
    if limit then test = test:select(nil, limit) end
    name = spec
  end
  local st
  if cfg.standardize then
    st = data.standardizer(train)
    train, test = train:standardize(st), test:standardize(st)
  end
  -- the first test samples: checkpoints keep the model's outputs on them,
  -- for converters to check themselves against (tools/aerun_torch.py --check)
  local probe = test:batch(1, math.min(8, #test))
  return train, test, { name = name, standardizer = st, probe = probe }
end

-- a data set's samples as the {C, H, W} images a convolutional model
-- takes: H×W samples are one channel; vectors are an error naming who
-- needs images
function experiment.image_shape(ds, who)
  local s = ds:sample_shape()
  if #s == 2 then return { 1, s[1], s[2] } end
  if #s == 3 then return s end
  error(string.format("%s needs images (C×H×W or H×W samples), but the samples of %s are %s; "
    .. "give it a folder of images or an N×C×H×W array", who, ds:name(),
    #s == 1 and "vectors of " .. s[1] .. " values" or table.concat(s, "×")), 0)
end

-- a picture of rows of samples, e.g. {x, model(x)}: a grid of images
-- (opts.nrow a row, opts.padding between them) when the data set's samples are images (H×W, 1×H×W or
-- 3×H×W), else one heat map whose rows are the samples of each tensor in
-- turn.  Values outside [0, 1] are scaled by the first tensor's range.
function experiment.save_samples(path, tensors, ds, opts)
  opts = require("aerun.guard").options("save_samples", opts, { nrow = true, padding = true })
  local image = require "aerun.image"
  local s = ds:sample_shape()
  local first = tensors[1]
  local rows = {}
  for i, t in ipairs(tensors) do rows[i] = t:detach():reshape(t:size(1), -1) end
  local all = core.cat(rows, 1)
  local lo, hi = (first:min()), (first:max())
  local scaled = lo < 0 or hi > 1
  local range = scaled and { lo, hi } or nil
  if #s == 2 or (#s == 3 and (s[1] == 1 or s[1] == 3)) then
    image.save_grid(path, all, { nrow = opts.nrow or first:size(1), padding = opts.padding, shape = s,
      normalize = scaled, range = range })
  else
    image.save(path, all, { normalize = scaled, range = range })
  end
end

-- seconds spent in experiment.evaluate, which a run's training
-- throughput leaves out; and whether the newest run is quiet
local eval_clock, eval_quiet = 0, false

local function number_of(v, name)
  if type(v) == "number" then return v end
  if type(v) == "userdata" and v.item then return v:item() end
  error(string.format("evaluate: loss_fn returned %s for %s, not a number or a tensor", type(v), name), 0)
end

-- the mean over a data set of what loss_fn(x, y) returns: a loss (tensor
-- or number), or a table of them, name -> loss, whose means come back as a
-- table, all from one pass; a second result is the count the batch's
-- values cover (default the batch's size: each value a mean over it).
-- On a terminal it draws its progress once it has taken a second.
function experiment.evaluate(dataset, loss_fn, batch_size)
  batch_size = batch_size or 1000
  local started, drawn = core.time(), false
  local total, sums, n, done = 0, nil, 0, 0
  local nb = dataset.num_batches and dataset:num_batches(batch_size) or 0
  local tty = not eval_quiet and core.isatty(1)
  core.no_grad(function()
    for x, y in dataset:batches(batch_size) do
      local l, count = loss_fn(x, y)
      local b = count or x:size(1)
      if type(l) == "table" then
        sums = sums or {}
        for k, v in pairs(l) do sums[k] = (sums[k] or 0) + number_of(v, tostring(k)) * b end
      else
        total = total + number_of(l, "the loss") * b
      end
      n, done = n + b, done + 1
      local elapsed = core.time() - started
      if tty and elapsed > 1 and nb > 0 then
        drawn = true
        local left = (nb - done) / done * elapsed
        io.stdout:write(string.format("\r\27[Kevaluating %d/%d batches  %.0f samples/s  ETA %ds",
          done, nb, n / elapsed, math.floor(left + 0.5)))
        io.stdout:flush()
      end
    end
  end)
  if drawn then io.stdout:write("\r\27[K") io.stdout:flush() end
  eval_clock = eval_clock + (core.time() - started)
  if n == 0 then error("evaluate: " .. dataset:name() .. " has no samples", 0) end
  if sums then
    local means = {}
    for k, v in pairs(sums) do means[k] = v / n end
    return means
  end
  return total / n
end

experiment.time = core.time

local json = require "aerun.json"
experiment.json = json

-- writes text to path through a temporary file, so readers never see half
-- a file: the library's one writer of text files (aerun.sweep's too).  The
-- temporary name is unique to the process and the call, since runs and
-- shards of a sweep may write the same file (result.json, sweep.csv) at the
-- same moment
local function write_file(path, text)
  local tmp = string.format("%s.%d.%x.tmp", path, core.getpid(), math.random(0, 0x7fffffff))
  local f, err = io.open(tmp, "w")
  if not f then error("cannot write " .. path .. ": " .. tostring(err)) end
  f:write(text)
  f:close()
  local ok, rerr = os.rename(tmp, path)
  if not ok then
    os.remove(tmp)
    error("cannot write " .. path .. ": " .. tostring(rerr))
  end
end
experiment.write_file = write_file

-- best.h5 from checkpoint.h5: a copy, written as atomically as any file here
local function copy_file(from, to)
  local f, err = io.open(from, "rb")
  if not f then error("cannot read " .. from .. ": " .. tostring(err)) end
  local bytes = f:read("a")
  f:close()
  write_file(to, bytes)
end

local function mkdir(dir)
  local ok, err = core.mkdir_p(dir)
  if not ok then error(err) end
end

-- the options every run understands, beside the script's own
local run_options = {
  out = "", resume = "", quiet = false, on_nan = "stop", checkpoint = true, detect_anomaly = true,
  data = "", test_data = "", output = "sigmoid", standardize = false,
  keep_best = "", best_mode = "min", patience = 0, log_every = 0, precision = "fp32",
}
-- options that do not change what is computed, so they do not name the
-- run; epochs and patience say how long to train, so a run continued with
-- --epochs=20 --resume is the run that stopped at 10
local not_in_run_id = {
  out = true, resume = true, quiet = true, on_nan = true, checkpoint = true, detect_anomaly = true,
  epochs = true, keep_best = true, best_mode = true, patience = true, log_every = true,
}

-- ae.config with the run options added; a bare --resume means "this run's
-- own checkpoint" (--resume=last), which must exist; --resume=auto
-- continues it when it exists and starts afresh when not
function experiment.config(defaults, argv)
  local config = require "aerun.config"
  local all = {}
  for k, v in pairs(run_options) do all[k] = v end
  for k, v in pairs(defaults) do all[k] = v end
  argv = argv or rawget(_G, "arg") or {}
  local words = {}
  for i, w in pairs(argv) do
    words[i] = (w == "--resume") and "--resume=last" or w
  end
  local cfg, explicit = config.parse(all, words)
  if cfg.on_nan ~= "stop" and cfg.on_nan ~= "skip" then
    error("--on-nan must be stop or skip, got " .. cfg.on_nan)
  end
  if cfg.output ~= "sigmoid" and cfg.output ~= "linear" then
    error("--output must be sigmoid (data in [0, 1]) or linear (any real values), got " .. cfg.output)
  end
  if cfg.best_mode ~= "min" and cfg.best_mode ~= "max" then
    error("--best-mode must be min or max, got " .. cfg.best_mode)
  end
  if math.type(cfg.patience) ~= "integer" or cfg.patience < 0 then
    error("--patience must be an integer >= 0 (0: never stop early), got " .. tostring(cfg.patience))
  end
  if math.type(cfg.log_every) ~= "integer" or cfg.log_every < 0 then
    error("--log-every must be an integer >= 0 (0: no steps.csv), got " .. tostring(cfg.log_every))
  end
  if cfg.precision ~= "fp32" and cfg.precision ~= "bf16" then
    error("--precision must be fp32 or bf16, got " .. tostring(cfg.precision))
  end
  core.precision(cfg.precision)
  return cfg, explicit
end

local function format_value(v)
  if math.type(v) == "float" then return string.format("%g", v) end
  return tostring(v)
end

-- "lambda=0.001,seed=2" from the settings given on the command line
function experiment.run_id(cfg)
  local explicit = require("aerun.config").explicit(cfg) or {}
  local keys = {}
  for k in pairs(explicit) do
    if not not_in_run_id[k] then keys[#keys + 1] = k end
  end
  table.sort(keys)
  if #keys == 0 then return "default" end
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = k .. "=" .. format_value(cfg[k]) end
  return (table.concat(parts, ","):gsub("[/%s]", "_"))
end

-- progress: redrawn in place on a terminal, one line per epoch otherwise
local Progress = {}
Progress.__index = Progress

local function new_progress(quiet)
  return setmetatable({ tty = core.isatty(1), quiet = quiet, last_draw = 0 }, Progress)
end

local function eta(seconds)
  if seconds >= 3600 then return string.format("%dh%02dm", seconds // 3600, seconds % 3600 // 60) end
  if seconds >= 60 then return string.format("%dm%02ds", seconds // 60, seconds % 60) end
  return string.format("%ds", math.floor(seconds))
end

function Progress:draw(epoch, epochs, done, total, samples, loss, elapsed, final)
  if self.quiet or not self.tty then return end
  local now = core.time()
  if not final and (now - self.last_draw < 0.2 or elapsed < 0.2) then return end
  self.last_draw = now
  local width = 24
  local filled = total > 0 and math.floor(width * done / total) or width
  local rate = elapsed > 0 and samples / elapsed or 0
  local left = rate > 0 and (total - done) / done * elapsed or 0
  io.stdout:write(string.format("\r\27[Kepoch %d/%d [%s%s] %d/%d  loss %.5g  %.0f samples/s  ETA %s",
    epoch, epochs, string.rep("=", filled), string.rep(" ", width - filled), done, total,
    loss, rate, eta(left)))
  io.stdout:flush()
end

function Progress:clear()
  if not self.quiet and self.tty then io.stdout:write("\r\27[K") end
end

local Run = {}
Run.__index = Run
-- the run's internals, defined with the methods that use them
local log_step, trim_steps_csv, train_seconds, watched, best, patience_exhausted, write_checkpoint

-- objects: {model =, optimizer =, data =} (data: experiment.data's third
-- result, whose standardizer the checkpoints keep).  Seed the RNG (ae.manual_seed) before
-- building the model; a resumed run then overwrites parameters and RNG.
local function exists(path) return os.rename(path, path) ~= nil end

-- the directories mkdir_p(dir) would make, deepest first
local function missing_dirs(dir)
  local list = {}
  local d = dir:gsub("/+$", "")
  while d ~= "" and d ~= "." and d ~= "/" and not exists(d) do
    list[#list + 1] = d
    d = d:match("^(.*)/[^/]*$") or ""
  end
  return list
end

-- A run that recorded nothing (no epoch ended, no checkpoint, no result)
-- leaves no folder behind: the directories its start made are removed
-- when they hold nothing but its config.json.  Called when a start fails,
-- and by the collector for a run that became unreachable (a failed run of
-- a sweep) or at exit (a script that failed before its first epoch ended).
local function discard_if_unused(run)
  if run.recorded or not run.made_dirs or #run.made_dirs == 0 then return end
  local made = run.made_dirs
  run.made_dirs = nil
  local config_path = run.dir .. "/config.json"
  local aside = made[#made] .. ".config.json.discarded"
  local moved = exists(config_path) and os.rename(config_path, aside)
  if os.remove(run.dir) then
    if moved then os.remove(aside) end
    for i = 2, #made do
      if not os.remove(made[i]) then break end
    end
  elseif moved then
    os.rename(aside, config_path)
  end
end

function experiment.start(name, cfg, objects)
  if type(name) ~= "string" or name == "" then error("experiment.start: expects a name") end
  objects = objects or {}
  local run = setmetatable({
    name = name, cfg = cfg, model = objects.model, optimizer = objects.optimizer, data = objects.data,
    schedulers = objects.schedulers,
    metrics = {}, metric_names = {}, step_count = 0, start_epoch = 1, epoch = 0,
    progress = new_progress(cfg.quiet), started = core.time(), quiet = cfg.quiet,
  }, Run)
  eval_quiet = cfg.quiet
  run.root = "checkpoints/" .. name
  run.id = experiment.run_id(cfg)
  run.dir = (cfg.out ~= nil and cfg.out ~= "") and cfg.out or (run.root .. "/" .. run.id)
  run.made_dirs = missing_dirs(run.dir)
  mkdir(run.dir)
  run.checkpoint_path = run.dir .. "/checkpoint.h5"
  run.best_path = run.dir .. "/best.h5"
  if cfg.resume and cfg.resume ~= "" then
    local ok, err = pcall(run.resume, run, cfg.resume)
    if not ok then
      discard_if_unused(run)
      error(err, 0)
    end
  end
  -- SIGINT and SIGTERM (what Slurm sends before preempting) end the
  -- current step, then the run saves a checkpoint and exits (see Run:step)
  if core.trap_signals then core.trap_signals(true) end
  -- on by default: a run that goes non-finite then says which op did it
  -- first; it costs a few percent of a step (--detect-anomaly=false saves it)
  if cfg.detect_anomaly then core.detect_anomaly(true) end
  -- --on-nan=skip: the optimizer leaves the parameters alone when a
  -- gradient is not finite, and Run:step says the step was skipped
  if cfg.on_nan == "skip" and type(run.optimizer) == "table" then run.optimizer.skip_nonfinite = true end
  write_file(run.dir .. "/config.json", json.encode(cfg) .. "\n")
  return run
end

function Run:say(fmt, ...)
  if not self.quiet then print(string.format(fmt, ...)) end
end

Run.__gc = discard_if_unused

-- from: "last" (this run's checkpoint, which must exist), "auto" (this
-- run's checkpoint when there is one, else a fresh start) or a path
function Run:resume(from)
  local own = from == "auto" or from == "last"
  local path = own and self.checkpoint_path or from
  local f = io.open(path, "rb")
  if not f then
    if from == "auto" then
      self:say("no checkpoint at %s: starting from scratch (--resume=auto)", path)
      return
    end
    if own then
      error(string.format("--resume: nothing to resume: no checkpoint at %s (the run id comes from the "
        .. "options given, so give the same ones; --resume=auto starts afresh when there is none)", path), 0)
    end
    error("--resume: no checkpoint at " .. path, 0)
  end
  f:close()
  local state = require("aerun.checkpoint").load(path, { model = self.model, optimizer = self.optimizer,
    schedulers = self.schedulers })
  self.resumed = true
  self.partial = state.partial
  self.epoch = state.epoch or 0
  self.start_epoch = self.epoch + 1
  self.step_count = state.step or 0
  -- the wall time of the sessions before, so result.seconds is the run's
  self.started = core.time() - (state.seconds or 0)
  for k, series in pairs(state.metrics or {}) do
    self.metrics[k] = series
    self.metric_names[#self.metric_names + 1] = k
  end
  table.sort(self.metric_names)
  trim_steps_csv(self)
  local last = self.cfg.epochs
  if math.type(last) == "integer" and self.epoch >= last and not self.partial then
    self:say("the checkpoint is at epoch %d and --epochs=%d: nothing left to train (give a larger "
      .. "--epochs to continue)", self.epoch, last)
  end
  if self.partial then
    self:say("resumed from %s in epoch %d after batch %d (step %d)", path, self.epoch + 1,
      self.partial.batch, self.step_count)
  else
    self:say("resumed from %s after epoch %d (step %d)", path, self.epoch, self.step_count)
  end
end

-- for epoch in run:epochs() do ... end, from the resumed epoch on
function Run:epochs(last)
  last = last or self.cfg.epochs
  if math.type(last) ~= "integer" then
    error("epochs: the last epoch must be an integer (an argument or cfg.epochs), got " .. require("aerun.guard").value(last))
  end
  local e = self.start_epoch - 1
  return function()
    e = e + 1
    if e > last then return nil end
    local stop = patience_exhausted(self)
    if stop then
      self.stopped_early = true
      self:say("%s", stop)
      return nil
    end
    self.epoch = e
    self.epoch_started = core.time()
    self.eval_mark = eval_clock
    self.epoch_samples, self.epoch_loss, self.epoch_batches = 0, 0, 0
    local q = self.partial
    if q and e == self.start_epoch then
      -- the part of the epoch before the stop counts in its time and samples
      self.epoch_samples, self.epoch_loss, self.epoch_batches = q.samples or 0, q.loss_sum or 0, q.batches or 0
      self.epoch_started = self.epoch_started - (q.seconds or 0)
      self.eval_mark = eval_clock - (q.eval_seconds or 0)
    end
    return e
  end
end

-- seconds of the current epoch spent training (evaluation left out)
function train_seconds(self)
  return core.time() - self.epoch_started - (eval_clock - (self.eval_mark or eval_clock))
end

-- a sigmoid output cannot reconstruct values outside [0, 1]: say so at
-- the first batch that has them rather than train a model that cannot fit
local function check_unit_range(x, dataset, batch)
  local lo, hi = (x:min()), (x:max())
  if lo < 0 or hi > 1 then
    error(string.format("--output=sigmoid needs data in [0, 1], but batch %d of %s holds values in "
      .. "[%.4g, %.4g]: train with --output=linear (MSE), or scale the data into [0, 1]",
      batch, dataset:name(), lo, hi), 0)
  end
end

-- the epoch's batches, shuffled, with a progress bar
function Run:batches(dataset, batch_size, opts)
  batch_size = batch_size or self.cfg.batch_size or 128
  local o = { shuffle = true }
  for k, v in pairs(opts or {}) do o[k] = v end
  local nb = dataset:num_batches(batch_size, o)
  -- the RNG state as the epoch begins fixes its data order: a checkpoint
  -- taken inside the epoch keeps it, so a resumed run replays the order
  local q = self.partial
  local now_state
  if q and self.epoch == self.start_epoch then
    now_state = core.rng_state()
    core.set_rng_state(q.epoch_rng_state)
  end
  self.epoch_rng = core.rng_state()
  local it = dataset:batches(batch_size, o)
  local done = 0
  if now_state then
    for _ = 1, q.batch do it() end
    done = q.batch
    core.set_rng_state(now_state)
    self.partial = nil
  end
  self.batch_in_epoch = done
  self.batches_total = nb
  return function()
    local x, y = it()
    if x == nil then
      self.progress:draw(self.epoch, self.cfg.epochs, done, nb, self.epoch_samples,
        self.epoch_batches > 0 and self.epoch_loss / self.epoch_batches or 0,
        train_seconds(self), true)
      self.progress:clear()
      return nil
    end
    done = done + 1
    if self.cfg.output == "sigmoid" and (self.cfg.data or "") ~= "" then check_unit_range(x, dataset, done) end
    self.batch_in_epoch = done
    self.current_batch_size = x:size(1)
    return x, y
  end
end

-- SIGINT or SIGTERM came during the step: checkpoint and exit
local function stop_if_interrupted(run)
  local signal = core.interrupted and core.interrupted()
  if signal then run:stop(signal) end
end

-- records one optimisation step's loss (a tensor or a number); false when
-- the step is skipped (--on-nan=skip and a non-finite loss or gradient)
function Run:step(loss, extras)
  local v = type(loss) == "number" and loss or loss:item()
  local finite = v == v and v ~= math.huge and v ~= -math.huge
  local opt = self.optimizer
  local update_skipped = type(opt) == "table" and (opt.skipped or 0) > (self.updates_skipped or 0)
  if update_skipped then self.updates_skipped = opt.skipped end
  if not finite or update_skipped then
    local where = string.format("epoch %d, step %d", self.epoch, self.step_count + 1)
    local first = self.cfg.detect_anomaly and core.anomaly()
    local cause = first and ("; first non-finite tensor: " .. first.message)
      or (self.cfg.detect_anomaly and "" or " (--detect-anomaly names the first non-finite tensor)")
    if self.cfg.on_nan == "skip" then
      -- on stderr, --quiet or not: the run goes on, but not as asked
      io.stderr:write(string.format("warning: %s at %s%s: step skipped%s\n",
        finite and "a gradient is not finite" or ("loss is " .. tostring(v)), where, cause,
        update_skipped and "" or " (the optimizer's update ran: give the run its optimizer to skip it)"))
      if first then core.clear_anomaly() end
      stop_if_interrupted(self)
      return false
    end
    local f = io.open(self.checkpoint_path, "rb")
    local kept = f and ("the last good checkpoint is " .. self.checkpoint_path) or "no checkpoint was written yet"
    if f then f:close() end
    error(string.format("%s at %s%s; %s (rerun with --on-nan=skip to skip such steps)",
      finite and "a gradient became non-finite" or ("loss became " .. tostring(v)), where, cause, kept))
  end
  self.step_count = self.step_count + 1
  self.epoch_batches = self.epoch_batches + 1
  self.epoch_loss = self.epoch_loss + v
  self.epoch_samples = self.epoch_samples + (self.current_batch_size or 0)
  self.progress:draw(self.epoch, self.cfg.epochs, self.batch_in_epoch or self.epoch_batches,
    self.batches_total or 0, self.epoch_samples, self.epoch_loss / self.epoch_batches,
    train_seconds(self))
  if self.cfg.log_every > 0 and self.step_count % self.cfg.log_every == 0 then log_step(self, v, extras) end
  stop_if_interrupted(self)
  return true
end

-- steps.csv: step, epoch, batch, loss, lr (with an optimizer), then the
-- step's extras in name order; the columns are fixed by the first row
function log_step(self, loss, extras)
  local names = {}
  for k, v in pairs(extras or {}) do
    if type(k) ~= "string" or type(v) ~= "number" then
      error(string.format("step: extras must map names to numbers, got %s = %s", tostring(k), type(v)))
    end
    names[#names + 1] = k
  end
  table.sort(names)
  local lr = type(self.optimizer) == "table" and tonumber(self.optimizer.lr) or nil
  local header = { "step", "epoch", "batch", "loss" }
  if lr then header[#header + 1] = "lr" end
  for _, k in ipairs(names) do header[#header + 1] = k end
  header = table.concat(header, ",")
  local path = self.dir .. "/steps.csv"
  if not self.steps_file then
    local old = io.open(path, "rb")
    local first = old and old:read("l")
    if old then old:close() end
    if first and first ~= header then
      error(string.format("%s has the columns %s, but step %d logs %s", path, first, self.step_count, header), 0)
    end
    self.steps_file = assert(io.open(path, "ab"))
    if not first then self.steps_file:write(header, "\n") end
    self.steps_header = header
  elseif header ~= self.steps_header then
    error(string.format("step %d logs %s, but steps.csv has the columns %s (the extras given to run:step "
      .. "must be the same at every logged step)", self.step_count, header, self.steps_header), 0)
  end
  local row = { tostring(self.step_count), tostring(self.epoch), tostring(self.batch_in_epoch or 0),
    string.format("%.9g", loss) }
  if lr then row[#row + 1] = string.format("%.9g", lr) end
  for _, k in ipairs(names) do row[#row + 1] = string.format("%.9g", extras[k]) end
  self.steps_file:write(table.concat(row, ","), "\n")
  self.steps_file:flush()
end

-- on resume: the rows steps.csv got after the checkpoint was taken go, as
-- those steps run again
function trim_steps_csv(self)
  local path = self.dir .. "/steps.csv"
  local f = io.open(path, "rb")
  if not f then return end
  local lines = { f:read("l") }
  for line in f:lines() do
    local step = math.tointeger(tonumber(line:match("^([^,]*)")))
    if step and step <= self.step_count then lines[#lines + 1] = line end
  end
  f:close()
  write_file(path, table.concat(lines, "\n") .. "\n")
end

-- a schedule's value at the step about to be taken: per-step schedules
-- get the step (from 1), per-epoch ones and plain functions the epoch
function Run:value(s)
  return require("aerun.schedule").value(s, math.max(self.epoch, 1), self.step_count + 1)
end

-- the command that resumes this run: the same script and arguments, plus --resume
local function resume_command()
  local words = { "aerun", type(arg) == "table" and arg[0] or "script.lua" }
  local has = false
  for i = 1, type(arg) == "table" and #arg or 0 do
    words[#words + 1] = arg[i]
    if arg[i]:match("^%-%-resume") then has = true end
  end
  if not has then words[#words + 1] = "--resume" end
  return table.concat(words, " ")
end

-- after a signal: a checkpoint that records where in the epoch the run
-- stopped, a message saying how to continue, and the conventional exit code
function Run:stop(signal)
  self.progress:clear()
  local codes = { SIGINT = 130, SIGTERM = 143 }
  if self.model and self.cfg.checkpoint ~= false then
    self:save {
      batch = self.batch_in_epoch or 0, epoch_rng_state = self.epoch_rng, loss_sum = self.epoch_loss,
      batches = self.epoch_batches, samples = self.epoch_samples,
      seconds = core.time() - self.epoch_started, eval_seconds = eval_clock - (self.eval_mark or eval_clock),
    }
    io.stderr:write(string.format("aerun: %s in epoch %d after batch %d (step %d); checkpoint saved to %s\n"
      .. "aerun: resume with: %s\n", signal, self.epoch, self.batch_in_epoch or 0, self.step_count,
      self.checkpoint_path, resume_command()))
  else
    io.stderr:write(string.format("aerun: %s in epoch %d; no checkpoint was written\n", signal, self.epoch))
  end
  io.stderr:flush()
  os.exit(codes[signal] or 1, true)
end

function Run:record(name, value)
  if not self.metrics[name] then
    self.metrics[name] = {}
    self.metric_names[#self.metric_names + 1] = name
  end
  local series = self.metrics[name]
  series[self.epoch] = value
end

-- the columns lead with epoch, step, seconds and the losses, then the rest
local leading = { step = 1, seconds = 2, train_loss = 3, test_loss = 4 }

local function csv(self)
  local names = {}
  for i, n in ipairs(self.metric_names) do names[i] = n end
  table.sort(names, function(a, b)
    local pa, pb = leading[a] or 99, leading[b] or 99
    if pa ~= pb then return pa < pb end
    return a < b
  end)
  self.metric_names = names
  local cols = { "epoch" }
  for _, n in ipairs(self.metric_names) do cols[#cols + 1] = n end
  local lines = { table.concat(cols, ",") }
  for e = 1, self.epoch do
    local row = { tostring(e) }
    for _, n in ipairs(self.metric_names) do
      local v = self.metrics[n][e]
      row[#row + 1] = v == nil and "" or string.format("%.10g", v)
    end
    lines[#lines + 1] = table.concat(row, ",")
  end
  return table.concat(lines, "\n") .. "\n"
end

-- every numeric metric so far as loss.png, in panels by kind (losses,
-- KL and regularisers, schedules, throughput, the others)
function Run:plot_losses()
  local ok, image = pcall(require, "aerun.image")
  if not ok or not image.plot_metrics then return end
  image.plot_metrics(self.dir .. "/loss.png", self.metrics,
    { title = self.name .. " " .. self.id, names = self.metric_names })
end

-- the metric --keep-best and --patience watch (test_loss for --patience
-- alone), or nil
function watched(self)
  if self.cfg.keep_best ~= "" then return self.cfg.keep_best end
  if (self.cfg.patience or 0) > 0 then return "test_loss" end
  return nil
end

-- the best epoch so far of the watched metric and its value (NaN never
-- best; on a tie the earlier epoch stays best)
function best(self)
  local name = watched(self)
  local series = name and self.metrics[name]
  if not series then return nil end
  local larger = self.cfg.best_mode == "max"
  local best_e, best_v
  for e = 1, self.epoch do
    local v = series[e]
    if v and v == v and (best_v == nil or (larger and v > best_v) or (not larger and v < best_v)) then
      best_e, best_v = e, v
    end
  end
  return best_e, best_v, name
end

-- a message when --patience epochs have passed without a better value
function patience_exhausted(self)
  local patience = self.cfg.patience or 0
  if patience <= 0 or self.epoch == 0 then return nil end
  local best_e, best_v, name = best(self)
  if self.epoch - (best_e or 0) < patience then return nil end
  return string.format("early stop after epoch %d: %s has not improved for %d epoch%s (best %.6g at epoch %s)",
    self.epoch, name, self.epoch - (best_e or 0), patience == 1 and "" or "s", best_v or 0 / 0, tostring(best_e))
end

-- ends an epoch: its metrics (train_loss from run:step, plus those given),
-- one printed line, metrics.csv, the loss curve, a checkpoint and, with
-- --keep-best, best.h5 when the watched metric improved
function Run:end_epoch(metrics)
  local seconds = core.time() - self.epoch_started
  local eval_seconds = eval_clock - (self.eval_mark or eval_clock)
  local train_seconds = seconds - eval_seconds
  if self.epoch_batches > 0 then self:record("train_loss", self.epoch_loss / self.epoch_batches) end
  local keys = {}
  for k in pairs(metrics or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do self:record(k, metrics[k]) end
  self:record("seconds", seconds)
  self:record("eval_seconds", eval_seconds)
  self:record("samples_per_second", train_seconds > 0 and self.epoch_samples / train_seconds or 0)
  self:record("step", self.step_count)
  self.recorded = true
  local metric = watched(self)
  if metric and (self.metrics[metric] or {})[self.epoch] == nil then
    local have = {}
    for _, n in ipairs(self.metric_names) do have[#have + 1] = n end
    table.sort(have)
    error(string.format("--%s watches %s, but epoch %d recorded no %s (it recorded %s)",
      self.cfg.keep_best ~= "" and "keep-best" or "patience", metric, self.epoch, metric,
      table.concat(have, ", ")), 0)
  end
  local parts = { string.format("epoch %d/%d", self.epoch, self.cfg.epochs) }
  if self.metrics.train_loss and self.metrics.train_loss[self.epoch] then
    parts[#parts + 1] = string.format("train_loss %.6g", self.metrics.train_loss[self.epoch])
  end
  for _, k in ipairs(keys) do parts[#parts + 1] = string.format("%s %.6g", k, metrics[k]) end
  parts[#parts + 1] = string.format(eval_seconds >= 0.05 and "%.1fs (eval %.1fs)  %.0f samples/s" or "%.1fs%s  %.0f samples/s",
    seconds, eval_seconds >= 0.05 and eval_seconds or "", self.metrics.samples_per_second[self.epoch])
  local best_e = best(self)
  if self.cfg.keep_best ~= "" and best_e == self.epoch then parts[#parts + 1] = "best" end
  self:say("%s", table.concat(parts, "  "))
  write_file(self.dir .. "/metrics.csv", csv(self))
  self:plot_losses()
  if self.cfg.checkpoint ~= false and self.model then self:save() end
  if self.cfg.keep_best ~= "" and best_e == self.epoch and self.model then
    if self.cfg.checkpoint ~= false then
      copy_file(self.checkpoint_path, self.best_path)
    else
      write_checkpoint(self, self.best_path)
    end
  end
end

-- partial: where inside the current epoch the run stopped (Run:stop), or nil
-- at the end of an epoch
function Run:save(partial)
  write_checkpoint(self, self.checkpoint_path, partial)
  self.recorded = true
  -- latest.h5 beside the experiment's runs, for runs that live there (a
  -- run elsewhere, with --out, leaves the experiment's directory alone)
  local inside = self.dir:sub(1, #self.root + 1) == self.root .. "/"
  if inside then
    local latest = self.root .. "/latest.h5"
    local tmp = string.format("%s.%d.tmp", latest, core.getpid())
    os.remove(tmp)
    if core.symlink(self.checkpoint_path:sub(#self.root + 2), tmp) then os.rename(tmp, latest) end
  end
end

function write_checkpoint(self, path, partial)
  local checkpoint = require "aerun.checkpoint"
  checkpoint.save(path, {
    model = self.model, optimizer = self.optimizer, partial = partial, seconds = core.time() - self.started,
    schedulers = self.schedulers,
    epoch = partial and self.epoch - 1 or self.epoch, step = self.step_count,
    config = self.cfg, metrics = self.metrics, seed = self.cfg.seed,
    script = type(arg) == "table" and arg[0] or nil,
    data = self.data and { source = self.data.name, output = self.cfg.output,
      standardizer = self.data.standardizer },
    probe = self.data and self.data.probe,
  })
end

-- the final result: printed as "result {json}" and written to result.json in
-- the run directory and beside the experiment's runs
function Run:finish(result)
  result = result or {}
  self.recorded = true
  result.run_id = result.run_id or self.id
  result.run_dir = result.run_dir or self.dir
  result.seconds = result.seconds or (core.time() - self.started)
  local best_e, best_v, metric = best(self)
  if best_e then
    result.best_epoch = result.best_epoch or best_e
    result["best_" .. metric] = result["best_" .. metric] or best_v
  end
  if self.stopped_early then result.stopped_early = true end
  if self.steps_file then
    self.steps_file:close()
    self.steps_file = nil
  end
  local text = json.encode(result)
  write_file(self.dir .. "/result.json", text .. "\n")
  if self.dir:sub(1, #self.root + 1) == self.root .. "/" then
    write_file(self.root .. "/result.json", text .. "\n")
  end
  print("result " .. text)
  return result
end

-- prints "result {json}" and writes dir/result.json (dir defaults to
-- checkpoints/<name>), for scripts that do not use a run
function experiment.result(name, result, dir)
  dir = dir or ("checkpoints/" .. name)
  mkdir(dir)
  local text = json.encode(result)
  write_file(dir .. "/result.json", text .. "\n")
  print("result " .. text)
  return dir .. "/result.json"
end

require("aerun.guard").class("Run", Run)
return require("aerun.guard").module("ae.experiment", experiment)
