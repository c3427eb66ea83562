-- tests/helpers/slurm.lua: a one-node Slurm cluster for a test, made of
-- Debian's slurm-wlm and munge, living in one temporary folder: munged with
-- its own key, socket, pid and log files; slurmctld and slurmd with a
-- slurm.conf whose state, spool, pid and log files are all in the folder,
-- on a free pair of TCP ports.  Nothing is written outside the folder.
--
--   local slurm = require "tests.helpers.slurm"
--   local c, why = slurm.new()      -- nil and the reason when Slurm is not there
--   c:start()                       -- raises with the daemons' logs when one fails
--   c:sh("sbatch ...")              -- a command with SLURM_CONF pointing at the cluster
--   c:logs()                        -- the tail of every daemon's log
--   c:stop()                        -- every job and daemon gone, the folder removed
--
-- Every process the cluster starts (daemons, slurmstepd, the jobs) has
-- SLURM_CONF=<the folder's slurm.conf> in its environment: stop() finds
-- any that are left by that mark and kills them by pid.
local process = require "tests.helpers.process"
local quote, sh = process.quote, process.sh

local M = {}

local DAEMONS = { "munged", "munge", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo", "scancel" }
local SBIN_PATH = "export PATH=$PATH:/usr/sbin:/sbin; "
-- the daemons run without the test's LD_PRELOAD (make test-asan preloads
-- libasan into every process; Slurm and munge are not built for it)
local DAEMON_ENV = "env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS "

local function now()
  local p = io.popen("date +%s.%N")
  local t = tonumber(p:read("a"))
  p:close()
  return t
end
M.now = now

