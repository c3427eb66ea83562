-- fuzz/drivers/report.lua: the report page (lua/aerun/report.lua) over the
-- files it reads: its CSV reader (metrics.csv, steps.csv, sweep.csv), the
-- JSON files (config.json, result.json, sweep.json) and the PNG headers.
-- The first byte of an input chooses which file of a one-run sweep the
-- rest becomes (the others are well formed); the page must then be
-- written, or the failure be a message that names that file.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local report = require "aerun.report"

local files = {
  "run/metrics.csv", "run/steps.csv", "run/config.json", "run/result.json", "sweep.json", "sweep.csv",
  "run/samples.png",
}
local good = {
  ["run/metrics.csv"] = "epoch,step,seconds,train_loss,test_loss\n1,5,0.1,0.5,0.6\n2,10,0.1,0.25,0.4\n",
  ["run/config.json"] = '{"epochs": 2, "lr": 0.001, "name": "x"}\n',
  ["run/result.json"] = '{"test_loss": 0.4, "run_id": "run"}\n',
  ["sweep.json"] = '{"name": "fuzz", "keys": ["lr"], "runs": ["run"]}\n',
}

return function(scratch)
  local dir = scratch .. "/sweep"
  os.execute("mkdir -p '" .. dir .. "/run'")
  return function(data)
    local target = files[(data:byte(1) or 0) % #files + 1]
    for _, f in ipairs(files) do os.remove(dir .. "/" .. f) end
    for f, text in pairs(good) do common.write(dir .. "/" .. f, text) end
    common.write(dir .. "/" .. target, data:sub(2))
    -- sweep.csv orders the runs only where there is no sweep.json
    if target == "sweep.csv" then os.remove(dir .. "/sweep.json") end
    local ok, err = pcall(report.write, dir, { quiet = true })
    if not ok then return common.check_error(err, "report.write", target:match("[^/]+$")) end
    local f = assert(io.open(dir .. "/report.html", "rb"))
    local html = f:read("a")
    f:close()
    assert(html:find("</html>\n$"), "report.write: the page is cut short")
  end
end
