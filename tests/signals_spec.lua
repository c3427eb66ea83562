-- Signals: SIGINT and SIGTERM (what Slurm sends before it preempts a job)
-- end a run after the current step with a checkpoint and a message saying
-- how to resume; a second SIGINT ends the process at once.  The primitives
-- are runtime/lua/signal.c (ae.trap_signals, ae.interrupted); the run's
-- part is Run:step and Run:stop in lua/aerun/experiment.lua.  Also here: a
-- checkpoint that cannot be written (a full disk) fails the run with a
-- message and keeps the previous checkpoint.
local ae = require "aerun"

local process = require "tests.helpers.process"
local root, aerun, quote, sh, read, exists, tmpdir = process.root, process.aerun, process.quote, process.sh, process.read, process.exists, process.tmpdir

local function wait_for(what, pred, seconds)
  local t0 = ae.time()
  while not pred() do
    if ae.time() - t0 > (seconds or 60) then error("timed out waiting for " .. what) end
    sh("sleep 0.01")
  end
end

-- starts cmd in the background through `sh -c`, whose pid it keeps (cmd
-- ends in exec); returns the pid and the files that will hold the
-- output and the exit status
local function spawn(dir, name, cmd)
  local out, status, pidfile = dir .. "/" .. name .. ".out", dir .. "/" .. name .. ".status", dir .. "/" .. name .. ".pid"
  local inner = "echo $$ > " .. quote(pidfile) .. "; " .. cmd
  assert(os.execute(string.format("(sh -c %s >%s 2>&1; echo $? >%s) &", quote(inner), quote(out), quote(status))))
  wait_for(name .. " to start", function() return (read(pidfile) or ""):match("%d+") end)
  local pid = tonumber(read(pidfile):match("%d+"))
  -- a failed assertion must not leave a spinning process behind
  finally(function()
    if not (read(status) or ""):match("%d") then sh("kill -9 " .. pid) end
  end)
  return pid, out, status
end

local function wait_status(status_file, seconds)
  wait_for("exit status", function() return (read(status_file) or ""):match("%d") end, seconds)
  return tonumber(read(status_file):match("%d+"))
end

-- a script that traps the signals, says it is ready, then spins without
-- looking at the flag (as a script stuck in a long computation would)
local SPIN = [[
local ae = require "aerun"
ae.trap_signals(true)
io.open(arg[1], "w"):close()
while true do end
]]

