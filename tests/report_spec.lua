-- report_spec.lua: aerun --report DIR (ae.report.write) writes one
-- self-contained page for a sweep or a run, and Chromium renders it.
--
-- A synthetic sweep written here gives exact checks: the table's values
-- and best marks, the escaping of every string, the inlined pictures
-- (against coreutils' base64), the charts' series and scales, the errors
-- on malformed files.  Headless Chromium (Debian's chromium; make test
-- installs it) then loads the pages: no console message may appear, and
-- its --dump-dom (the DOM after the page's script ran) shows the row order
-- a #sort=KEY hash gives.  The real sweep of experiments/sweep_vae_beta.lua
-- (2 epochs on 300 images, about 4 s) is rendered last; its screenshot and
-- page stay in $BUILD/test-out/report/ (build folders are not committed).
local process = require "tests.helpers.process"
local png = require "tests.helpers.png_encode"
local json = require "aerun.json"
local quote, sh, read, write = process.quote, process.sh, process.read, process.write

local root = process.root
local aerun = process.aerun
local outdir = root .. "/" .. (os.getenv("BUILD") or "build") .. "/test-out/report"

local function mkdir(d) assert(os.execute("mkdir -p " .. quote(d))) end

-- ------------------------------------------------------------- Chromium

local chromium
local function find_chromium()
  if chromium ~= nil then return chromium end
  for _, name in ipairs { "chromium", "chromium-browser" } do
    local path = process.capture("command -v " .. name .. " 2>/dev/null")
    if path ~= "" then
      chromium = path
      return chromium
    end
  end
  -- make test installs it (TEST_DEBS); a bare busted run tries once
  sh("sh " .. quote(root .. "/tools/deps.sh") .. " chromium")
  local path = process.capture("command -v chromium 2>/dev/null")
  chromium = path ~= "" and path or false
  return chromium
end

-- loads url in headless Chromium: the DOM after the scripts ran, the
-- console lines, and the screenshot (when asked).  As root in a container
-- Chromium needs --no-sandbox; a fresh profile each time, and `timeout`
-- so that a hung browser fails the test instead of the suite.  Under make
-- test-asan the environment preloads libasan, which is not for Chromium.
local function browse(url, screenshot, height)
  local profile = process.tmpdir()
  local err = profile .. "/stderr"
  local cmd = string.format("env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS timeout -k 5 60 %s --headless=new --disable-gpu --no-sandbox --no-first-run "
    .. "--user-data-dir=%s --enable-logging=stderr --v=0 --virtual-time-budget=5000 --hide-scrollbars "
    .. "--window-size=1280,%d %s --dump-dom %s 2>%s", quote(chromium), quote(profile .. "/profile"), height or 2400,
    screenshot and "--screenshot=" .. quote(screenshot) or "", quote(url), quote(err))
  local p = assert(io.popen(cmd))
  local dom = p:read("a")
  local ok, _, code = p:close()
  local log = read(err) or ""
  os.execute("rm -rf " .. quote(profile))
  assert(ok, string.format("chromium exited with %s (124: timed out):\n%s", tostring(code), log:sub(-3000)))
  local console = {}
  for line in log:gmatch("[^\n]+") do
    if line:find("CONSOLE", 1, true) or line:find("Uncaught", 1, true) then console[#console + 1] = line end
  end
  return dom, console
end

local function file_url(path, hash) return "file://" .. path .. (hash or "") end

-- ------------------------------------------------------------- the page

-- the runs table's rows, in page order: {run = data-run, cells = {data-v...}}
local function runs_table(html)
  local body = html:match('<table id="runs".-<tbody>(.-)</tbody>')
  assert(body, "no runs table in the page")
  local rows = {}
  for run, cells in body:gmatch('<tr data%-run="(%d+)"[^>]*>(.-)</tr>') do
    local row = { run = tonumber(run), cells = {}, classes = {} }
    for attrs in cells:gmatch("<td([^>]*)>") do
      row.cells[#row.cells + 1] = attrs:match('data%-v="([^"]*)"')
      row.classes[#row.classes + 1] = attrs:match('class="([^"]*)"') or ""
    end
    rows[#rows + 1] = row
  end
  return rows
end

local function header(html)
  local head = html:match('<table id="runs".-<thead>(.-)</thead>')
  local keys = {}
  for k in head:gmatch('data%-key="([^"]*)"') do keys[#keys + 1] = k end
  return keys
end

local function column(keys, name)
  for i, k in ipairs(keys) do if k == name then return i end end
  error("no column " .. name .. " in " .. table.concat(keys, " "))
end

local function order(html)
  local ids = {}
  for _, row in ipairs(runs_table(html)) do ids[#ids + 1] = row.run end
  return table.concat(ids, ",")
end

-- ------------------------------------------------------------- a synthetic sweep

-- a gray w×h picture, its pixels from i
local function picture(w, h, i)
  local px = {}
  for k = 1, w * h do px[k] = (k * 37 + i * 91) % 256 end
  return png.encode(w, h, px, { color = "gray", depth = 8 })
end

-- four runs (one without metrics or result, one whose folder is gone) and
-- strings that must be escaped everywhere
local SWEEP_NAME = [[syn<&>"sweep']]
local function synthetic(dir)
  mkdir(dir)
  local runs = {
    { id = "lr=0.1,tag=a", lr = 0.1, tag = "<b>bold</b>", losses = { 0.9, 0.5, 0.3 }, acc = 0.9 },
    { id = "lr=0.01,tag=b", lr = 0.01, tag = "x&y", losses = { 0.8, 0.2, 0.1 }, acc = 0.8 },
    { id = [[lr=1,tag=<i>"c"]], lr = 1, tag = [[<i>"c"]], losses = { 3.0, 2.8, 2.5 }, acc = 0.95 },
    { id = "lr=0.001,tag=d", lr = 0.001, tag = "d" },   -- started, nothing written yet
  }
  local ids = {}
  for i, r in ipairs(runs) do
    ids[i] = r.id
    local d = dir .. "/" .. r.id
    mkdir(d)
    write(d .. "/config.json", json.encode { lr = r.lr, tag = r.tag, seed = 1, epochs = 3, out = d } .. "\n")
    if r.losses then
      local lines = { "epoch,step,seconds,train_loss,test_loss,test_kl" }
      for e, l in ipairs(r.losses) do
        -- test_kl spans 4 decades over the runs: a log-scale chart
        lines[#lines + 1] = string.format("%d,%d,0.5,%.10g,%.10g,%.10g", e, e * 10, l + 0.05, l, 10 ^ (e - i))
      end
      write(d .. "/metrics.csv", table.concat(lines, "\n") .. "\n")
      write(d .. "/result.json", json.encode { test_loss = r.losses[3], accuracy = r.acc, lr = r.lr, tag = r.tag,
        run_id = r.id, run_dir = d } .. "\n")
      write(d .. "/samples.png", picture(12, 8, i))
      if i == 1 then write(d .. "/extra.png", picture(5, 5, 9)) end
    end
  end
  ids[#ids + 1] = "lr=2,tag=gone"   -- in sweep.json, never started here
  write(dir .. "/sweep.json", json.encode { name = SWEEP_NAME, experiment = "toy", keys = { "lr", "tag" }, runs = ids } .. "\n")
  return runs
end

describe("aerun --report", function()
  local dir, html, runs
  setup(function()
    dir = process.tmpdir() .. "/sweep"
    runs = synthetic(dir)
    local out, ok = sh(quote(aerun) .. " --report " .. quote(dir))
    assert(ok, out)
    assert(out:find("wrote " .. dir .. "/report.html", 1, true), out)
    html = read(dir .. "/report.html")
  end)
  teardown(function() os.execute("rm -rf " .. quote(dir:match("^(.*)/sweep$"))) end)

  it("lists every run of the sweep, those without metrics too, with the final metrics", function()
    local keys = header(html)
    -- run, the config keys that differ (the sweep's order), then the metrics
    assert.are.same({ "run", "lr", "tag", "test_loss", "accuracy", "epoch" }, keys)
    local rows = runs_table(html)
    assert.are.equal(5, #rows)
    local want = {
      { "lr=0.1,tag=a", 0.1, "<b>bold</b>", 0.3, 0.9, 3 },
      { "lr=0.01,tag=b", 0.01, "x&y", 0.1, 0.8, 3 },
      { [[lr=1,tag=<i>"c"]], 1, [[<i>"c"]], 2.5, 0.95, 3 },
      { "lr=0.001,tag=d", 0.001, "d" },
      { "lr=2,tag=gone" },
    }
    local function unescape(s)
      return (s:gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&quot;", '"'):gsub("&#39;", "'"):gsub("&amp;", "&"))
    end
    for i, row in ipairs(rows) do
      assert.are.equal(i, row.run)
      for c = 1, 6 do
        local v = want[i][c]
        local got = row.cells[c] and row.cells[c] ~= "" and unescape(row.cells[c]) or nil
        if type(v) == "number" then got = tonumber(got) end
        assert.are.equal(v, got, string.format("row %d column %s", i, keys[c]))
      end
    end
    assert.truthy(html:find('<span class="badge">no result</span>', 1, true))
    assert.truthy(html:find('<span class="badge">missing</span>', 1, true))
  end)

  it("marks the best value of each metric: the lowest loss, the highest accuracy", function()
    local keys, rows = header(html), runs_table(html)
    local loss, acc = column(keys, "test_loss"), column(keys, "accuracy")
    local marked = {}
    for _, row in ipairs(rows) do
      for c, cls in ipairs(row.classes) do
        if cls:find("best") then marked[#marked + 1] = keys[c] .. "@" .. row.run end
      end
    end
    table.sort(marked)
    assert.are.same({ "accuracy@3", "test_loss@2" }, marked)
    assert.are.equal(0.1, tonumber(rows[2].cells[loss]))
    assert.are.equal(0.95, tonumber(rows[3].cells[acc]))
  end)

  it("escapes every string it puts in the page", function()
    assert.falsy(html:find("<b>bold", 1, true))
    assert.falsy(html:find('<i>"c"', 1, true))
    assert.falsy(html:find(SWEEP_NAME, 1, true))
    assert.truthy(html:find("<h1>syn&lt;&amp;&gt;&quot;sweep&#39;</h1>", 1, true))
    assert.truthy(html:find("&lt;b&gt;bold&lt;/b&gt;", 1, true))
    assert.truthy(html:find("x&amp;y", 1, true))
    -- no tag but the page's own: every "<" opens a known element
    local tags = {}
    for t in html:gmatch("<(/?[%w!]+)") do tags[t:gsub("^/", "")] = true end
    tags["!DOCTYPE"] = nil
    local allowed = { html = 1, head = 1, meta = 1, title = 1, style = 1, body = 1, header = 1, h1 = 1, h2 = 1,
      h3 = 1, div = 1, span = 1, code = 1, section = 1, table = 1, thead = 1, tbody = 1, tr = 1, th = 1, td = 1,
      wbr = 1, figure = 1, figcaption = 1, svg = 1, text = 1, tspan = 1, line = 1, rect = 1, g = 1, path = 1,
      circle = 1, img = 1, script = 1 }
    -- the script's own text holds comparisons (x<y): look at the page without it
    local page = html:gsub("<script>.-</script>", "")
    for t in page:gmatch("<(/?[%w!]+)") do
      local name = t:gsub("^/", "")
      if name ~= "!DOCTYPE" then assert(allowed[name], "unexpected element <" .. t .. "> in the page") end
    end
  end)

  it("inlines every picture as a data: URI, the file's bytes in base64", function()
    local coreutils = process.capture("base64 -w0 " .. quote(dir .. "/lr=0.1,tag=a/samples.png"))
    assert.truthy(#coreutils > 100)
    assert.truthy(html:find('src="data:image/png;base64,' .. coreutils .. '"', 1, true))
    -- one panel per file name, a tile per run; runs without the file say so
    assert.truthy(html:find("<h3>extra.png</h3>", 1, true))
    assert.truthy(html:find("<h3>samples.png</h3>", 1, true))
    local n = 0
    for _ in html:gmatch('src="data:image/png;base64,') do n = n + 1 end
    assert.are.equal(4, n)   -- samples.png of three runs, extra.png of one
    assert.falsy(html:find('src="http', 1, true))
    assert.falsy(html:find('href="http', 1, true))
    assert.falsy(html:find("<link", 1, true))
  end)

  it("draws every run's curves, one chart per metric group", function()
    local charts = {}
    for title, body in html:gmatch('<figure class="chart"><svg[^>]-aria%-label="([^"]*)">(.-)</svg>') do
      charts[title] = body
    end
    assert.truthy(charts.loss and charts.kl and charts.seconds, "charts: loss, kl, seconds")
    -- train_loss and test_loss of the three runs with metrics, three points each
    local n = 0
    for d in charts.loss:gmatch('<path d="([^"]*)"') do
      n = n + 1
      local _, points = d:gsub("[ML]", "")
      assert.are.equal(3, points)
    end
    assert.are.equal(6, n)
    -- test_kl goes from 0.01 to 100: a log scale, ticks at powers of ten
    assert.truthy(charts.kl:find("(log scale)", 1, true))
    assert.truthy(charts.kl:find(">0.01</text>", 1, true) and charts.kl:find(">100</text>", 1, true))
    assert.falsy(charts.loss:find("(log scale)", 1, true))
  end)

  it("sorts the table in Chromium, numbers as numbers, both ways, without a console message", function()
    if not find_chromium() then return pending("chromium is not installed and cannot be installed here") end
    local path = dir .. "/report.html"
    -- (each Chromium start costs 2-5 s, so two: one sort up, one down)
    -- by test_loss up: 0.1, 0.3, 2.5, then the runs without one
    local dom, console = browse(file_url(path, "#sort=test_loss"))
    assert.are.same({}, console)
    assert.are.equal("2,1,3,4,5", order(dom))
    assert.truthy(dom:find('data%-key="test_loss"[^>]*aria%-sort="ascending"') or
      dom:find('aria%-sort="ascending"[^>]*data%-key="test_loss"'))
    -- by accuracy down: 0.95, 0.9, 0.8; the pictures follow the table's order
    dom, console = browse(file_url(path, "#sort=-accuracy"))
    assert.are.same({}, console)
    assert.are.equal("3,1,2,4,5", order(dom))
    local tiles = {}
    for run in dom:match("<h3>samples.png</h3>(.-)</section>"):gmatch('<figure class="tile" data%-run="(%d+)"') do
      tiles[#tiles + 1] = run
    end
    assert.are.equal("3,1,2,4,5", table.concat(tiles, ","))
  end)

  it("would see a script error in the console (the check above can fail)", function()
    if not find_chromium() then return pending("chromium is not installed and cannot be installed here") end
    local bad = dir .. "/broken.html"
    write(bad, "<!DOCTYPE html><html><body><p>x</p><script>null.f()</script></body></html>")
    local _, console = browse(file_url(bad))
    assert.are.equal(1, #console)
    assert.truthy(console[1]:find("Uncaught TypeError", 1, true))
  end)
end)

describe("aerun --report on one run", function()
  it("shows its config, metrics, curves and pictures", function()
    local dir = process.tmpdir()
    local run = dir .. "/ae_toy/epochs=2"
    mkdir(run)
    write(run .. "/config.json", '{"epochs": 2, "lr": 0.001}\n')
    write(run .. "/metrics.csv", "epoch,step,seconds,train_loss,test_loss\n1,5,0.1,0.5,0.6\n2,10,0.1,0.25,0.4\n")
    write(run .. "/steps.csv", "step,epoch,train_loss\n1,1,0.9\n2,1,0.7\n3,1,0.6\n")
    write(run .. "/loss.png", picture(64, 40, 1))
    local ae = require "aerun"
    local path = ae.report.write(run, { quiet = true, output = dir .. "/r.html" })
    assert.are.equal(dir .. "/r.html", path)
    local html = read(path)
    assert.truthy(html:find("<h1>ae_toy · epochs=2</h1>", 1, true))
    assert.truthy(html:find("one run, no result", 1, true))
    -- every config key once, the final metrics from the last row of metrics.csv
    assert.truthy(html:find("<div><span>lr</span><span>0.001</span></div>", 1, true))
    local keys, rows = header(html), runs_table(html)
    assert.are.same({ "run", "train_loss", "test_loss", "seconds", "epoch" }, keys)
    assert.are.equal(0.4, tonumber(rows[1].cells[3]))
    assert.truthy(html:find("Curves per step", 1, true))
    assert.truthy(html:find('aria-label="loss"', 1, true))
    os.execute("rm -rf " .. quote(dir))
  end)
end)

describe("aerun --report on a sweep without sweep.json", function()
  it("takes the run folders, in sweep.csv's order", function()
    local dir = process.tmpdir()
    for _, id in ipairs { "a=1", "a=2", "a=3" } do
      mkdir(dir .. "/" .. id)
      write(dir .. "/" .. id .. "/result.json", '{"loss": 1}\n')
    end
    mkdir(dir .. "/notes")   -- no run
    write(dir .. "/sweep.csv", 'a,loss,run_dir\n3,1,"' .. dir .. '/a=3"\n1,1,"' .. dir .. '/a=1"\n')
    local ae = require "aerun"
    local html = read(ae.report.write(dir, { quiet = true }))
    local ids = {}
    for id in html:match("<tbody>(.-)</tbody>"):gmatch('<td data%-v="([^"]*)"><span class="sw"') do ids[#ids + 1] = id end
    -- those sweep.csv lists first, in its order, then the others by name
    assert.are.equal("a=3,a=1,a=2", table.concat(ids, ","))
    os.execute("rm -rf " .. quote(dir))
  end)
end)

describe("aerun --report on bad input", function()
  local dir
  before_each(function() dir = process.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. quote(dir)) end)

  local function report_error(d)
    local out, ok = sh(quote(aerun) .. " --report " .. quote(d))
    assert.falsy(ok, "aerun --report succeeded on bad input:\n" .. out)
    assert.falsy(out:find("stack traceback", 1, true), out)
    return out
  end

  it("names the file and line of a malformed CSV", function()
    write(dir .. "/metrics.csv", "epoch,train_loss\n1,0.5\n2,0.4,7\n")
    assert.truthy(report_error(dir):find("metrics.csv:3: 3 fields where the header has 2", 1, true))
    write(dir .. "/metrics.csv", "epoch,train_loss\n1,0.5\n2,abc\n")
    assert.truthy(report_error(dir):find('metrics.csv:3: column train_loss: "abc" is not a number', 1, true))
    write(dir .. "/metrics.csv", 'epoch,train_loss\n1,"0.5\n')
    assert.truthy(report_error(dir):find("metrics.csv:2: a quoted field is not closed", 1, true))
  end)

  it("names the file and line of malformed JSON", function()
    write(dir .. "/metrics.csv", "epoch,train_loss\n1,0.5\n")
    write(dir .. "/result.json", '{"a": 1,\n "b": }\n')
    assert.truthy(report_error(dir):find("result.json:2: invalid JSON: unexpected '}'", 1, true))
  end)

  it("says what a report needs in a folder that is neither a run nor a sweep", function()
    local out = report_error(dir)
    assert.truthy(out:find("is neither a run directory", 1, true), out)
    assert.truthy(report_error(dir .. "/nothing"):find("no such directory", 1, true))
  end)

  it("treats an empty metrics.csv as a run without metrics", function()
    write(dir .. "/metrics.csv", "")
    local out, ok = sh(quote(aerun) .. " --report " .. quote(dir))
    assert(ok, out)
    assert.truthy(read(dir .. "/report.html"):find("one run, no result", 1, true))
  end)

  it("refuses an option it does not know and a script after the directory", function()
    local ae = require "aerun"
    local ok, err = pcall(ae.report.write, dir, { ouptut = "x" })
    assert.falsy(ok)
    assert.truthy(tostring(err):find("unknown option 'ouptut'", 1, true))
    local out, sok = sh(quote(aerun) .. " --report " .. quote(dir) .. " script.lua")
    assert.falsy(sok)
    assert.truthy(out:find("--report DIR takes no script", 1, true))
  end)
end)

describe("the report of experiments/sweep_vae_beta.lua", function()
  it("renders in Chromium without a console message; the screenshot stays in the build folder", function()
    local dir = process.tmpdir()
    local sweep = dir .. "/sweep_vae_beta"
    local out, ok = sh(string.format("cd %s && %s experiments/sweep_vae_beta.lua --epochs=2 --limit=300 --quiet --out=%s",
      quote(root), quote(aerun), quote(sweep)))
    assert(ok, out:sub(-2000))
    out, ok = sh(quote(aerun) .. " --report " .. quote(sweep))
    assert(ok, out)
    local html = read(sweep .. "/report.html")
    -- 12 runs (4 β × 3 latent sizes), β and latent as columns, their pictures
    assert.are.equal(12, #runs_table(html))
    local keys = header(html)
    assert.are.equal("beta", keys[2])
    assert.are.equal("latent", keys[3])
    for _, name in ipairs { "samples.png", "reconstructions.png", "interpolation.png", "loss.png" } do
      local panel = html:match("<h3>" .. name:gsub("%.", "%%.") .. "</h3>(.-)</div>")
      assert(panel, "no panel " .. name)
      local _, n = panel:gsub("data:image/png;base64,", "")
      assert.are.equal(12, n, name)
    end
    if not find_chromium() then return pending("chromium is not installed and cannot be installed here") end
    mkdir(outdir)
    local shot = outdir .. "/sweep_vae_beta.png"
    os.remove(shot)
    local dom, console = browse(file_url(sweep .. "/report.html", "#sort=test_loss"), shot, 3600)
    assert.are.same({}, console)
    assert.are.equal(12, #runs_table(dom))
    -- the screenshot is a 1280-pixel-wide PNG
    local s = read(shot)
    assert(s and s:sub(1, 8) == "\137PNG\r\n\26\n", "no screenshot at " .. shot)
    assert.are.equal(1280, string.unpack(">I4", s, 17))
    assert(os.execute("cp " .. quote(sweep .. "/report.html") .. " " .. quote(outdir .. "/sweep_vae_beta.html")))
    print("\nreport screenshot: " .. shot)
    os.execute("rm -rf " .. quote(dir))
  end)
end)
