-- aerun.sweep: hyperparameter sweeps written as plain Lua loops (ae.sweep).
--
-- An experiment that a sweep can run keeps its body in a function of cfg
-- that returns the result table (what run:finish returns), and ends with
--
--   return sweep.experiment("sparse_ae_mnist", defaults, train)
--
-- Run as a script, the file reads cfg from its command line and trains;
-- loaded by sweep.load, it hands {name, defaults, run = train} to the sweep
-- instead.  A sweep script:
--
--   local s = sweep.new("sweep_sparsity", sweep.load "sparse_ae_mnist")
--   for _, cfg in ipairs(s:grid { penalty = { "kl", "l1" }, lambda = { 1e-4, 1e-3 } }) do
--     s:run(cfg)             -- or any loop over s:config{lambda = ...}
--   end
--   s:finish()               -- s:run_all(configs) is the loop plus finish
--
-- sweep.new reads the sweep script's command line: the experiment's own
-- options (they apply to every run: --epochs=1 --limit=500), the run
-- options (--quiet, --resume, ...), and
--   --shard=K/N   run only configs K+1, K+1+N, ... of the sweep; K counts
--                 from 0, so --shard=$SLURM_ARRAY_TASK_ID/16 works as it is
--   --out=DIR     the sweep's directory, checkpoints/<sweep name> by default
-- Every config runs in DIR/<run id>/ (the run id names the values given on
-- the command line and by the sweep, "lambda=0.001,penalty=kl").  A config
-- whose result.json exists is not run again, so an interrupted sweep
-- resumes where it stopped (--resume also continues the interrupted run,
-- from its last checkpoint).  A run that fails is reported and the sweep
-- goes on; finish then raises an error naming the failed runs.
--
-- s:finish() writes DIR/sweep.json (the runs, in order) and DIR/sweep.csv
-- (one row per run: the config values that name runs, the final metrics of
-- result.json, the run directory) and prints the table.  A shard writes
-- sweep.csv only when every run of the sweep has its result, so the last
-- shard to end leaves the whole summary.  From the command line:
--   aerun --sweep-list script.lua [args]   one shell command per config
--                                          (the script with --shard=i/N, N = #configs)
--   aerun --sweep-count script.lua [args]  the number of configs N, the size
--                                          of a Slurm array (tools/slurm/sweep.sbatch)
--   aerun --sweep-collect DIR              DIR/sweep.csv from the runs under DIR

--- Hyperparameter sweeps written as plain Lua loops: `ae.sweep`.
--
-- A config whose result.json exists is not run again (an interrupted
-- sweep resumes); `--shard=K/N` runs configs K+1, K+1+N, ...; a failed run
-- is reported and the sweep goes on.  See README.md's Sweeps.
-- @module aerun.sweep

--- The end of an experiment script: runs train on the command line's
-- config when the file is the script, or hands the experiment to `sweep.load`.
-- @param name the experiment's name
-- @param defaults its config defaults
-- @param train function(cfg) → result table
-- @return train's result (run as a script), or `{name, defaults, run}` (loaded)
-- @raise on a missing name, defaults or function
-- @usage -- at the end of experiments/my_ae.lua:
-- local function train(cfg) return { loss = cfg.lr } end
-- local r = ae.sweep.experiment("my_ae", { lr = 0.1 }, train); assert(r.loss == 0.1)
-- @function experiment

--- The experiment of a script that ends with `sweep.experiment` (looked for
-- beside the calling script, then from the current directory, then in its experiments/).
-- @param name a file name, with or without `.lua`
-- @return `{name =, defaults =, run =, path =}`
-- @raise when the file does not load or does not end with sweep.experiment
-- @usage assert(ae.sweep.load("sparse_ae_mnist").defaults.lambda)
-- @function load

--- A sweep.
-- @param name the sweep's name (its directory is `checkpoints/<name>` or `--out`)
-- @param spec what sweep.load returns, or any `{defaults = {...}, run = function(cfg) end}`
-- @param[opt] opts `{argv =}` (default the global `arg`) or `{base = cfg}`
-- @return a Sweep
-- @usage local s = ae.sweep.new("doc_sweep", { defaults = { x = 1 }, run = function(cfg) return { loss = cfg.x } end }, { argv = { "--quiet" } })
-- for _, x in ipairs { 1, 2 } do assert(s:run(s:config { x = x }).loss == x) end
-- s:finish()   -- checkpoints/doc_sweep/sweep.json and sweep.csv
-- @function new

--- base with changes, as ae.config would read them from a command line (types checked).
-- @param base a config
-- @param changes a table key → value
-- @return a config whose explicit keys are base's plus those changed
-- @raise on a value of the wrong type or a sweep-only key (`shard`, `out`)
-- @usage local base = ae.config({ lr = 0.1, n = 1 }, {}); assert(ae.sweep.derive(base, { n = 4 }).n == 4)
-- @function derive

--- Every combination of the axes' values as a config (keys in alphabetical order, the first varying slowest).
-- @param base a config
-- @param axes `{key = {values...}}`
-- @return a list of configs
-- @raise when an axis is not a non-empty list
-- @usage local base = ae.config({ a = 1, b = "x" }, {}); assert(#ae.sweep.grid(base, { a = { 1, 2 }, b = { "x", "y", "z" } }) == 6)
-- @function grid

--- "K/N" → K, N (0 ≤ K < N); nil or "" → 0, 1.
-- @param text
-- @return K
-- @return N
-- @raise when the text is not K/N with K below N (saying how to give a Slurm array)
-- @usage local k, n = ae.sweep.parse_shard("1/4"); assert(k == 1 and n == 4)
-- @function parse_shard

--- The configs, of 1..count, that shard K of N runs.
-- @param count
-- @param k
-- @param n
-- @return a list of indices
-- @usage assert(table.concat(ae.sweep.shard_indices(5, 1, 2), ",") == "2,4")
-- @function shard_indices

--- Merges the results under dir into dir/sweep.csv.
-- @param dir a sweep's directory
-- @param[opt] opts `{quiet = false, write = true}`
-- @return the summary `{columns =, rows =, missing =}`
-- @usage ae.mkdir_p("sw/a=1"); ae.experiment.write_file("sw/a=1/result.json", '{"loss": 1}')
-- assert(#ae.sweep.collect("sw", { quiet = true }).rows == 1)
-- @function collect

--- A summary as aligned text columns, numbers right-aligned.
-- @param summary `{columns =, rows = {{values = {...}}}}`
-- @return a string
-- @usage assert(ae.sweep.format_table({ columns = { "a" }, rows = { { values = { 1 } } } }):find("a"))
-- @function format_table

--- For the sweep-list command: sweeps count their configs instead of running them.
-- `aerun --sweep-list` (and `--sweep-count`) calls it before the script.
-- @param[opt] option the command's option, named in its errors (default `"--sweep-list"`)
-- @usage assert(type(ae.sweep.begin_listing) == "function")   -- called by aerun before the script
-- @function begin_listing

--- For the sweep-list command: one shell command per config.
-- `aerun --sweep-list` calls it after the script ran in list mode.
-- @param program how aerun was invoked
-- @return a list of commands
-- @usage assert(type(ae.sweep.list_commands) == "function")   -- called by aerun after the script
-- @function list_commands

--- For the sweep-count command: the number of configs of the sweep, printed
-- (the size of a Slurm array, `sbatch --array=0-$((N - 1))`).
-- `aerun --sweep-count` calls it after the script ran in list mode.
-- @return the count
-- @raise when the script made no sweep, several, or one without configs or `--shard`
-- @usage assert(type(ae.sweep.print_count) == "function")   -- called by aerun after the script
-- @function print_count

--- A sweep (from sweep.new).
-- @type Sweep

--- The sweep's base config with changes.
-- @param[opt] changes a table key → value
-- @return a config
-- @usage local s = ae.sweep.new("doc_sweep", { defaults = { x = 1 }, run = function() return {} end }, { argv = {} }); assert(s:config { x = 3 }.x == 3)
-- @function Sweep:config

--- Every combination of the axes over the base config (sweep.grid).
-- @param axes `{key = {values...}}`
-- @return a list of configs
-- @usage local s = ae.sweep.new("doc_sweep", { defaults = { x = 1 }, run = function() return {} end }, { argv = {} }); assert(#s:grid { x = { 1, 2 } } == 2)
-- @function Sweep:grid

--- Runs a config unless another shard owns it or its result exists.
-- @param cfg a config
-- @return its result, or nil when not run here or failed
-- @usage local s = ae.sweep.new("doc_sweep", { defaults = { x = 1 }, run = function(cfg) return { y = cfg.x } end }, { argv = { "--quiet" } }); assert(s:run(s:config { x = 5 }).y == 5)
-- @function Sweep:run

--- Every config in turn, then finish.
-- @param configs a list
-- @return the summary
-- @usage local s = ae.sweep.new("doc_sweep", { defaults = { x = 1 }, run = function(cfg) return { y = cfg.x } end }, { argv = { "--quiet" } }); s:run_all(s:grid { x = { 1, 2 } })
-- @function Sweep:run_all

--- Writes sweep.json and sweep.csv, prints the table.
-- @return the summary
-- @raise naming the runs that failed here
-- @usage local s = ae.sweep.new("doc_sweep", { defaults = { x = 1 }, run = function() return { y = 1 } end }, { argv = { "--quiet" } }); s:run(s:config {}); s:finish()
-- @function Sweep:finish

--- The sweep's name, experiment, keys and runs (what sweep.json holds).
-- @return a table
-- @usage local s = ae.sweep.new("doc_sweep", { name = "e", defaults = { x = 1 }, run = function() return {} end }, { argv = {} }); assert(s:manifest().name == "doc_sweep")
-- @function Sweep:manifest

--- Prints a formatted line unless quiet.
-- @param fmt
-- @param ...
-- @usage ae.sweep.new("doc_sweep", { defaults = {}, run = function() return {} end }, { argv = {} }):say("%d runs", 2)
-- @function Sweep:say

local experiment = require "aerun.experiment"
local config = require "aerun.config"
local guard = require "aerun.guard"
local json = require "aerun.json"

local sweep = {}

-- "run" normally; "list" while aerun --sweep-list runs a script, when
-- runs are only counted (sweep.begin_listing)
sweep.mode = "run"

local sweeps = {}   -- those made by sweep.new, for --sweep-list
local loading = 0   -- > 0 while sweep.load runs an experiment file

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function read_json(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  local ok, v = pcall(json.decode, text)
  if not ok then error(path .. ": " .. tostring(v), 0) end
  return v
end

-- ------------------------------------------------------------- experiments

-- The end of an experiment script: runs train on the command line's
-- config when the file is the script, or returns the experiment to
-- sweep.load.  Returns train's result in the first case.
function sweep.experiment(name, defaults, train)
  if type(name) ~= "string" or name == "" then error("sweep.experiment: expects a name") end
  if type(defaults) ~= "table" then error("sweep.experiment: defaults must be a table") end
  if type(train) ~= "function" then error("sweep.experiment: expects the function that runs one config") end
  local spec = { name = name, defaults = defaults, run = train }
  if loading > 0 then return spec end
  return train(experiment.config(defaults))
end

-- the file path: beside the calling script, then from the current
-- directory, then in its experiments/ (where the shipped experiments are)
local function resolve(name, caller)
  local file = name:match("%.lua$") and name or name .. ".lua"
  if file:sub(1, 1) == "/" then return file end
  local dir = caller and caller:match("^@(.*)/[^/]*$")
  if dir and exists(dir .. "/" .. file) then return dir .. "/" .. file end
  if not exists(file) and exists("experiments/" .. file) then return "experiments/" .. file end
  return file
end

-- sweep.load("sparse_ae_mnist") -> {name, defaults, run}: the experiment
-- of experiments/sparse_ae_mnist.lua (looked for beside the calling script,
-- then from the current directory, then in its experiments/)
function sweep.load(name)
  if type(name) ~= "string" then error("sweep.load: expects a file name") end
  local caller = guard.caller()
  local path = resolve(name, caller and caller.source)
  local chunk, err = loadfile(path)
  if not chunk then error("sweep.load: " .. err) end
  loading = loading + 1
  local ok, spec = pcall(chunk)
  loading = loading - 1
  if not ok then error("sweep.load: " .. tostring(spec)) end
  if type(spec) ~= "table" or type(spec.run) ~= "function" or type(spec.defaults) ~= "table" then
    error("sweep.load: " .. path .. " does not end with "
      .. "`return sweep.experiment(name, defaults, train)`, so a sweep cannot run it")
  end
  spec.path = path
  return spec
end

-- ------------------------------------------------------------- configs

-- a value as ae.config reads it back exactly
local function word_value(v)
  if math.type(v) == "float" then
    for digits = 15, 17 do
      local s = string.format("%." .. digits .. "g", v)
      if tonumber(s) == v then return s end
    end
  end
  return tostring(v)
end

-- keys of the command line that do not pass on to the runs
local sweep_only = { shard = true, out = true }

-- base with the values of changes, made as ae.config would make it from a
-- command line giving base's explicit values and then changes: so the
-- result's types are checked, and its explicit keys (which name the run)
-- are base's plus those of changes
function sweep.derive(base, changes)
  local words = {}
  local explicit = config.explicit(base) or {}
  local keys = {}
  for k in pairs(explicit) do
    if not sweep_only[k] and changes[k] == nil and k ~= "args" then keys[#keys + 1] = k end
  end
  for k in pairs(changes) do
    if type(k) ~= "string" then error("sweep: config keys must be strings, got " .. type(k)) end
    if sweep_only[k] then error("sweep: --" .. k .. " is the sweep's own option, not a run's") end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = changes[k]
    if v == nil then v = base[k] end
    if type(v) ~= "number" and type(v) ~= "string" and type(v) ~= "boolean" then
      error(string.format("sweep: %s must be a number, string or boolean, got %s", k, type(v)))
    end
    words[#words + 1] = "--" .. k .. "=" .. word_value(v)
  end
  local defaults = {}   -- base's values; --out stays a key, each run sets it
  for k, v in pairs(base) do
    if k ~= "shard" then defaults[k] = v end
  end
  local ok, cfg = pcall(config.parse, defaults, words)
  if not ok then error("sweep: " .. tostring(cfg):gsub("^[^\n]-:%d+: ", "", 1)) end
  return cfg
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- sweep.grid(base, {lambda = {...}, penalty = {...}}) -> every combination
-- as a config; the keys in alphabetical order, the first varying slowest
function sweep.grid(base, axes)
  if type(axes) ~= "table" then error("sweep.grid: expects a table of {key = {values}}") end
  local keys = sorted_keys(axes)
  for _, k in ipairs(keys) do
    if type(axes[k]) ~= "table" or #axes[k] == 0 then
      error("sweep.grid: " .. tostring(k) .. " must be a non-empty list of values")
    end
  end
  local out, pick = {}, {}
  local function walk(i)
    if i > #keys then
      local changes = {}
      for j, k in ipairs(keys) do changes[k] = axes[k][pick[j]] end
      out[#out + 1] = sweep.derive(base, changes)
      return
    end
    for j = 1, #axes[keys[i]] do
      pick[i] = j
      walk(i + 1)
    end
  end
  walk(1)
  return out
end

-- "K/N" -> K, N (0 <= K < N)
function sweep.parse_shard(text)
  if text == nil or text == "" then return 0, 1 end
  local k, n = tostring(text):match("^%s*(%d+)%s*/%s*(%d+)%s*$")
  k, n = math.tointeger(tonumber(k)), math.tointeger(tonumber(n))
  if not k or not n or n < 1 then
    error(string.format("--shard must be K/N with 0 <= K < N (K counts from 0), got %q", tostring(text)), 0)
  end
  if k >= n then
    error(string.format("--shard=%s: K counts from 0, so it must be below N=%d "
      .. "(for a Slurm array give --array=0-%d)", text, n, n - 1), 0)
  end
  return k, n
end

-- the configs, of 1..count, that shard K of N runs
function sweep.shard_indices(count, k, n)
  local out = {}
  for i = k + 1, count, n do out[#out + 1] = i end
  return out
end

-- ------------------------------------------------------------- summaries

-- the config keys that a run id names ("lambda" in "lambda=0.001,penalty=kl")
local function named_keys(id, cfg)
  local keys = {}
  for k in pairs(cfg) do
    local v = cfg[k]
    if type(v) ~= "table" and (("," .. id):find("," .. k .. "=", 1, true)) then keys[#keys + 1] = k end
  end
  return keys
end

local function scalar(v)
  local t = type(v)
  return t == "number" or t == "string" or t == "boolean"
end

-- rows of the runs ids under dir (those without a result are listed in
-- missing) with their columns: config keys, then metrics, then run_dir
local function summarize(dir, ids, keys)
  local rows, missing, metric_set, key_set = {}, {}, {}, {}
  for _, k in ipairs(keys or {}) do key_set[k] = true end
  local configs = {}
  for _, id in ipairs(ids) do
    local run_dir = dir .. "/" .. id
    local result = read_json(run_dir .. "/result.json")
    if result then
      local cfg = read_json(run_dir .. "/config.json") or {}
      rows[#rows + 1] = { id = id, cfg = cfg, result = result, run_dir = run_dir }
      configs[#configs + 1] = cfg
      if not keys then
        for _, k in ipairs(named_keys(id, cfg)) do key_set[k] = true end
      end
    else
      missing[#missing + 1] = id
    end
  end
  for _, row in ipairs(rows) do
    for k, v in pairs(row.result) do
      if scalar(v) and not key_set[k] and k ~= "run_id" and k ~= "run_dir" then metric_set[k] = true end
    end
  end
  local columns = sorted_keys(key_set)
  local nkeys = #columns
  for _, k in ipairs(sorted_keys(metric_set)) do columns[#columns + 1] = k end
  columns[#columns + 1] = "run_dir"
  for _, row in ipairs(rows) do
    local values = {}
    for i, c in ipairs(columns) do
      if c == "run_dir" then values[i] = row.run_dir
      elseif i <= nkeys then values[i] = row.cfg[c]
      else values[i] = row.result[c] end
    end
    row.values = values
  end
  return { columns = columns, rows = rows, missing = missing, config_columns = nkeys, dir = dir }
end

local function csv_field(v)
  if v == nil then return "" end
  if math.type(v) == "float" then return string.format("%.10g", v) end
  local s = tostring(v)
  if s:find('[,"\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

local function csv_text(summary)
  local lines = { table.concat(summary.columns, ",") }
  for _, row in ipairs(summary.rows) do
    local fields = {}
    for i = 1, #summary.columns do fields[i] = csv_field(row.values[i]) end
    lines[#lines + 1] = table.concat(fields, ",")
  end
  return table.concat(lines, "\n") .. "\n"
end

local function cell(v)
  if v == nil then return "" end
  if math.type(v) == "float" then return string.format("%.5g", v) end
  return tostring(v)
end

-- the summary as aligned columns, numbers right-aligned
function sweep.format_table(summary)
  local width, numeric = {}, {}
  for i, c in ipairs(summary.columns) do
    width[i], numeric[i] = #c, true
    for _, row in ipairs(summary.rows) do
      local v = row.values[i]
      width[i] = math.max(width[i], utf8.len(cell(v)) or #cell(v))
      if v ~= nil and type(v) ~= "number" then numeric[i] = false end
    end
  end
  local function line(values, is_header)
    local parts = {}
    for i = 1, #summary.columns do
      local s = is_header and summary.columns[i] or cell(values[i])
      local pad = string.rep(" ", width[i] - (utf8.len(s) or #s))
      parts[i] = (numeric[i] and not is_header) and pad .. s or s .. pad
    end
    return (table.concat(parts, "  "):gsub("%s+$", ""))
  end
  local lines = { line(nil, true) }
  local rule = {}
  for i = 1, #summary.columns do rule[i] = string.rep("-", width[i]) end
  lines[2] = table.concat(rule, "  ")
  for _, row in ipairs(summary.rows) do lines[#lines + 1] = line(row.values, false) end
  return table.concat(lines, "\n") .. "\n"
end

local function shell_quote(s)
  if s ~= "" and not s:find("[^%w%-%./_=:,+@%%]") then return s end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- the run directories under dir that hold a result.json, sorted
local function list_runs(dir)
  local p = io.popen("find " .. shell_quote(dir) .. " -mindepth 2 -maxdepth 2 -name result.json 2>/dev/null")
  local ids = {}
  if p then
    for line in p:lines() do
      local id = line:sub(#dir + 2):match("^(.*)/result%.json$")
      if id then ids[#ids + 1] = id end
    end
    p:close()
  end
  table.sort(ids)
  return ids
end

-- Merges the results under dir into dir/sweep.csv and returns the summary
-- {columns, rows, missing}.  With dir/sweep.json (written by every sweep)
-- the rows are that sweep's runs in its order, the columns its keys;
-- without, every dir/*/result.json in name order, the columns the keys
-- named in their run ids.  opts: {quiet = false, write = true}.
function sweep.collect(dir, opts)
  opts = opts or {}
  if type(dir) ~= "string" or dir == "" then error("sweep.collect: expects a directory") end
  dir = dir:gsub("/+$", "")
  local manifest = read_json(dir .. "/sweep.json")
  local ids, keys
  if manifest then
    ids, keys = manifest.runs or {}, manifest.keys
  else
    ids = list_runs(dir)
    if #ids == 0 then error("sweep.collect: no run directory with a result.json under " .. dir) end
  end
  local summary = summarize(dir, ids, keys)
  if opts.write ~= false then experiment.write_file(dir .. "/sweep.csv", csv_text(summary)) end
  if not opts.quiet then
    io.stdout:write(sweep.format_table(summary))
    if #summary.missing > 0 then
      io.stdout:write(string.format("%d of %d runs have no result yet: %s\n", #summary.missing, #ids,
        table.concat(summary.missing, " ")))
    end
    if opts.write ~= false then io.stdout:write("wrote " .. dir .. "/sweep.csv\n") end
    io.stdout:flush()
  end
  return summary
end

-- ------------------------------------------------------------- sweeps

local Sweep = {}
Sweep.__index = Sweep

-- a failed run's error with the traceback down to the run's function:
-- the frames of the sweep and its script below it say nothing new
local function run_traceback(err)
  local tb = debug.traceback(tostring(err), 2)
  return (tb:gsub("\n%s*%[C%]: in function 'xpcall'.*$", ""))
end

-- sweep.new(name, experiment [, opts]): experiment is what sweep.load
-- returns, or any {defaults = {...}, run = function(cfg) ... end}.  The
-- base config comes from opts.argv (the global arg by default), or is
-- opts.base, a config made by ae.config (whose shard key, when its
-- experiment has one, is --shard: anomaly_mnist --normal=all does this).
function sweep.new(name, spec, opts)
  if type(name) ~= "string" or not name:match("^[%w_%-%.]+$") then
    error("sweep.new: expects a name of letters, digits, '_', '-' or '.'")
  end
  if type(spec) ~= "table" or type(spec.run) ~= "function" or type(spec.defaults) ~= "table" then
    error("sweep.new: expects an experiment {defaults = {...}, run = function(cfg)}, as sweep.load returns")
  end
  opts = opts or {}
  local base = opts.base
  if base then
    if not config.explicit(base) then error("sweep.new: opts.base must be a config made by ae.config") end
  else
    local defaults = {}
    for k, v in pairs(spec.defaults) do defaults[k] = v end
    if defaults.shard ~= nil then error("sweep.new: the experiment has its own --shard option") end
    defaults.shard = ""
    base = experiment.config(defaults, opts.argv)
  end
  local k, n = sweep.parse_shard(base.shard)
  local root = (base.out or "") ~= "" and base.out:gsub("/+$", "") or ("checkpoints/" .. name)
  local shardable = base.shard ~= nil
  local s = setmetatable({
    name = name, spec = spec, base = base, root = root, shard_k = k, shard_n = n, shardable = shardable,
    sharded = n > 1, quiet = base.quiet, count = 0, ids = {}, order = {}, failed = {},
    ran = 0, skipped = 0,
  }, Sweep)
  sweeps[#sweeps + 1] = s
  return s
end

function Sweep:say(fmt, ...)
  if not self.quiet then
    io.stdout:write(string.format(fmt, ...), "\n")
    io.stdout:flush()
  end
end

-- the sweep's base config with changes: s:config{lambda = 1e-3}
function Sweep:config(changes) return sweep.derive(self.base, changes or {}) end

function Sweep:grid(axes) return sweep.grid(self.base, axes) end

-- Runs cfg (the i-th config handed to this sweep) unless another shard
-- owns it or its result exists.  Returns its result table, or nil when
-- it is not run here or failed.
function Sweep:run(cfg)
  local id = experiment.run_id(cfg)
  if self.ids[id] then
    error(string.format("sweep %s: configs %d and %d are the same run (%s)", self.name, self.ids[id],
      self.count + 1, id))
  end
  self.count = self.count + 1
  local index = self.count
  self.ids[id], self.order[index] = index, id
  self.keys = self.keys or {}
  for _, k in ipairs(named_keys(id, cfg)) do self.keys[k] = true end
  if sweep.mode == "list" or (index - 1) % self.shard_n ~= self.shard_k then return nil end
  local dir = self.root .. "/" .. id
  local where = self.planned and string.format("%d/%d", index, self.planned) or tostring(index)
  local done = read_json(dir .. "/result.json")
  -- a run done with fewer epochs than asked continues with --resume (its
  -- id leaves epochs out); one that stopped early stays done
  local ran = done and read_json(dir .. "/config.json") or {}
  local shorter = done and not done.stopped_early and math.type(cfg.epochs) == "integer"
    and math.type(ran.epochs) == "integer" and ran.epochs < cfg.epochs
  if done and not (shorter and (cfg.resume or "") ~= "") then
    self.skipped = self.skipped + 1
    self:say("sweep %s [%s] %s: done before, skipped%s", self.name, where, id, shorter
      and string.format(" (it ran %d epochs: --epochs=%d --resume continues it)", ran.epochs, cfg.epochs) or "")
    return done
  end
  self:say("sweep %s [%s] %s", self.name, where, id)
  cfg.out = dir
  -- each run continues its own checkpoint when it has one
  if cfg.resume == "last" then cfg.resume = "auto" end
  local ok, result = xpcall(self.spec.run, run_traceback, cfg)
  collectgarbage()
  if not ok then
    self.failed[#self.failed + 1] = id
    local message = tostring(result)
    if self.quiet then message = message:match("^[^\n]*") end   -- without the traceback
    io.stderr:write(string.format("sweep %s: run %s failed: %s\n", self.name, id, message))
    io.stderr:flush()
    return nil
  end
  self.ran = self.ran + 1
  return result
end

function Sweep:manifest()
  local keys = sorted_keys(self.keys or {})
  return { name = self.name, experiment = self.spec.name, keys = keys, runs = self.order }
end

-- Writes sweep.json and, when it can, sweep.csv; prints the table and
-- returns the summary.  Raises an error naming the runs that failed here.
function Sweep:finish()
  if sweep.mode == "list" then return nil end
  local ok, err = require("aerun.core").mkdir_p(self.root)
  if not ok then error(string.format("sweep %s: %s", self.name, err)) end
  experiment.write_file(self.root .. "/sweep.json", json.encode(self:manifest()) .. "\n")
  local summary = summarize(self.root, self.order, self:manifest().keys)
  local complete = #summary.missing == 0
  if complete or not self.sharded then experiment.write_file(self.root .. "/sweep.csv", csv_text(summary)) end
  if not self.quiet then
    io.stdout:write(sweep.format_table(summary))
    local line = string.format("sweep %s: %d run%s, %d run here, %d done before", self.name, self.count,
      self.count == 1 and "" or "s", self.ran, self.skipped)
    if #self.failed > 0 then line = line .. string.format(", %d failed", #self.failed) end
    if self.sharded then line = line .. string.format(" (shard %d/%d)", self.shard_k, self.shard_n) end
    io.stdout:write(line, "\n")
    if complete or not self.sharded then
      io.stdout:write("wrote " .. self.root .. "/sweep.csv\n")
    else
      io.stdout:write(string.format("%d runs have no result yet; when every shard is done: aerun --sweep-collect %s\n",
        #summary.missing, self.root))
    end
    io.stdout:flush()
  end
  if #self.failed > 0 then
    error(string.format("sweep %s: %d run%s failed: %s", self.name, #self.failed,
      #self.failed > 1 and "s" or "", table.concat(self.failed, " ")))
  end
  return summary
end

-- every config in turn, then finish
function Sweep:run_all(configs)
  self.planned = self.count + #configs
  for _, cfg in ipairs(configs) do self:run(cfg) end
  return self:finish()
end

-- A sweep is no class of the module's table, so the guard does not see it:
-- the two methods that raise errors of their own are guarded here, under
-- the name their messages start with ("sweep <name>: ...").  config and
-- grid reach sweep.derive and sweep.grid, which are guarded.
Sweep.run = guard.wrap("sweep", Sweep.run)
Sweep.finish = guard.wrap("sweep", Sweep.finish)

-- aerun --sweep-list (or --sweep-count, the option named) runs the script
-- after this: sweeps then count their configs instead of running them,
-- and a script that starts a run itself (it is not a sweep) is stopped
-- before it trains
function sweep.begin_listing(option)
  option = option or "--sweep-list"
  sweep.mode = "list"
  -- a stand-in the script calls directly: guarded like the function it replaces
  experiment.start = guard.wrap("ae.experiment.start", function(name)
    error(string.format("%s: the script starts run %s itself instead of handing "
      .. "configs to a sweep (sweep.new, s:run)", option, tostring(name)))
  end)
end

-- aerun --sweep-list: after the script ran in "list" mode, the command of
-- each config, one per line (program is how aerun was invoked)
function sweep.list_commands(program)
  if #sweeps == 0 then error("--sweep-list: the script made no sweep (sweep.new)", 0) end
  if #sweeps > 1 then error("--sweep-list: the script made " .. #sweeps .. " sweeps; it handles one", 0) end
  local s = sweeps[1]
  if s.count == 0 then error("--sweep-list: sweep " .. s.name .. " ran no configs", 0) end
  if not s.shardable then
    error("--sweep-list: sweep " .. s.name .. " comes from a config without a --shard option", 0)
  end
  local argv = rawget(_G, "arg") or {}
  local words = { shell_quote(program or "aerun"), shell_quote(argv[0] or "script.lua") }
  for i = 1, #argv do
    if not argv[i]:match("^%-%-shard=") then words[#words + 1] = shell_quote(argv[i]) end
  end
  local prefix = table.concat(words, " ")
  local lines = {}
  for i = 1, s.count do lines[i] = string.format("%s --shard=%d/%d", prefix, i - 1, s.count) end
  io.stdout:write(table.concat(lines, "\n"), "\n")
  io.stdout:flush()
  return lines
end

-- aerun --sweep-count: after the script ran in "list" mode, the number of
-- its configs on a line, what a Slurm array's size must be for
-- --shard=$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT to cover every
-- config once (tools/slurm/sweep.sbatch)
function sweep.print_count()
  local option = "--sweep-count"
  if #sweeps == 0 then error(option .. ": the script made no sweep (sweep.new)", 0) end
  if #sweeps > 1 then error(option .. ": the script made " .. #sweeps .. " sweeps; it handles one", 0) end
  local s = sweeps[1]
  if s.count == 0 then error(option .. ": sweep " .. s.name .. " ran no configs", 0) end
  if not s.shardable then
    error(option .. ": sweep " .. s.name .. " comes from a config without a --shard option", 0)
  end
  io.stdout:write(s.count, "\n")
  io.stdout:flush()
  return s.count
end

return guard.module("ae.sweep", sweep)
