-- aerun: the Lua face of the runtime.  `local ae = require "aerun"`.
-- Tensor functions and the op families' tables (ae.loss, ae.kl, ae.penalty,
-- ae.noise) come from the C core; the submodules (nn, optim, data,
-- config...) load on first use, so a script pays only for what it uses.
local core = require "aerun.core"

local ae = {}
for k, v in pairs(core) do ae[k] = v end

ae.version = "0.1.0"

local submodules = {
  nn = "aerun.nn", optim = "aerun.optim",
  data = "aerun.data", config = "aerun.config", experiment = "aerun.experiment",
  models = "aerun.models",
  schedule = "aerun.schedule", image = "aerun.image", h5 = "aerun.h5", checkpoint = "aerun.checkpoint",
  recipes = "aerun.recipes", metrics = "aerun.metrics", json = "aerun.json",
  sweep = "aerun.sweep", repl = "aerun.repl", eval = "aerun.eval", report = "aerun.report",
  series = "aerun.series",
}

return setmetatable(ae, {
  __index = function(t, k)
    local name = submodules[k]
    if name then
      local m = require(name)
      rawset(t, k, m)
      return m
    end
  end,
})
