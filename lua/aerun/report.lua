-- aerun.report: one self-contained HTML page for a run or a whole sweep
-- (ae.report; `aerun --report DIR` writes DIR/report.html).
--
-- What a researcher looks at after a sweep, as TensorBoard or W&B show it:
-- the config (the keys that differ between runs as columns, the rest once),
-- a sortable table of the final metrics with the best value of each column
-- marked, every run's curves overlaid (one chart per metric group, drawn as
-- SVG here from metrics.csv and steps.csv), and each run's pictures side by
-- side.  The page needs no network and no framework: the pictures are data:
-- URIs, the charts inline SVG, the script a few lines that sort the table.
--
-- The page's script applies a URL hash #sort=KEY (ascending) or
-- #sort=-KEY (descending) on load, so a sorted view can be linked (and
-- tests/report_spec.lua checks the sort through Chromium's --dump-dom).

--- One self-contained HTML page for a run or a sweep: `ae.report`.
--
-- `aerun --report DIR` calls `report.write(DIR)`.  The page shows the
-- config, a sortable metrics table, every run's curves overlaid and each
-- run's pictures; open DIR/report.html in any browser (no network needed).
-- See docs/report.md.
-- @module aerun.report

--- Writes the report page of a run or sweep directory.
--
-- A sweep directory holds sweep.json (or, without it, folders that are
-- runs); a run directory holds metrics.csv, config.json or result.json.
-- Each run's config.json, result.json, metrics.csv, steps.csv and PNG files
-- are read; a run without metrics still appears.
-- @param dir a run's or a sweep's directory
-- @param[opt] opts `{output = dir .. "/report.html", quiet = false}` (quiet: no "wrote ..." line)
-- @return the path of the page
-- @raise when dir is neither a run nor a sweep, or a file in it is malformed (naming the file and line)
-- @usage ae.mkdir_p("r"); ae.experiment.write_file("r/metrics.csv", "epoch,train_loss,test_loss\n1,0.5,0.6\n2,0.25,0.4\n")
-- assert(ae.report.write("r", { quiet = true }) == "r/report.html")
-- @function write

--- Base64 (RFC 4648, with padding) of a byte string, as data: URIs hold it.
-- @param s a string of bytes
-- @return the encoded string
-- @usage assert(ae.report.base64("aerun!") == "YWVydW4h" and ae.report.base64("ae") == "YWU=")
-- @function base64

local core = require "aerun.core"
local json = require "aerun.json"

local report = {}

local function fail(fmt, ...) error(string.format(fmt, ...), 0) end

-- ------------------------------------------------------------- encoding

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
-- two characters for each 12-bit value: one lookup per half of a 3-byte group
local pairs12 = {}
for v = 0, 4095 do
  local a, b = (v >> 6) + 1, (v & 63) + 1
  pairs12[v] = alphabet:sub(a, a) .. alphabet:sub(b, b)
end