local function missing_commands()
  local missing = {}
  for _, cmd in ipairs(DAEMONS) do
    local _, ok = sh(SBIN_PATH .. "command -v " .. cmd)
    if not ok then missing[#missing + 1] = cmd end
  end
  return missing
end

-- the binaries, installed with apt-get when they are missing and we may
-- (root, apt-get present); nil or the reason they are not there
local function ensure_binaries()
  local missing = missing_commands()
  if #missing == 0 then return nil end
  local uid = process.capture("id -u")
  local _, has_apt = sh("command -v apt-get")
  if uid ~= "0" or not has_apt then
    return string.format("Slurm is not installed (missing %s) and cannot be installed here (%s): "
      .. "apt-get install slurm-wlm munge, or make test-deps", table.concat(missing, ", "),
      uid ~= "0" and "not root" or "no apt-get")
  end
  local out, ok = sh("DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge")
  missing = missing_commands()
  if #missing > 0 then
    return "apt-get install slurm-wlm munge failed (still missing " .. table.concat(missing, ", ") .. "):\n"
      .. (ok and "" or out:sub(-2000))
  end
  return nil
end

-- TCP ports something listens on, from /proc/net/tcp and tcp6
local function listening_ports()
  local used = {}
  for _, file in ipairs { "/proc/net/tcp", "/proc/net/tcp6" } do
    local text = process.read(file) or ""
    for port, st in text:gmatch("%s*%d+: %x+:(%x+) %x+:%x+ (%x%x)") do
      if st == "0A" then used[tonumber(port, 16)] = true end
    end
  end
  return used
end

-- two free consecutive ports, from a range drawn at random so that two
-- clusters on one machine do not collide
local function free_port_pair()
  local used = listening_ports()
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
  for _ = 1, 200 do
    local p = math.random(20000, 60000)
    if not used[p] and not used[p + 1] then return p, p + 1 end
  end
  error("no free pair of TCP ports found")
end

local Cluster = {}
Cluster.__index = Cluster

-- a cluster not started yet (its folder made), or nil and the reason
-- Slurm cannot be used here
function M.new()
  local why = ensure_binaries()
  if why then return nil, why end
  local dir = process.capture('mktemp -d "${TMPDIR:-/tmp}/aerun-slurm.XXXXXX"')
  assert(dir:match("/aerun%-slurm%.%w+$"), "mktemp -d failed: cannot make the cluster's folder")
  local c = setmetatable({ dir = dir, conf = dir .. "/slurm.conf", host = process.capture("hostname -s") }, Cluster)
  c.user = process.capture("id -un")
  c.env = "export SLURM_CONF=" .. quote(c.conf) .. "; "
  return c
end

-- a shell command run with the cluster's SLURM_CONF (and /usr/sbin on PATH) exported:
-- its output, whether it exited 0, its code
function Cluster:sh(cmd)
  return sh(self.env .. SBIN_PATH .. cmd)
end

function Cluster:capture(cmd)
  return process.capture(self.env .. SBIN_PATH .. cmd .. " 2>/dev/null")
end

local function tail(path, n)
  local text = process.read(path)
  if not text then return "(no " .. path .. ")" end
  local lines = {}
  for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
  return table.concat(lines, "\n", math.max(1, #lines - n + 1))
end

-- the last lines of each daemon's log, for a failure message
function Cluster:logs(n)
  n = n or 40
  local parts = {}
  for _, name in ipairs { "slurmctld.log", "slurmd.log", "munged.log" } do
    parts[#parts + 1] = "---- " .. name .. " (last " .. n .. " lines) ----\n" .. tail(self.dir .. "/log/" .. name, n)
  end
  return table.concat(parts, "\n")
end

function Cluster:write_config(ctld_port, d_port)
  local d = self.dir
  local lines = {
    "# a one-node cluster for tests/slurm_spec.lua; everything in " .. d,
    "ClusterName=aeruntest",
    string.format("SlurmctldHost=%s(127.0.0.1)", self.host),
    "SlurmctldPort=" .. ctld_port,
    "SlurmdPort=" .. d_port,
    "SlurmUser=" .. self.user,
    "SlurmdUser=" .. self.user,
    "AuthType=auth/munge",
    "CredType=cred/munge",
    "AuthInfo=socket=" .. d .. "/munge/munge.socket",
    "StateSaveLocation=" .. d .. "/state",
    "SlurmdSpoolDir=" .. d .. "/spool",
    "SlurmctldPidFile=" .. d .. "/slurmctld.pid",
    "SlurmdPidFile=" .. d .. "/slurmd.pid",
    "SlurmctldLogFile=" .. d .. "/log/slurmctld.log",
    "SlurmdLogFile=" .. d .. "/log/slurmd.log",
    "SlurmctldDebug=info",
    "SlurmdDebug=info",
    "PlugStackConfig=" .. d .. "/plugstack.conf",   -- empty: none of /etc/slurm's plugins
    -- no cgroups (none in a container, no systemd): processes tracked by parentage
    "ProctrackType=proctrack/linuxproc",
    "TaskPlugin=task/none",
    "JobAcctGatherType=jobacct_gather/none",
    "AccountingStorageType=accounting_storage/none",
    "JobCompType=jobcomp/none",
    "SwitchType=switch/none",
    "MpiDefault=none",
    "PreemptType=preempt/none",
    -- one CPU per task, so that two array tasks run side by side
    "SelectType=select/cons_tres",
    "SelectTypeParameters=CR_CPU",
    -- schedule at once rather than every minute
    "SchedulerType=sched/backfill",
    "SchedulerParameters=sched_interval=1,bf_interval=1",
    -- requeued jobs go back into the queue; a job that exits 143 (aerun
    -- after SIGTERM, checkpoint written) is requeued too
    "JobRequeue=1",
    "RequeueExit=143",
    -- SIGTERM, then SIGKILL this many seconds later: time for a checkpoint
    "KillWait=30",
    "ReturnToService=2",
    "SlurmdTimeout=30",
    "MaxArraySize=1000",
    string.format("NodeName=%s NodeAddr=127.0.0.1 CPUs=2 RealMemory=500 State=UNKNOWN", self.host),
    string.format("PartitionName=aerun Nodes=%s Default=YES MaxTime=INFINITE State=UP", self.host),
  }
  process.write(self.conf, table.concat(lines, "\n") .. "\n")
  process.write(d .. "/plugstack.conf", "")
end

local function alive(pid)
  if not pid then return false end
  local stat = process.read("/proc/" .. pid .. "/stat")
  return stat ~= nil and stat:match("%) (%a)") ~= "Z"
end

local function read_pid(path)
  local text = process.read(path)
  return text and tonumber(text:match("%d+"))
end

-- waits until fn() is true, polling; false after timeout seconds
local function wait_for(timeout, fn)
  local t0 = now()
  while now() - t0 < timeout do
    if fn() then return true end
    sh("sleep 0.2")
  end
  return fn()
end
M.wait_for = wait_for

-- starts munged, slurmctld and slurmd and waits for the node to be idle;
-- raises with the logs when any of it fails
function Cluster:start()
  local d = self.dir
  -- munged wants its socket's directory reachable by all, the key private
  local out, ok = sh(DAEMON_ENV .. "sh -c " .. quote("chmod 755 " .. quote(d) .. " && mkdir -p "
    .. quote(d .. "/munge") .. " " .. quote(d .. "/log") .. " " .. quote(d .. "/state") .. " "
    .. quote(d .. "/spool") .. " && chmod 755 " .. quote(d .. "/munge")))
  if not ok then error("cannot make the cluster's folders in " .. d .. ":\n" .. out) end
  local random = assert(io.open("/dev/urandom", "rb"))
  process.write(d .. "/munge/munge.key", random:read(1024))
  random:close()
  out, ok = sh("chmod 600 " .. quote(d .. "/munge/munge.key"))
  if not ok then error("chmod of the munge key failed:\n" .. out) end
  out, ok = self:sh(string.format(DAEMON_ENV .. "munged --key-file=%s --socket=%s --pid-file=%s --log-file=%s --seed-file=%s",
    quote(d .. "/munge/munge.key"), quote(d .. "/munge/munge.socket"), quote(d .. "/munge/munged.pid"),
    quote(d .. "/log/munged.log"), quote(d .. "/munge/munged.seed")))
  self.started = true
  if not ok then error("munged did not start:\n" .. out .. "\n" .. self:logs()) end
  out, ok = self:sh(string.format("munge -n -S %s | unmunge -S %s", quote(d .. "/munge/munge.socket"),
    quote(d .. "/munge/munge.socket")))
  if not ok then error("munge does not work:\n" .. out .. "\n" .. self:logs()) end

  self.ports = { free_port_pair() }
  self:write_config(self.ports[1], self.ports[2])
  out, ok = self:sh(DAEMON_ENV .. "slurmctld -f " .. quote(self.conf))
  if not ok then error("slurmctld did not start:\n" .. out .. "\n" .. self:logs()) end
  out, ok = self:sh(DAEMON_ENV .. "slurmd -f " .. quote(self.conf) .. " -N " .. quote(self.host))
  if not ok then error("slurmd did not start:\n" .. out .. "\n" .. self:logs()) end

  local state = ""
  local idle = wait_for(30, function()
    state = self:capture("sinfo -h -N -o %t")
    return state == "idle"
  end)
  if not idle then
    error(string.format("the node is not idle 30 s after starting the daemons (sinfo says %q):\n%s",
      state, self:logs()))
  end
end

-- the pids of processes whose environment holds this cluster's SLURM_CONF
function Cluster:processes()
  local mark = "SLURM_CONF=" .. self.conf .. "\0"
  local pids = {}
  local p = io.popen("ls /proc")
  for name in p:lines() do
    local pid = tonumber(name)
    if pid then
      local env = process.read("/proc/" .. pid .. "/environ")
      if env and (env .. "\0"):find(mark, 1, true) and alive(pid) then pids[#pids + 1] = pid end
    end
  end
  p:close()
  return pids
end

-- every job cancelled, every daemon stopped, the folder removed.  Safe to
-- call twice; returns the pids it had to kill with SIGKILL
function Cluster:stop()
  if self.stopped then return self.killed or {} end
  self.stopped = true
  local killed = {}
  if self.started then
    self:sh("scancel --user=" .. quote(self.user) .. " --full --quiet")
    wait_for(15, function() return self:capture("squeue -h -o %i") == "" end)
    self:sh("scontrol shutdown")
    local ctld, slurmd = read_pid(self.dir .. "/slurmctld.pid"), read_pid(self.dir .. "/slurmd.pid")
    wait_for(15, function() return not alive(ctld) and not alive(slurmd) end)
    local munged = read_pid(self.dir .. "/munge/munged.pid")
    if munged then os.execute("kill " .. munged .. " 2>/dev/null") end
    wait_for(10, function() return not alive(munged) end)
    -- whatever is left (a daemon that would not stop, a slurmstepd, a job)
    for _, pid in ipairs(self:processes()) do
      os.execute("kill -9 " .. pid .. " 2>/dev/null")
      killed[#killed + 1] = pid
    end
    for _, pid in ipairs { ctld, slurmd, munged } do
      if alive(pid) then
        os.execute("kill -9 " .. pid .. " 2>/dev/null")
        killed[#killed + 1] = pid
      end
    end
    wait_for(10, function() return #self:processes() == 0 end)
  end
  if not os.getenv("AERUN_KEEP_SLURM") then os.execute("rm -rf " .. quote(self.dir)) end
  self.killed = killed
  return killed
end

return M
