-- fuzz/known_findings.lua: defects the fuzz targets found that are not
-- fixed yet, so that make fuzz stays usable (it stops at the first
-- finding) while they wait.  Each entry names the target, a plain
-- substring of the error it produces, and where the fix belongs.  A driver
-- that meets one counts it instead of failing; fix the defect, put the
-- input under fuzz/regressions/<target>/ and delete the entry.
return {
  {
    target = "checkpoint",
    match = "cannot rebuild the model: table index is nil",
    fix = "lua/aerun/nn.lua nn.build: a child without a name in the architecture JSON "
      .. "(input: fuzz/regressions/checkpoint/architecture-child-without-name)",
  },
  {
    target = "config",
    match = "bad argument #1 to 'char' (value out of range)",
    fix = "lua/aerun/json.lua: a \\u escape must be exactly four hex digits (\"\\u-3e1\" passes "
      .. "tonumber(s, 16) as -993): local hex = s:sub(k + 2, k + 5); local code = "
      .. "hex:match(\"^%x%x%x%x$\") and tonumber(hex, 16) "
      .. "(input: fuzz/regressions/config/json-u-escape-with-sign)",
  },
}