function report.base64(s)
  if type(s) ~= "string" then fail("base64: expects a string, got %s", type(s)) end
  local out, n, full = {}, #s, #s - #s % 3
  for i = 1, full, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = a << 16 | b << 8 | c
    out[#out + 1] = pairs12[v >> 12] .. pairs12[v & 4095]
  end
  local rest = n - full
  if rest == 1 then
    local v = s:byte(n) << 16
    out[#out + 1] = pairs12[v >> 12]:sub(1, 2) .. "=="
  elseif rest == 2 then
    local a, b = s:byte(n - 1, n)
    local v = a << 16 | b << 8
    out[#out + 1] = pairs12[v >> 12] .. pairs12[v & 4095]:sub(1, 1) .. "="
  end
  return table.concat(out)
end

local html_escapes = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

-- every string that goes into the page goes through here (text and attributes)
local function esc(s) return (tostring(s):gsub("[&<>\"']", html_escapes)) end

-- a number as the table shows it
local function show(v)
  if v == nil then return "" end
  if math.type(v) == "integer" then return string.format("%d", v) end
  if type(v) == "number" then
    if v ~= v then return "nan" end
    if v == math.huge then return "inf" elseif v == -math.huge then return "-inf" end
    return string.format("%.5g", v)
  end
  if type(v) == "table" then return json.encode(v) end
  if v == "" then return '""' end
  return tostring(v)
end

-- ------------------------------------------------------------- files

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function line_of(text, byte)
  local line = 1
  for _ in text:sub(1, byte - 1):gmatch("\n") do line = line + 1 end
  return line
end

-- a JSON file's value, nil when the file is absent; a malformed one is an
-- error naming the file and the line
local function read_json(path)
  local text = read(path)
  if text == nil then return nil end
  local ok, v = pcall(json.decode, text)
  if not ok then
    local byte, what = tostring(v):match("at byte (%d+): (.*)$")
    if byte then fail("%s:%d: invalid JSON: %s", path, line_of(text, tonumber(byte)), what) end
    fail("%s: invalid JSON: %s", path, tostring(v))
  end
  return v
end

local special = { nan = 0 / 0, ["-nan"] = 0 / 0, inf = math.huge, ["-inf"] = -math.huge }

-- a CSV file as {columns, rows = {{values}}, lines = {line of each row}};
-- nil when absent.  Quoted fields ("a,b", "say ""hi""") as RFC 4180.  With
-- numeric, every non-empty field must be a number (nan and inf included,
-- as %.10g writes them).  Errors name the file and the line.
local function read_csv(path, numeric)
  local text = read(path)
  if text == nil then return nil end
  local records, lines = {}, {}
  local i, n, line = 1, #text, 1
  while i <= n do
    local fields, start_line = {}, line
    while true do
      local field
      if text:sub(i, i) == '"' then
        local parts, j = {}, i + 1
        while true do
          local q = text:find('"', j, true)
          if not q then fail("%s:%d: a quoted field is not closed", path, line) end
          local piece = text:sub(j, q - 1)
          for _ in piece:gmatch("\n") do line = line + 1 end
          parts[#parts + 1] = piece
          if text:sub(q + 1, q + 1) == '"' then
            parts[#parts + 1] = '"'
            j = q + 2
          else
            i = q + 1
            break
          end
        end
        field = table.concat(parts)
        local c = text:sub(i, i)
        if c ~= "," and c ~= "\n" and c ~= "\r" and c ~= "" then
          fail("%s:%d: text after a quoted field", path, line)
        end
      else
        local j = text:find("[,\r\n]", i) or n + 1
        field = text:sub(i, j - 1)
        if field:find('"', 1, true) then fail("%s:%d: a quote inside an unquoted field", path, line) end
        i = j
      end
      fields[#fields + 1] = field
      local c = text:sub(i, i)
      if c == "," then
        i = i + 1
      else
        if c == "\r" then i = i + 1 end
        if text:sub(i, i) == "\n" then i = i + 1 end
        line = line + 1
        break
      end
    end
    if not (#fields == 1 and fields[1] == "") then   -- blank lines
      records[#records + 1], lines[#records + 1] = fields, start_line
    end
  end
  if #records == 0 then return { columns = {}, rows = {}, lines = {} } end
  local columns, seen = records[1], {}
  for k, c in ipairs(columns) do
    if c == "" then fail("%s:%d: column %d has no name", path, lines[1], k) end
    if seen[c] then fail("%s:%d: column %q appears twice", path, lines[1], c) end
    seen[c] = true
  end
  local rows, row_lines = {}, {}
  for r = 2, #records do
    local fields = records[r]
    if #fields ~= #columns then
      fail("%s:%d: %d field%s where the header has %d", path, lines[r], #fields, #fields == 1 and "" or "s",
        #columns)
    end
    local values = {}
    for k, f in ipairs(fields) do
      if f ~= "" then
        local v = tonumber(f) or special[f:lower()]
        if v == nil and numeric then
          fail("%s:%d: column %s: %q is not a number", path, lines[r], columns[k], f)
        end
        values[k] = v or f
      end
    end
    rows[#rows + 1], row_lines[#rows + 1] = values, lines[r]
  end
  return { columns = columns, rows = rows, lines = row_lines }
end


-- dir's files and folders down to depth 2: path (relative) -> {kind = "f"|"d"|"o", mtime}
local function listing(dir)
  local top, err = core.list_dir(dir)
  if not top then
    if os.rename(dir, dir) == nil then fail("%s: no such directory", dir) end
    fail("cannot list %s", err)
  end
  local entries = {}
  for _, e in ipairs(top) do
    entries[e.name] = { kind = e.kind, mtime = e.mtime }
    if e.kind == "d" then
      for _, f in ipairs(core.list_dir(dir .. "/" .. e.name) or {}) do
        entries[e.name .. "/" .. f.name] = { kind = f.kind, mtime = f.mtime }
      end
    end
  end
  return entries
end

-- a PNG's width and height from its header, or nil when it is no PNG
local function png_size(data)
  if #data < 24 or data:sub(1, 8) ~= "\137PNG\r\n\26\n" or data:sub(13, 16) ~= "IHDR" then return nil end
  return string.unpack(">I4", data, 17), string.unpack(">I4", data, 21)
end

-- ------------------------------------------------------------- runs

local function is_run(entries, prefix)
  return entries[prefix .. "metrics.csv"] or entries[prefix .. "config.json"] or entries[prefix .. "result.json"]
end

-- one run: what its directory holds
local function load_run(dir, id, entries, prefix)
  local run = { id = id, dir = dir, images = {} }
  if not entries[prefix:sub(1, -2)] and prefix ~= "" then
    run.status = "missing"
    return run
  end
  run.config = read_json(dir .. "/config.json")
  run.result = read_json(dir .. "/result.json")
  run.metrics = read_csv(dir .. "/metrics.csv", true)
  run.steps = read_csv(dir .. "/steps.csv", true)
  run.status = run.result and "done" or "no result"
  for _, name in ipairs { "config.json", "result.json" } do
    local e = entries[prefix .. name]
    if e then
      run.first = math.min(run.first or e.mtime, e.mtime)
      run.last = math.max(run.last or e.mtime, e.mtime)
    end
  end
  local names = {}
  for path, e in pairs(entries) do
    local name = path:sub(#prefix + 1)
    if e.kind == "f" and path:sub(1, #prefix) == prefix and not name:find("/", 1, true)
      and name:lower():match("%.png$") then
      names[#names + 1] = name
    end
  end
  table.sort(names)
  for _, name in ipairs(names) do
    local data = read(dir .. "/" .. name) or ""
    local w, h = png_size(data)
    run.images[name] = { name = name, data = w and data, w = w, h = h }
  end
  return run
end

local function basename(path) return path:match("([^/]+)/*$") or path end

-- dir as an absolute path without "." and ".." segments (for the header)
local function absolute(dir)
  local path = dir:sub(1, 1) == "/" and dir or ((os.getenv("PWD") or ".") .. "/" .. dir)
  local parts = {}
  for part in path:gmatch("[^/]+") do
    if part == ".." then parts[#parts] = nil elseif part ~= "." then parts[#parts + 1] = part end
  end
  return "/" .. table.concat(parts, "/")
end

-- the sweep (or the run) under dir: {kind, name, experiment, runs}
local function load(dir)
  local entries = listing(dir)
  local manifest = read_json(dir .. "/sweep.json")
  local model = { dir = dir, entries = entries }
  local ids
  if manifest then
    if type(manifest) ~= "table" or (manifest.runs ~= nil and type(manifest.runs) ~= "table") then
      fail("%s/sweep.json: expected an object with a list runs", dir)
    end
    model.kind, ids = "sweep", {}
    for k, id in ipairs(manifest.runs or {}) do
      if type(id) ~= "string" or id == "" or id:find("/", 1, true) or id == "." or id == ".." then
        fail("%s/sweep.json: runs[%d] is not a run folder's name", dir, k)
      end
      ids[#ids + 1] = id
    end
    model.name = type(manifest.name) == "string" and manifest.name or basename(absolute(dir))
    model.experiment = type(manifest.experiment) == "string" and manifest.experiment or nil
    model.keys = type(manifest.keys) == "table" and manifest.keys or nil
  elseif entries["metrics.csv"] or entries["config.json"] then
    model.kind = "run"
  else
    -- the run folders, in sweep.csv's order when it lists them (an older
    -- sweep, or one collected by --sweep-collect), else by name
    ids = {}
    for path, e in pairs(entries) do
      if e.kind == "d" and not path:find("/", 1, true) and is_run(entries, path .. "/") then ids[#ids + 1] = path end
    end
    local rank = {}
    local csv = entries["sweep.csv"] and read_csv(dir .. "/sweep.csv", false)
    if csv then
      local col
      for c, name in ipairs(csv.columns) do if name == "run_dir" then col = c end end
      for r, row in ipairs(col and csv.rows or {}) do
        local id = type(row[col]) == "string" and basename(row[col])
        if id and not rank[id] then rank[id] = r end
      end
    end
    table.sort(ids, function(a, b)
      local ra, rb = rank[a] or math.huge, rank[b] or math.huge
      if ra ~= rb then return ra < rb end
      return a < b
    end)
    if #ids > 0 then
      model.kind, model.name = "sweep", basename(absolute(dir))
    elseif entries["result.json"] then
      model.kind = "run"
    else
      fail("%s is neither a run directory (metrics.csv, config.json or result.json) "
        .. "nor a sweep directory (sweep.json or run folders)", dir)
    end
  end
  model.runs = {}
  if model.kind == "run" then
    local abs = absolute(dir)
    local id = basename(abs)
    model.runs[1] = load_run(dir, id, entries, "")
    model.name = basename((abs:gsub("/+[^/]+/*$", ""))) .. " · " .. id
    model.experiment = nil
  else
    for _, id in ipairs(ids) do model.runs[#model.runs + 1] = load_run(dir .. "/" .. id, id, entries, id .. "/") end
  end
  return model
end

-- ------------------------------------------------------------- analysis

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- config keys that every run has with one value (common), and the others
-- (varying: the table's columns); out is the run's folder, left out
local function split_config(runs, manifest_keys)
  local all, values = {}, {}
  local with_config = 0
  for _, run in ipairs(runs) do
    if type(run.config) == "table" then
      with_config = with_config + 1
      for k, v in pairs(run.config) do
        if k ~= "out" then
          all[k] = true
          values[k] = values[k] or {}
          values[k][show(v)] = true
        end
      end
    end
  end
  local common, varying = {}, {}
  for _, k in ipairs(sorted_keys(all)) do
    local n, count = 0, 0
    for _ in pairs(values[k]) do n = n + 1 end
    for _, run in ipairs(runs) do
      if type(run.config) == "table" and run.config[k] ~= nil then count = count + 1 end
    end
    if n == 1 and count == with_config then common[#common + 1] = k else varying[#varying + 1] = k end
  end
  -- the sweep's own keys first, in its order
  local rank = {}
  for i, k in ipairs(manifest_keys or {}) do rank[k] = i end
  table.sort(varying, function(a, b)
    local ra, rb = rank[a] or math.huge, rank[b] or math.huge
    if ra ~= rb then return ra < rb end
    return a < b
  end)
  return common, varying
end

-- metric names: losses first, timing last, the rest in name order
local function metric_rank(name)
  if name == "train_loss" then return 1 end
  if name == "test_loss" then return 2 end
  if name == "epoch" then return 9 end
  if name == "seconds" or name == "samples_per_second" then return 8 end
  return 5
end

local function by_rank(a, b)
  local ra, rb = metric_rank(a), metric_rank(b)
  if ra ~= rb then return ra < rb end
  return a < b
end

-- each run's final metrics: result.json's numbers (not its config echo),
-- else the last row of metrics.csv; and the last epoch reached
local function final_metrics(runs)
  local names = {}
  for _, run in ipairs(runs) do
    local final = {}
    if type(run.result) == "table" then
      for k, v in pairs(run.result) do
        if type(v) == "number" and k ~= "run_id" and k ~= "run_dir"
          and not (type(run.config) == "table" and run.config[k] ~= nil) then
          final[k] = v
        end
      end
    elseif run.metrics and #run.metrics.rows > 0 then
      local row = run.metrics.rows[#run.metrics.rows]
      for c, name in ipairs(run.metrics.columns) do
        if name ~= "epoch" and name ~= "step" and type(row[c]) == "number" then final[name] = row[c] end
      end
    end
    if run.metrics and #run.metrics.rows > 0 then
      local col
      for c, name in ipairs(run.metrics.columns) do if name == "epoch" then col = c end end
      final.epoch = col and run.metrics.rows[#run.metrics.rows][col] or #run.metrics.rows
    end
    run.final = final
    for k in pairs(final) do names[k] = true end
  end
  local list = sorted_keys(names)
  table.sort(list, by_rank)
  return list
end

-- final values that are no score: no best value is marked
local not_ranked = { epoch = true, step = true, parameters = true }

-- whether a larger value of the metric is better
local higher = { "acc", "auc", "psnr", "ssim", "samples_per_second", "tpr", "f1", "precision", "recall" }
local function higher_is_better(name)
  name = name:lower()
  for _, h in ipairs(higher) do
    if name:find(h, 1, true) then return true end
  end
  return false
end

-- ------------------------------------------------------------- charts

local palette = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#843c39", "#7b4173", "#3182bd" }
local function color(i)
  if i <= #palette then return palette[i] end
  return string.format("hsl(%d,65%%,45%%)", math.floor((i * 137.508) % 360))
end
local dashes = { "", "7 4", "2 3", "9 3 2 3" }

-- "train_loss" and "test_loss" draw in one chart, "loss"
local function group_of(name)
  return (name:gsub("^train_", ""):gsub("^test_", ""):gsub("^valid?_", ""):gsub("^eval_", ""))
end

local function fmt_tick(v)
  if v == 0 then return "0" end
  if math.abs(v) >= 1000 and math.abs(v) < 1e6 then return (string.format("%.4g", v / 1000):gsub("e%+0*", "e")) .. "k" end
  local s = string.format("%.4g", v)
  return (s:gsub("e%+0*", "e"):gsub("e%-0*", "e-"))
end

-- ticks of [lo, hi] at a round step (integers only when integer)
local function linear_ticks(lo, hi, integer)
  local raw = (hi - lo) / 5
  local p = 10 ^ math.floor(math.log(raw, 10))
  local f = raw / p
  local step = (f < 1.5 and 1 or f < 3 and 2 or f < 7 and 5 or 10) * p
  if integer then step = math.max(1, math.floor(step + 0.5)) end
  local ticks = {}
  local t = math.ceil(lo / step - 1e-9) * step
  while t <= hi + step * 1e-9 do
    ticks[#ticks + 1] = math.abs(t) < step * 1e-9 and 0 or t
    t = t + step
  end
  return ticks, step
end

-- one chart: series {run, metric, xs, ys, color, dash}; returns SVG text
local function chart(title, xlabel, series, metrics_in_group, legend_colors)
  local W, H, L, R, T, B = 460, 270, 60, 14, 30, 40
  local xmin, xmax, ymin, ymax = math.huge, -math.huge, math.huge, -math.huge
  local xint, npoints = true, 0
  for _, s in ipairs(series) do
    for k, x in ipairs(s.xs) do
      local y = s.ys[k]
      if y == y and y ~= math.huge and y ~= -math.huge then
        xmin, xmax = math.min(xmin, x), math.max(xmax, x)
        ymin, ymax = math.min(ymin, y), math.max(ymax, y)
        if math.type(x) ~= "integer" and x ~= math.floor(x) then xint = false end
        npoints = math.max(npoints, #s.xs)
      end
    end
  end
  if xmin > xmax then return nil end
  if xmin == xmax then xmin, xmax = xmin - 1, xmax + 1 end
  local log = ymin > 0 and ymax / ymin > 100
  local yticks
  local ty = function(v) return v end
  if log then
    ty = function(v) return math.log(v, 10) end
    local lo, hi = math.floor(math.log(ymin, 10)), math.ceil(math.log(ymax, 10))
    ymin, ymax = 10 ^ lo, 10 ^ hi
    yticks = {}
    local every = math.max(1, math.ceil((hi - lo) / 6))
    for e = lo, hi, every do yticks[#yticks + 1] = 10 ^ e end
  else
    if ymin == ymax then
      local pad = ymin == 0 and 1 or math.abs(ymin) * 0.1
      ymin, ymax = ymin - pad, ymax + pad
    end
    local step
    yticks, step = linear_ticks(ymin, ymax, false)
    ymin = math.floor(ymin / step + 1e-9) * step
    ymax = math.ceil(ymax / step - 1e-9) * step
    yticks = linear_ticks(ymin, ymax, false)
  end
  local y0, y1 = ty(ymin), ty(ymax)
  local function px(x) return L + (x - xmin) / (xmax - xmin) * (W - L - R) end
  local function py(y) return T + (1 - (ty(y) - y0) / (y1 - y0)) * (H - T - B) end
  local out = {}
  local function add(fmt, ...) out[#out + 1] = string.format(fmt, ...) end
  add('<figure class="chart"><svg viewBox="0 0 %d %d" role="img" aria-label="%s">', W, H, esc(title))
  add('<text class="ct" x="%d" y="18">%s%s</text>', L, esc(title), log and ' <tspan class="note">(log scale)</tspan>' or "")
  for _, v in ipairs(yticks) do
    local y = py(v)
    add('<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>', L, W - R, y, y)
    add('<text class="tick" x="%d" y="%.1f" text-anchor="end" dy="0.32em">%s</text>', L - 6, y, esc(fmt_tick(v)))
  end
  for _, v in ipairs((linear_ticks(xmin, xmax, xint))) do
    local x = px(v)
    add('<line class="grid" x1="%.1f" x2="%.1f" y1="%d" y2="%d"/>', x, x, T, H - B)
    add('<text class="tick" x="%.1f" y="%d" text-anchor="middle">%s</text>', x, H - B + 16, esc(fmt_tick(v)))
  end
  add('<rect class="frame" x="%d" y="%d" width="%d" height="%d"/>', L, T, W - L - R, H - T - B)
  add('<text class="axis" x="%d" y="%d" text-anchor="middle">%s</text>', (L + W - R) // 2, H - 6, esc(xlabel))
  for _, s in ipairs(series) do
    local d, pts = {}, {}
    local pen = "M"
    for k, x in ipairs(s.xs) do
      local y = s.ys[k]
      if y == y and y ~= math.huge and y ~= -math.huge and not (log and y <= 0) then
        d[#d + 1] = string.format("%s%.1f %.1f", pen, px(x), py(y))
        pts[#pts + 1] = { px(x), py(y) }
        pen = "L"
      else
        pen = "M"   -- a gap where the value is missing or not finite
      end
    end
    add('<g class="series" data-run="%d"><title>%s · %s</title>', s.run, esc(s.label), esc(s.metric))
    add('<path d="%s" stroke="%s"%s/>', table.concat(d, ""), s.color,
      s.dash ~= "" and string.format(' stroke-dasharray="%s"', s.dash) or "")
    if npoints <= 30 then
      for _, p in ipairs(pts) do add('<circle cx="%.1f" cy="%.1f" r="2.6" fill="%s"/>', p[1], p[2], s.color) end
    end
    add("</g>")
  end
  add("</svg>")
  -- which line is which metric (dash for a sweep, colour for one run)
  if #metrics_in_group > 1 or legend_colors then
    add('<figcaption>')
    for k, m in ipairs(metrics_in_group) do
      local c = legend_colors and color(k) or "#333"
      local dash = legend_colors and "" or dashes[(k - 1) % #dashes + 1]
      add('<span class="key"><svg width="28" height="10"><line x1="1" x2="27" y1="5" y2="5" stroke="%s" '
        .. 'stroke-width="2"%s/></svg>%s</span>', c, dash ~= "" and ' stroke-dasharray="' .. dash .. '"' or "", esc(m))
    end
    add("</figcaption>")
  end
  add("</figure>")
  return table.concat(out)
end

-- at most about MAX_POINTS points of a long series (steps.csv of a long
-- run): every k-th and the last, so that the page stays small
local MAX_POINTS = 1500
local function thin(xs, ys)
  local n = #xs
  if n <= MAX_POINTS then return xs, ys end
  local k = math.ceil(n / MAX_POINTS)
  local tx, ty = {}, {}
  for i = 1, n, k do tx[#tx + 1], ty[#ty + 1] = xs[i], ys[i] end
  if tx[#tx] ~= xs[n] then tx[#tx + 1], ty[#ty + 1] = xs[n], ys[n] end
  return tx, ty
end

-- the charts of one CSV per run (field "metrics" or "steps"), x its xname column
local function charts(runs, field, xname, labels)
  local groups, order = {}, {}
  for _, run in ipairs(runs) do
    local csv = run[field]
    if csv then
      for _, name in ipairs(csv.columns) do
        if name ~= "epoch" and name ~= "step" and name ~= xname then
          local g = group_of(name)
          if not groups[g] then
            groups[g] = { names = {}, seen = {}, rank = math.huge }
            order[#order + 1] = g
          end
          if not groups[g].seen[name] then
            groups[g].seen[name] = true
            groups[g].names[#groups[g].names + 1] = name
          end
          groups[g].rank = math.min(groups[g].rank, metric_rank(name))
        end
      end
    end
  end
  table.sort(order, function(a, b)
    if groups[a].rank ~= groups[b].rank then return groups[a].rank < groups[b].rank end
    return a < b
  end)
  local single = #runs == 1
  local out = {}
  for _, g in ipairs(order) do
    local names = groups[g].names
    table.sort(names, by_rank)
    local series = {}
    for r, run in ipairs(runs) do
      local csv = run[field]
      if csv and #csv.rows > 0 then
        local col, xcol = {}, nil
        for c, name in ipairs(csv.columns) do
          col[name] = c
          if name == xname then xcol = c end
        end
        for k, name in ipairs(names) do
          if col[name] then
            local xs, ys = {}, {}
            for i, row in ipairs(csv.rows) do
              local x = xcol and row[xcol] or i
              local y = row[col[name]]
              if type(x) == "number" then
                xs[#xs + 1] = x
                ys[#ys + 1] = type(y) == "number" and y or 0 / 0
              end
            end
            xs, ys = thin(xs, ys)
            series[#series + 1] = {
              run = r, metric = name, label = labels[r], xs = xs, ys = ys,
              color = single and color(k) or color(r),
              dash = single and "" or dashes[(k - 1) % #dashes + 1],
            }
          end
        end
      end
    end
    local svg = #series > 0 and chart(g, xname, series, names, single)
    if svg then out[#out + 1] = svg end
  end
  return out
end

-- ------------------------------------------------------------- the page

local style = [[
:root{--fg:#1d2330;--muted:#6b7280;--line:#e5e7eb;--bg:#fff;--head:#f6f7f9;--best:#dcf2e3;--accent:#2563eb}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:#fafafa;margin:0;padding:20px 28px 60px}
header h1{font-size:22px;margin:0 0 2px}
header .meta{color:var(--muted);font-size:13px}
header .meta code{font-size:12px}
section{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:14px 18px;margin:16px 0}
h2{font-size:16px;margin:0 0 10px}
h2 .note,.note{color:var(--muted);font-weight:normal;font-size:12px}
table{border-collapse:collapse;font-size:13px}
th,td{padding:4px 10px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
th{background:var(--head);font-weight:600;position:sticky;top:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:hover{background:#eceef2}
th .arrow{display:inline-block;width:1em;color:var(--accent)}
th[aria-sort=ascending] .arrow::after{content:"\25B2"}
th[aria-sort=descending] .arrow::after{content:"\25BC"}
td.best{background:var(--best);font-weight:700}
tbody tr:hover{background:#f3f6fb}
.cfg{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:2px 18px;font-size:13px}
.cfg div{display:flex;justify-content:space-between;gap:10px;border-bottom:1px dotted var(--line);padding:2px 0}
.cfg span:first-child{color:var(--muted)}
.cfg span:last-child{font-variant-numeric:tabular-nums;overflow-wrap:anywhere;text-align:right}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.id{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px}
.badge{font-size:11px;border-radius:8px;padding:0 6px;margin-left:6px;background:#fde8e8;color:#9b1c1c}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:0 0 10px;font-size:12.5px}
.legend span{cursor:default}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(400px,1fr));gap:12px}
figure{margin:0}
.chart svg{width:100%;height:auto;display:block}
.chart figcaption{font-size:12px;color:var(--muted);display:flex;gap:14px;justify-content:center}
.chart figcaption svg{width:28px;height:10px;display:inline;vertical-align:middle;margin-right:4px}
.ct{font-size:13px;font-weight:600;fill:var(--fg)}
.ct .note{font-weight:normal;fill:var(--muted)}
.tick{font-size:10.5px;fill:var(--muted)}
.axis{font-size:11px;fill:var(--muted)}
.grid{stroke:#eef0f3;stroke-width:1}
.frame{fill:none;stroke:#cfd4dc}
.series path{fill:none;stroke-width:1.8;stroke-linejoin:round;stroke-linecap:round}
.hl .series{opacity:.12}
.hl .series.on{opacity:1}
.hl .series.on path{stroke-width:3}
h3{font-size:13px;margin:14px 0 6px;color:var(--muted);font-weight:600}
.tiles{display:flex;flex-wrap:wrap;gap:12px 14px;align-items:flex-start}
.tile img{display:block;image-rendering:pixelated;border:1px solid var(--line);background:#fff}
.tile figcaption{font-size:12px;margin-top:3px;max-width:100%}
.tile{display:flex;flex-direction:column;max-width:490px}
.missing{color:var(--muted);font-style:italic}
tr.on td{background:#eef3ff}
.tile.on img{outline:2px solid var(--accent)}
]]

-- sorting (a click on a header; #sort=KEY or #sort=-KEY on load), and a
-- run's lines highlighted while the pointer is on it anywhere in the page
local script = [[
(function(){
var table=document.getElementById('runs');
function key(td,num){var v=td.getAttribute('data-v');if(v===null||v==='')return null;return num?parseFloat(v):v;}
function sortBy(th,dir){
  var idx=Array.prototype.indexOf.call(th.parentNode.children,th),num=th.classList.contains('num');
  var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
  rows.sort(function(a,b){
    var x=key(a.cells[idx],num),y=key(b.cells[idx],num);
    if(x===null||x!==x)return (y===null||y!==y)?0:1; if(y===null||y!==y)return -1;
    var c=num?x-y:String(x).localeCompare(String(y),undefined,{numeric:true});
    return dir==='descending'?-c:c;});
  rows.forEach(function(r){body.appendChild(r);});
  Array.prototype.forEach.call(th.parentNode.children,function(h){h.removeAttribute('aria-sort');});
  th.setAttribute('aria-sort',dir);
  Array.prototype.forEach.call(document.querySelectorAll('#pictures .tiles'),function(box){
    rows.forEach(function(r){var t=box.querySelector('[data-run="'+r.getAttribute('data-run')+'"]');
      if(t)box.appendChild(t);});});
}
if(table){
  Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th){
    th.addEventListener('click',function(){
      sortBy(th,th.getAttribute('aria-sort')==='ascending'?'descending':'ascending');});});
  var m=/(?:^#|&)sort=(-?)([^&]+)/.exec(location.hash);
  if(m){var name=m[2];try{name=decodeURIComponent(name);}catch(e){}
    Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th){
      if(th.getAttribute('data-key')===name)sortBy(th,m[1]?'descending':'ascending');});}
}
var current=null;
function highlight(run){
  if(run===current)return;current=run;
  document.body.classList.toggle('hl',run!==null);
  Array.prototype.forEach.call(document.querySelectorAll('.series,tr[data-run],.tile'),function(e){
    e.classList.toggle('on',e.getAttribute('data-run')===run);});
}
document.addEventListener('mouseover',function(ev){
  var e=ev.target.closest&&ev.target.closest('[data-run]');highlight(e?e.getAttribute('data-run'):null);});
})();
]]

local function config_value(run, k)
  if type(run.config) == "table" then return run.config[k] end
  return nil
end

-- a run's label in legends: the values that set it apart, else its id
local function run_labels(runs, varying)
  local labels = {}
  for i, run in ipairs(runs) do
    local parts = {}
    for _, k in ipairs(varying) do
      local v = config_value(run, k)
      if v ~= nil then parts[#parts + 1] = k .. "=" .. show(v) end
    end
    labels[i] = #parts > 0 and #parts <= 4 and table.concat(parts, ", ") or run.id
  end
  return labels
end

local function hostname()
  local h = read("/proc/sys/kernel/hostname") or read("/etc/hostname") or ""
  return (h:gsub("%s+$", ""))
end

local function date(t) return t and os.date("%Y-%m-%d %H:%M", math.floor(t)) or nil end

local function image_order(a, b)
  -- loss.png last: the charts above show its curves already
  local la, lb = a == "loss.png", b == "loss.png"
  if la ~= lb then return lb end
  return a < b
end

local function render(model)
  local runs = model.runs
  local common, varying = split_config(runs, model.keys)
  local metrics = final_metrics(runs)
  local labels = run_labels(runs, varying)
  local out = {}
  local function add(s) out[#out + 1] = s end
  local function addf(fmt, ...) out[#out + 1] = string.format(fmt, ...) end

  add('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">')
  add('<meta name="viewport" content="width=device-width, initial-scale=1">')
  addf("<title>%s · aerun report</title>", esc(model.name))
  add("<style>" .. style .. "</style></head><body>\n")

  -- what and where
  local first, last
  for _, run in ipairs(runs) do
    if run.first then first = math.min(first or run.first, run.first) end
    if run.last then last = math.max(last or run.last, run.last) end
  end
  local abs = absolute(model.dir)
  local done = 0
  for _, run in ipairs(runs) do if run.status == "done" then done = done + 1 end end
  add("<header>")
  addf('<h1>%s</h1>', esc(model.name))
  local facts = {}
  if model.kind == "sweep" then
    facts[#facts + 1] = string.format("sweep of %s: %d run%s, %d finished", esc(model.experiment or "runs"), #runs,
      #runs == 1 and "" or "s", done)
  else
    facts[#facts + 1] = "one run, " .. esc(runs[1].status)
  end
  if first then
    facts[#facts + 1] = "trained " .. esc(date(first)) .. (date(last) ~= date(first) and " – " .. esc(date(last)) or "")
  end
  facts[#facts + 1] = "in <code>" .. esc(abs) .. "</code>"
  facts[#facts + 1] = "report written " .. esc(os.date("%Y-%m-%d %H:%M %Z")) .. " on " .. esc(hostname())
  addf('<div class="meta">%s</div>', table.concat(facts, " · "))
  add("</header>\n")

  -- the runs: differing config keys, then the final metrics
  if #runs > 1 then
    add('<section><h2>Runs <span class="note">click a header to sort; the best value of each metric is marked '
      .. '(lower is better, except for accuracy-like metrics and speed)</span></h2><div class="scroll">')
  else
    add('<section><h2>Metrics <span class="note">the final values</span></h2><div class="scroll">')
  end
  add('<table id="runs" class="sortable"><thead><tr><th data-key="run">run<span class="arrow"></span></th>')
  local config_numeric = {}
  for _, k in ipairs(varying) do
    local num = true
    for _, run in ipairs(runs) do
      local v = config_value(run, k)
      if v ~= nil and type(v) ~= "number" then num = false end
    end
    config_numeric[k] = num
    addf('<th data-key="%s"%s>%s<span class="arrow"></span></th>', esc(k), num and ' class="num"' or "", esc(k))
  end
  -- the best of each metric, among two runs or more (counts are no metric)
  local best = {}
  for _, m in ipairs(metrics) do
    local hi = higher_is_better(m)
    local count = 0
    if not not_ranked[m] then
      for _, run in ipairs(runs) do
        local v = run.final[m]
        if v and v == v then count = count + 1 end
        if v and v == v and (best[m] == nil or (hi and v > best[m]) or (not hi and v < best[m])) then best[m] = v end
      end
    end
    if count < 2 then best[m] = nil end
    addf('<th class="num" data-key="%s" title="%s">%s<span class="arrow"></span></th>', esc(m),
      m == "epoch" and "the last epoch in metrics.csv" or not_ranked[m] and m
        or (hi and "higher is better" or "lower is better"), esc(m))
  end
  add("</tr></thead><tbody>")
  for i, run in ipairs(runs) do
    addf('<tr data-run="%d"><td data-v="%s"><span class="sw" style="background:%s"></span><span class="id">%s</span>%s</td>',
      i, esc(run.id), color(i), (esc(run.id):gsub(",", ",<wbr>")),
      run.status ~= "done" and '<span class="badge">' .. esc(run.status) .. "</span>" or "")
    for _, k in ipairs(varying) do
      local v = config_value(run, k)
      local data = type(v) == "number" and string.format("%.17g", v) or (v ~= nil and show(v) or "")
      addf('<td%s data-v="%s">%s</td>', config_numeric[k] and ' class="num"' or "", esc(data), esc(show(v)))
    end
    for _, m in ipairs(metrics) do
      local v = run.final[m]
      local cls = "num" .. (v ~= nil and best[m] == v and " best" or "")
      addf('<td class="%s" data-v="%s">%s</td>', cls, v == nil and "" or esc(string.format("%.17g", v)), esc(show(v)))
    end
    add("</tr>")
  end
  add("</tbody></table></div></section>\n")

  -- the config every run shares
  if #common > 0 then
    local cfg
    for _, run in ipairs(runs) do if type(run.config) == "table" then cfg = run.config break end end
    addf('<section><h2>Config <span class="note">%s</span></h2><div class="cfg">',
      #runs > 1 and "the same in every run; the keys that differ are columns above" or "config.json")
    for _, k in ipairs(common) do
      addf("<div><span>%s</span><span>%s</span></div>", esc(k), esc(show(cfg[k])))
    end
    add("</div></section>\n")
  end

  -- the curves
  local legend = {}
  if #runs > 1 then
    legend[1] = '<div class="legend">'
    for i in ipairs(runs) do
      legend[#legend + 1] = string.format('<span data-run="%d" title="%s"><span class="sw" style="background:%s"></span>%s</span>',
        i, esc(runs[i].id), color(i), esc(labels[i]))
    end
    legend[#legend + 1] = "</div>"
  end
  for _, part in ipairs { { "metrics", "epoch", "Curves", "per epoch, from metrics.csv" },
    { "steps", "step", "Curves per step", "from steps.csv" } } do
    local list = charts(runs, part[1], part[2], labels)
    if #list > 0 then
      addf('<section><h2>%s <span class="note">%s%s</span></h2>', part[3], part[4],
        #runs > 1 and "; one colour per run, hover a run to pick out its lines" or "")
      add(table.concat(legend))
      addf('<div class="charts">%s</div></section>\n', table.concat(list, "\n"))
    end
  end

  -- the pictures: for a sweep one panel per file name with every run's
  -- picture side by side (as W&B's media panels), for one run its pictures
  local names, seen = {}, {}
  for _, run in ipairs(runs) do
    for name in pairs(run.images) do
      if not seen[name] then
        seen[name] = true
        names[#names + 1] = name
      end
    end
  end
  table.sort(names, image_order)
  local function tile(i, run, name, caption)
    local img = run.images[name]
    local body, width = nil, 160
    if not img then
      body = '<div class="missing">no ' .. esc(name) .. "</div>"
    elseif not img.data then
      body = '<div class="missing">' .. esc(name) .. " is not a PNG</div>"
    else
      -- as they are, pixels kept sharp; only large ones (loss.png) smaller
      local scale = math.min(1, 490 / img.w, 320 / img.h)
      local w = math.floor(img.w * scale + 0.5)
      body = string.format('<img alt="%s %s" width="%d" height="%d" src="data:image/png;base64,%s">', esc(run.id),
        esc(name), w, math.floor(img.h * scale + 0.5), report.base64(img.data))
      width = math.max(width, w + 2)
    end
    -- as wide as the picture: the caption wraps under it (at the id's commas)
    return string.format('<figure class="tile" data-run="%d" style="width:%dpx">%s<figcaption>%s</figcaption></figure>',
      i, width, body, caption)
  end
  if #names > 0 then
    if #runs == 1 then
      add('<section><h2>Pictures <span class="note">the PNG files of the run</span></h2><div class="tiles">')
      for _, name in ipairs(names) do add(tile(1, runs[1], name, esc(name))) end
      add("</div></section>\n")
    else
      add('<section id="pictures"><h2>Pictures <span class="note">every run\'s PNG files, in the order of the '
        .. "table above</span></h2>")
      for _, name in ipairs(names) do
        addf('<h3>%s</h3><div class="tiles">', esc(name))
        for i, run in ipairs(runs) do
          add(tile(i, run, name, string.format('<span class="sw" style="background:%s"></span><span class="id">%s</span>',
            color(i), (esc(run.id):gsub(",", ",<wbr>")))))
        end
        add("</div>")
      end
      add("</section>\n")
    end
  end

  add("<script>" .. script .. "</script>\n</body></html>\n")
  return table.concat(out)
end

-- ------------------------------------------------------------- writing

local function write_file(path, text)
  local tmp = string.format("%s.%d.tmp", path, core.getpid())
  local f, err = io.open(tmp, "wb")
  if not f then fail("cannot write %s: %s", path, tostring(err)) end
  f:write(text)
  f:close()
  local ok, rerr = os.rename(tmp, path)
  if not ok then
    os.remove(tmp)
    fail("cannot write %s: %s", path, tostring(rerr))
  end
end

local known = { output = true, quiet = true }

function report.write(dir, opts)
  if type(dir) ~= "string" or dir == "" then fail("expects a directory, got %s", type(dir)) end
  opts = require("aerun.guard").options("report.write", opts, known)
  if opts.output ~= nil and (type(opts.output) ~= "string" or opts.output == "") then
    fail("report.write: output must be a file name")
  end
  dir = dir:gsub("(.)/+$", "%1")
  local model = load(dir)
  local path = opts.output or (dir .. "/report.html")
  write_file(path, render(model))
  if not opts.quiet then
    io.stdout:write("wrote ", path, "\n")
    io.stdout:flush()
  end
  return path
end

return require("aerun.guard").module("ae.report", report)
