-- ae.metrics.quantile and threshold_at_fpr, which is built on it: the
-- properties that define them, on random lists.
local ae = require "aerun"

describe("metrics", function()
  before_each(function() math.randomseed(11) end)

  it("quantile is the ceil(q·n)-th smallest value, the list left as it was", function()
    for _ = 1, 200 do
      local n, values = math.random(1, 40), {}
      for i = 1, n do values[i] = math.random(-50, 50) / 4 end
      local copy = table.move(values, 1, n, 1, {})
      local q = math.random(0, 100) / 100
      local v = ae.metrics.quantile(values, q)
      assert.are.same(copy, values)
      local below, at_most = 0, 0
      for _, x in ipairs(values) do
        if x < v then below = below + 1 end
        if x <= v then at_most = at_most + 1 end
      end
      -- v holds rank k = max(1, ceil(q·n)) among the sorted values
      local k = math.max(1, math.ceil(n * q))
      assert.is_true(below < k and at_most >= k, string.format("n=%d q=%g v=%g", n, q, v))
    end
    assert.is_nil(ae.metrics.quantile({}, 0.5))
  end)

  it("quantile and threshold_at_fpr refuse a rate outside [0, 1]", function()
    for _, q in ipairs { -0.1, 1.5, 0 / 0, "0.5" } do
      local ok, err = pcall(ae.metrics.quantile, { 1, 2 }, q)
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find("q must be a number in [0, 1]", 1, true), tostring(err))
      ok, err = pcall(ae.metrics.threshold_at_fpr, { 1, 2 }, { false, true }, q)
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find("fpr must be a number in [0, 1]", 1, true), tostring(err))
    end
  end)

  it("threshold_at_fpr leaves at most fpr of the normal scores above it", function()
    for _ = 1, 100 do
      local scores, labels, normal = {}, {}, 0
      for i = 1, math.random(2, 60) do
        scores[i], labels[i] = math.random(), math.random() < 0.3
        if not labels[i] then normal = normal + 1 end
      end
      if normal > 0 then
        local fpr = math.random(0, 20) / 100
        local t, tpr = ae.metrics.threshold_at_fpr(scores, labels, fpr)
        local fp, tp, p = 0, 0, 0
        for i, s in ipairs(scores) do
          if not labels[i] and s > t then fp = fp + 1 end
          if labels[i] then p, tp = p + 1, tp + (s > t and 1 or 0) end
        end
        assert.is_true(fp <= fpr * normal + 1e-9)
        assert.are.equal(p > 0 and tp / p or 0, tpr)
      end
    end
  end)
end)
