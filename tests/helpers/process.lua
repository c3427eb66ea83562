-- tests/helpers/process.lua: what the specs (and fuzz/make_seeds.lua) share:
-- where the aerun executable is, shell quoting, running a command, reading
-- and writing whole files, a scratch directory.
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

-- the command's standard output without its trailing white space
-- (stderr is left alone)
function M.capture(cmd)
  local p = assert(io.popen(cmd))
  local s = p:read("a")
  p:close()
  return (s:gsub("%s+$", ""))
end

-- a file's contents, or nil when it cannot be opened
function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- a file's contents, which must be there
function M.read_all(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

function M.write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
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

-- the values of one column of a run's metrics.csv (its text), by epoch
function M.csv_column(csv, name)
  local header, rest = csv:match("^([^\n]+)\n(.*)$")
  local idx, i = nil, 0
  for h in header:gmatch("[^,]+") do
    i = i + 1
    if h == name then idx = i end
  end
  assert(idx, "no column " .. name .. " in " .. header)
  local out = {}
  for line in rest:gmatch("[^\n]+") do
    local j = 0
    for v in (line .. ","):gmatch("([^,]*),") do
      j = j + 1
      if j == idx then out[#out + 1] = tonumber(v) end
    end
  end
  return out
end

-- a CSV file as its header (a list) and rows of fields ("" quoting understood)
function M.read_csv(path)
  local rows = {}
  for line in M.read_all(path):gmatch("[^\n]+") do
    local fields, i = {}, 1
    while i <= #line + 1 do
      if line:sub(i, i) == '"' then
        local j, parts = i + 1, {}
        while true do
          local q = assert(line:find('"', j, true), "unterminated quote in " .. path)
          parts[#parts + 1] = line:sub(j, q - 1)
          if line:sub(q + 1, q + 1) == '"' then
            parts[#parts + 1] = '"'
            j = q + 2
          else
            i = q + 2
            break
          end
        end
        fields[#fields + 1] = table.concat(parts)
      else
        local comma = line:find(",", i, true) or #line + 1
        fields[#fields + 1] = line:sub(i, comma - 1)
        i = comma + 1
      end
    end
    rows[#rows + 1] = fields
  end
  return table.remove(rows, 1), rows
end

return M
