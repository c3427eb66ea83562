-- fuzz/known_findings.lua: defects the fuzz targets found that are not
-- fixed yet, so that make fuzz stays usable (it stops at the first
-- finding) while they wait.  Each entry names the target, a plain
-- substring of the error it produces, and where the fix belongs.  A driver
-- that meets one counts it instead of failing; fix the defect, put the
-- input under fuzz/regressions/<target>/ and delete the entry.
return {}
