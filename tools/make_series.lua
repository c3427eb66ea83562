-- make_series.lua: writes the synthetic time-series benchmark of
-- ae.series.generate (periodic correlated channels, noise, drift, and
-- labelled injected anomalies) to an HDF5 or CSV file.
--   aerun tools/make_series.lua --out=data/series.h5 --length=10000 --channels=4 --seed=0
--   aerun tools/make_series.lua --out=series.csv      # series_train.csv, series_test.csv
-- The first train_fraction of the steps is the train part (train_anomalies
-- anomalies, none by default), the rest the test part (--anomalies of
-- them).  --kinds=spike,flatline keeps those kinds only.  The same options
-- write the same file.  docs/timeseries.md describes the layout.
local ae = require "aerun"

local cfg = ae.config {
  out = "data/series.h5", length = 10000, channels = 4, seed = 0, train_fraction = 0.5,
  anomalies = 10, train_anomalies = 0, noise = 0.1, drift = 0.3, kinds = "all",
}

local kinds
if cfg.kinds ~= "all" then
  kinds = {}
  for k in cfg.kinds:gmatch("[^,]+") do kinds[#kinds + 1] = k end
end

local s = ae.series.generate {
  length = cfg.length, channels = cfg.channels, seed = cfg.seed, train_fraction = cfg.train_fraction,
  anomalies = cfg.anomalies, train_anomalies = cfg.train_anomalies, noise = cfg.noise, drift = cfg.drift,
  kinds = kinds,
}
local dir = cfg.out:match("^(.*)/[^/]*$")
if dir and dir ~= "" then assert(ae.mkdir_p(dir)) end
local files = ae.series.write(cfg.out, s)

local count = {}
for _, ev in ipairs(s.events) do count[ev.kind] = (count[ev.kind] or 0) + 1 end
local parts = {}
for _, k in ipairs(ae.series.kinds) do
  if count[k] then parts[#parts + 1] = string.format("%d %s", count[k], k) end
end
print(string.format("wrote %s: %d channels, train %d steps, test %d steps; anomalies: %s",
  table.concat(files, " and "), cfg.channels, s.train.x:size(1), s.test.x:size(1),
  #parts > 0 and table.concat(parts, ", ") or "none"))