describe("signals", function()
  describe("ae.trap_signals and ae.interrupted", function()
    it("report the first signal and give back the executable's handler", function()
      local dir = tmpdir()
      local script = dir .. "/flag.lua"
      assert(io.open(script, "w")):write([[
local ae = require "aerun"
assert(ae.interrupted() == nil)
assert(ae.trap_signals(true) == false)
io.open(arg[1], "w"):close()
local t0 = ae.time()
while not ae.interrupted() and ae.time() - t0 < 20 do end
print("first", ae.interrupted())
assert(ae.trap_signals(false) == true)
io.open(arg[2], "w"):close()
-- aerun's own handler again: SIGINT stops the script with an error
local t1 = ae.time()
while ae.time() - t1 < 20 do end
print("not stopped")
]]):close()
      local pid, out, status = spawn(dir, "flag", string.format("exec %s %s %s %s", quote(aerun), quote(script),
        quote(dir .. "/ready1"), quote(dir .. "/ready2")))
      wait_for("the script to trap", function() return exists(dir .. "/ready1") end)
      sh("kill -TERM " .. pid)
      wait_for("the script to restore", function() return exists(dir .. "/ready2") end)
      sh("kill -INT " .. pid)
      local code = wait_status(status)
      local text = read(out)
      assert.matches("first\tSIGTERM", text)
      assert.matches("interrupted!", text)
      assert.is_nil(text:match("not stopped"), text)
      assert.are.equal(1, code, text)
      sh("rm -rf " .. quote(dir))
    end)

    it("exit at once on a second SIGINT, with status 130", function()
      local dir = tmpdir()
      local script = dir .. "/spin.lua"
      assert(io.open(script, "w")):write(SPIN):close()
      local pid, out, status = spawn(dir, "spin", string.format("exec %s %s %s", quote(aerun), quote(script),
        quote(dir .. "/ready")))
      wait_for("the script to trap", function() return exists(dir .. "/ready") end)
      sh("kill -INT " .. pid .. "; sleep 0.3")
      assert.is_nil((read(status) or ""):match("%d"), "one SIGINT ended the process")
      local t0 = ae.time()
      sh("kill -INT " .. pid)
      local code = wait_status(status, 10)
      assert.is_true(ae.time() - t0 < 2, "the second SIGINT took " .. (ae.time() - t0) .. " s")
      assert.are.equal(130, code)
      assert.matches("second interrupt", read(out))
      sh("rm -rf " .. quote(dir))
    end)
  end)

  -- a run of vae_mnist stopped by a signal inside epoch 2 of 3
  local function stopped_run(signal, expected_code)
    local dir = tmpdir()
    local base = string.format("cd %s && OPENBLAS_NUM_THREADS=1 AERUN_DATA=%s exec %s %s --epochs=3 --limit=6000",
      quote(dir), quote(root .. "/data"), quote(aerun), quote(root .. "/experiments/vae_mnist.lua"))
    local out, ok = sh(base .. " --quiet --out=whole")
    assert.is_true(ok, out)

    local pid, log, status = spawn(dir, "run", base .. " --out=stopped")
    -- epoch 1's checkpoint marks the start of epoch 2
    wait_for("epoch 1's checkpoint", function() return exists(dir .. "/stopped/checkpoint.h5") end)
    sh("sleep 0.05; kill -" .. signal .. " " .. pid)
    local code = wait_status(status)
    local text = read(log)
    assert.are.equal(expected_code, code, text)
    assert.matches(signal .. " in epoch 2", text)
    local command = text:match("resume with: ([^\n]+)")
    assert.is_not_nil(command, "no resume command in:\n" .. text)
    assert.matches("%-%-resume", command)

    -- the checkpoint loads, and says where in epoch 2 the run stopped
    local info = ae.checkpoint.info(dir .. "/stopped/checkpoint.h5")
    assert.are.equal(1, info.epoch)
    assert.is_not_nil(info.partial, "the checkpoint does not record the position inside the epoch")
    assert.is_true(info.partial.batch >= 1)

    -- the printed command resumes it (its first word is the executable);
    -- the end is bit-identical to the uninterrupted run
    local words = {}
    for w in command:gmatch("%S+") do words[#words + 1] = w end
    words[1] = quote(aerun)
    out, ok = sh(string.format("cd %s && OPENBLAS_NUM_THREADS=1 AERUN_DATA=%s %s", quote(dir),
      quote(root .. "/data"), table.concat(words, " ")))
    assert.is_true(ok, out)
    assert.matches("resumed from .- in epoch 2 after batch", out)
    local a, b = ae.h5.open(dir .. "/whole/checkpoint.h5"), ae.h5.open(dir .. "/stopped/checkpoint.h5")
    local n = 0
    for _, group in ipairs { "params", "optimizer/state" } do
      for _, name in ipairs(a:walk(group)) do
        local x, y = a:read(group .. "/" .. name), b:read(group .. "/" .. name)
        assert.are.equal(0, (x - y):abs():max(), group .. "/" .. name .. " differs")
        n = n + 1
      end
    end
    a:close()
    b:close()
    assert.is_true(n >= 10)
    sh("rm -rf " .. quote(dir))
  end

  describe("a run", function()
    it("stops on SIGTERM after the current step, saves, says how to resume, exits 143", function()
      stopped_run("TERM", 143)
    end)

    it("stops on SIGINT after the current step, saves, says how to resume, exits 130", function()
      stopped_run("INT", 130)
    end)

    it("fails with a message and keeps the previous checkpoint when the disk refuses the next one", function()
      local dir = tmpdir()
      local base = string.format("cd %s && OPENBLAS_NUM_THREADS=1 AERUN_DATA=%s %s %s --limit=1000 --quiet --out=run",
        quote(dir), quote(root .. "/data"), quote(aerun), quote(root .. "/experiments/vae_mnist.lua"))
      local out, ok = sh(base .. " --epochs=1")
      assert.is_true(ok, out)
      local before = read(dir .. "/run/checkpoint.h5")
      -- a file size limit below a checkpoint's size, above everything else
      -- the run writes; SIGXFSZ ignored so that write(2) fails with EFBIG
      local code
      out, ok, code = sh("trap '' XFSZ; ulimit -f 2048; " .. base .. " --epochs=2 --resume")
      assert.is_not_true(ok, out)
      assert.are.equal(1, code, out)
      assert.matches("checkpoint", out)
      assert.matches("File too large", out)
      assert.are.equal(before, read(dir .. "/run/checkpoint.h5"), "the previous checkpoint changed")
      assert.are.equal(1, ae.checkpoint.info(dir .. "/run/checkpoint.h5").epoch)
      sh("rm -rf " .. quote(dir))
    end)
  end)
end)
