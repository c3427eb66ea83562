-- tests/helpers/process.lua: what the specs that run the aerun executable
-- share: where it is, shell quoting, running a command, small file checks.
local M = {}

M.root = os.getenv("PWD")
local bin = os.getenv("AERUN_BIN") or "build/aerun"
M.aerun = bin:sub(1, 1) == "/" and bin or (M.root .. "/" .. bin)

function M.quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- the command's output (stdout and stderr together), whether it exited
-- with status 0, and its exit code
function M.sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok, code
end

-- a file's contents, or nil when it cannot be opened
function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

function M.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- a new empty directory
function M.tmpdir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. M.quote(dir)))
  return dir
end

return M
