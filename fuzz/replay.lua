-- fuzz/replay.lua: runs a fuzz driver on files, in the aerun executable.
--   aerun fuzz/replay.lua <target> <file or directory>...
-- Every file (directories: every file in them) goes through the driver as
-- one input, as the libFuzzer harness would give it; a driver error is
-- printed with the file's name and makes the exit status 1.  This is how
-- the crash files in fuzz/regressions/ stay fixed without clang.
local exit = os.exit   -- a driver may replace os.exit (config's does)
local target = arg[1]
if not target or not arg[2] then
  io.stderr:write("usage: aerun fuzz/replay.lua <target> <file or directory>...\n")
  os.exit(2)
end
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local scratch = os.tmpname()
os.remove(scratch)
assert(os.execute("mkdir -p " .. quote(scratch)))
local driver = assert(loadfile(here .. "drivers/" .. target .. ".lua"))()(scratch)

local files = {}
for i = 2, #arg do
  local p = io.popen("find " .. quote(arg[i]) .. " -type f ! -name '.*' ! -name 'README*' | sort")
  for line in p:lines() do files[#files + 1] = line end
  p:close()
end

local failed = 0
for _, path in ipairs(files) do
  local f = assert(io.open(path, "rb"))
  local data = f:read("a")
  f:close()
  local ok, err = xpcall(driver, debug.traceback, data)
  if not ok then
    failed = failed + 1
    io.stderr:write(path, ": ", tostring(err), "\n")
  end
end
os.execute("rm -rf " .. quote(scratch))
print(string.format("%s: %d inputs, %d failed", target, #files, failed))
exit(failed == 0 and 0 or 1)
