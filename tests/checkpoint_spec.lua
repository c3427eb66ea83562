-- checkpoint_spec.lua: ae.checkpoint against the contract of README.md's
-- "Checkpoint format, version 1".  Resumed training must be bit-identical
-- to uninterrupted training; every strict check must refuse with a message
-- naming what differs and change nothing; a failed or killed save must
-- leave the previous checkpoint; h5dump must see the documented layout.
local ae = require "aerun"
local nn = ae.nn

local process = require "tests.helpers.process"
local quote, capture, read_all, write_all = process.quote, process.capture, process.read_all, process.write
local BIN = process.aerun

-- false, with the test marked pending, when there is no executable to run
local function have_aerun()
  if process.exists(BIN) then return true end
  pending("no aerun executable at " .. BIN)
  return false
end

local function values(model)
  local out = {}
  for name, p in model:named_parameters() do out[name] = p:totable() end
  return out
end

local function train(model, opt, x, steps)
  for _ = 1, steps do
    opt:zero_grad()
    local loss = ae.loss.mse(model(x), x)
    loss:backward()
    opt:step()
  end
end

local function mlp_ae()
  return nn.AutoEncoder(nn.mlp({ 20, 12, 6 }), nn.mlp({ 6, 12, 20 }, { last = nn.Sigmoid }))
end

-- expects fn(...) to fail with every string of `parts` in its message
local function fails(parts, fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  err = tostring(err)
  assert.is_nil(err:find("aerun/[%w_]+%.lua:%d+:"), "a position inside aerun in: " .. err)
  for _, part in ipairs(type(parts) == "table" and parts or { parts }) do
    assert.is_truthy(err:find(part, 1, true), "missing \"" .. part .. "\" in: " .. err)
  end
  return err
end

describe("ae.checkpoint", function()
  local dir

  setup(function() dir = process.tmpdir() end)
  teardown(function() os.execute("rm -rf " .. quote(dir)) end)

  local function path(name) return dir .. "/" .. name end

  local function temps(d)
    return capture("ls -a " .. quote(d or dir) .. " | grep -c '\\.tmp\\.' || true")
  end

  describe("resuming", function()
    local cases = {
      { "Linear with SGD momentum", function() return nn.Linear(20, 20) end,
        function(p) return ae.optim.SGD(p, { lr = 0.1, momentum = 0.9 }) end },
      { "Sequential with Adam", function() return nn.Sequential { nn.Linear(20, 8), nn.Tanh(), nn.Linear(8, 20) } end,
        function(p) return ae.optim.Adam(p, { lr = 1e-2 }) end },
      { "AutoEncoder with Adam", mlp_ae, function(p) return ae.optim.Adam(p, { lr = 3e-3, betas = { 0.8, 0.99 } }) end },
      { "AutoEncoder with Nesterov SGD and weight decay", mlp_ae,
        function(p) return ae.optim.SGD(p, { lr = 0.05, momentum = 0.5, nesterov = true, weight_decay = 1e-4 }) end },
      { "AutoEncoder with AdamW", mlp_ae, function(p) return ae.optim.AdamW(p, { lr = 1e-3 }) end },
    }
    for _, case in ipairs(cases) do
      local name, make_model, make_opt = case[1], case[2], case[3]
      it("continues bit-identically: " .. name, function()
        ae.manual_seed(7)
        local a = make_model()
        local opt_a = make_opt(a:parameters())
        train(a, opt_a, ae.rand(8, 20), 5)
        local p = path("resume.h5")
        ae.checkpoint.save(p, { model = a, optimizer = opt_a, epoch = 1 })
        -- the original goes on, drawing its next batch from the RNG
        local xa = ae.rand(8, 20)
        train(a, opt_a, xa, 5)

        ae.manual_seed(99)
        local b = make_model()
        local opt_b = make_opt(b:parameters())
        opt_b:set_lr(0.5)
        assert.are_not.same(values(a), values(b))
        local info = ae.checkpoint.load(p, { model = b, optimizer = opt_b })
        assert.are.equal(1, info.epoch)
        local xb = ae.rand(8, 20)   -- the restored RNG draws the same batch
        assert.are.same(xa:totable(), xb:totable())
        train(b, opt_b, xb, 5)
        assert.are.same(values(a), values(b))
        assert.are.same(opt_a:state_dict().hyperparameters, opt_b:state_dict().hyperparameters)
      end)
    end

    it("restores the RNG only when asked", function()
      ae.manual_seed(5)
      local m = nn.Linear(3, 2)
      local p = path("rng.h5")
      ae.checkpoint.save(p, { model = m })
      local next_draw = ae.randn(6):totable()
      ae.randn(100)
      ae.checkpoint.load(p, { model = m })
      assert.are.same(next_draw, ae.randn(6):totable())
      ae.manual_seed(11)
      local expected = ae.randn(6):totable()
      ae.manual_seed(11)
      ae.checkpoint.load(p, { model = m, restore_rng = false })
      assert.are.same(expected, ae.randn(6):totable())
    end)

    it("restores BatchNorm buffers when nn.BatchNorm1d exists", function()
      if not nn.BatchNorm1d then
        pending("nn.BatchNorm1d not available")
        return
      end
      ae.manual_seed(2)
      local a = nn.Sequential { nn.Linear(5, 4), nn.BatchNorm1d(4) }
      a(ae.randn(16, 5))   -- training mode: running statistics move
      local p = path("bn.h5")
      ae.checkpoint.save(p, { model = a })
      local b = nn.Sequential { nn.Linear(5, 4), nn.BatchNorm1d(4) }
      ae.checkpoint.load(p, { model = b })
      local function buffers(m)
        local out = {}
        for name, t in m:named_buffers() do out[name] = t:totable() end
        return out
      end
      assert.is_not.same({}, buffers(a))
      assert.are.same(buffers(a), buffers(b))
      a:eval()
      b:eval()
      local x = ae.randn(3, 5)
      assert.are.same(a(x):totable(), b(x):totable())
    end)
  end)

  describe("what is saved", function()
    it("round-trips metrics, config, epoch, step, seed and script", function()
      ae.manual_seed(1234)
      local m = nn.Linear(2, 2)
      local config = {
        lr = 0.1 + 0.2, epochs = 10, lambda = 1e-3, name = "sparse \"ae\"\n✓ λ", flags = { true, false },
        layers = { 784, 128, 32 }, nested = { a = { b = 1.0 } }, empty = {}, big = 2 ^ 53 + 1 | 0,
      }
      local metrics = { loss = { 0.5, 0.25, 1 / 3 }, ["test/loss"] = { 1e-300, 2.5 }, none = {} }
      local p = path("meta.h5")
      ae.checkpoint.save(p, { model = m, epoch = 3, step = 1500, config = config, metrics = metrics, script = "exp.lua" })
      local info = ae.checkpoint.load(p, { model = m })
      assert.are.equal(3, info.epoch)
      assert.are.equal(1500, info.step)
      assert.are.equal(1234, info.seed)
      assert.are.equal("exp.lua", info.script)
      assert.is_truthy(info.created:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"))
      assert.are.same(metrics, info.metrics)
      assert.are.same(config, info.config)
      assert.are.equal("integer", math.type(info.config.epochs))
      assert.are.equal("float", math.type(info.config.nested.a.b))
    end)

    it("stores a metric with gaps as NaN in the gaps", function()
      local m = nn.Linear(2, 2)
      local p = path("gaps.h5")
      ae.checkpoint.save(p, { model = m, metrics = { test = { [2] = 0.5, [4] = 0.25 }, nan = { 0 / 0 } } })
      local got = ae.checkpoint.load(p, { model = m }).metrics
      local t = got.test
      assert.are.equal(4, #t)
      assert.is_true(t[1] ~= t[1] and t[3] ~= t[3])
      assert.are.equal(0.5, t[2])
      assert.are.equal(0.25, t[4])
      assert.is_true(got.nan[1] ~= got.nan[1])
      fails({ "metrics.loss has the key x" }, ae.checkpoint.save, p, { model = m, metrics = { loss = { x = 1 } } })
    end)

    it("refuses config values that are not data", function()
      local m = nn.Linear(2, 2)
      fails({ "checkpoint.save", "config.schedule is a function" }, ae.checkpoint.save, path("bad.h5"),
        { model = m, config = { schedule = function() end } })
      fails({ "config.x is NaN" }, ae.checkpoint.save, path("bad.h5"), { model = m, config = { x = 0 / 0 } })
      fails({ "config.y is inf" }, ae.checkpoint.save, path("bad.h5"), { model = m, config = { y = math.huge } })
      fails({ "metrics.loss[2] is string" }, ae.checkpoint.save, path("bad.h5"),
        { model = m, metrics = { loss = { 1, "x" } } })
      fails({ "model must be an nn module" }, ae.checkpoint.save, path("bad.h5"), { model = 3 })
      assert.is_nil(io.open(path("bad.h5")))
      assert.are.equal("0", temps())
    end)

    it("names the state of parameters outside the model param<i>", function()
      local m = nn.Linear(2, 2)
      local w = ae.randn(3):requires_grad_(true)
      local opt = ae.optim.SGD({ w }, { lr = 0.1, momentum = 0.9 })
      w.grad = ae.ones(3)
      opt:step()
      local p = path("extra.h5")
      ae.checkpoint.save(p, { model = m, optimizer = opt })
      local f = ae.h5.open(p)
      assert.are.same({ "param1/momentum_buffer" }, f:walk("optimizer/state"))
      f:close()
      local w2 = ae.zeros(3):requires_grad_(true)
      local opt2 = ae.optim.SGD({ w2 }, { lr = 0.1, momentum = 0.9 })
      ae.checkpoint.load(p, { model = m, optimizer = opt2 })
      assert.are.same(opt:state_dict().state[1].momentum_buffer:totable(),
        opt2:state_dict().state[1].momentum_buffer:totable())
    end)

    it("summarises a file with info and rebuilds the model with model()", function()
      ae.manual_seed(3)
      local m = mlp_ae()
      local opt = ae.optim.Adam(m:parameters(), { lr = 1e-3 })
      train(m, opt, ae.rand(4, 20), 2)
      local p = path("rebuild.h5")
      ae.checkpoint.save(p, { model = m, optimizer = opt, epoch = 2, config = { lr = 1e-3 } })
      local info = ae.checkpoint.info(p)
      assert.are.equal(m:num_parameters(), info.num_parameters)
      assert.are.equal("Adam", info.optimizer.type)
      assert.are.equal(2, info.optimizer.step)
      assert.are.equal(1e-3, info.optimizer.hyperparameters.lr)
      assert.are.equal("AutoEncoder", info.architecture.type)
      assert.are.equal(1, info.format_version)
      assert.are.equal(ae.version, info.aerun_version)
      local names = {}
      for _, e in ipairs(info.params) do names[#names + 1] = e.name .. "=" .. table.concat(e.shape, "x") end
      assert.are.same({ "decoder/0/bias=12", "decoder/0/weight=12x6", "decoder/2/bias=20", "decoder/2/weight=20x12",
        "encoder/0/bias=12", "encoder/0/weight=12x20", "encoder/2/bias=6", "encoder/2/weight=6x12" }, names)
      local rebuilt = ae.checkpoint.model(p)
      assert.are.same(values(m), values(rebuilt))
      local x = ae.rand(3, 20)
      assert.are.same(m(x):totable(), rebuilt(x):totable())
      assert.are.equal(tostring(m), tostring(rebuilt))
    end)

    it("never runs code from the file: unknown types are refused by name", function()
      local p = path("foreign_arch.h5")
      ae.checkpoint.save(p, { model = nn.Linear(2, 2) })
      local f = ae.h5.open(p, "a")
      f:set_attr("model", "architecture",
        '{"type":"os.execute","config":{"cmd":"touch ' .. path("pwned") .. '"},"children":[' ..
        '{"name":"inner","module":{"type":"Linear","config":{"in_features":2,"out_features":2,"bias":true}}}]}')
      f:close()
      fails({ p, "unknown module type 'os.execute'" }, ae.checkpoint.model, p)
      assert.is_nil(io.open(path("pwned")))
      f = ae.h5.open(p, "a")
      f:set_attr("model", "architecture", '{"type":"Linear","config":{"in_features":"2; os.exit()","out_features":2}}')
      f:close()
      fails({ p, "/model: cannot rebuild the model" }, ae.checkpoint.model, p)
    end)
  end)

  -- classes a script defines (Module:extend): their constructor arguments
  -- are recorded, and nn.register is all a rebuild needs
  describe("a script's classes", function()
    local json = ae.checkpoint.json

    -- a class taking every kind of argument that can be recorded
    local Kinds = nn.Module:extend("Kinds")
    function Kinds:init(n, x, name, flag, hole, sizes, opts, inner, act)
      self.args = { n, x, name, flag, hole, sizes, opts }
      self.fc = nn.Linear(n, sizes[#sizes])
      self.inner = inner
      self.act = act()
    end
    function Kinds:forward(v) return self.inner(self.act(self.fc(v))) end
    nn.register(Kinds)

    local function kinds()
      return Kinds(3, 0.25, "name ✓", false, nil, { 4, 5 }, { depth = 2, list = { 1, nil, 3 }, [10] = "ten" },
        nn.Sequential { nn.Linear(5, 2), nn.Tanh() }, nn.ELU)
    end

    it("records numbers, strings, booleans, nil, tables, modules and classes, and rebuilds from them", function()
      ae.manual_seed(21)
      local m = kinds()
      local p = path("kinds.h5")
      ae.checkpoint.save(p, { model = m })
      local arch = ae.checkpoint.info(p).architecture
      assert.are.equal("Module", arch.base)
      assert.are.same({ "forward" }, arch.overrides)
      assert.are.equal(9, #arch.args)
      assert.are.same({ ["nil"] = true }, arch.args[5])
      assert.are.same({ class = "ELU" }, arch.args[9])
      assert.are.equal("Sequential", arch.args[8].module.type)
      local r = ae.checkpoint.model(p)
      assert.are.equal(getmetatable(m), getmetatable(r))
      assert.are.same(m.args, r.args)
      assert.are.equal(math.type(m.args[2]), math.type(r.args[2]))
      assert.are.same(values(m), values(r))
      local x = ae.randn(2, 3)
      assert.are.same(m(x):totable(), r(x):totable())
      -- the architecture survives a second save of the rebuilt model
      assert.are.equal(json.encode(m:architecture(), "a", { config = true }),
        json.encode(r:architecture(), "a", { config = true }))
    end)

    it("records the arguments as they were when the module was made", function()
      local sizes = { 4, 5 }
      local m = Kinds(3, 1, "s", true, nil, sizes, {}, nn.Identity(), nn.ReLU)
      sizes[2] = 99
      assert.are.same({ list = { 4, 5 } }, m:architecture().args[6])
    end)

    it("a class extending a built-in one keeps its base and rebuilds through its constructor", function()
      local Deep = nn.AutoEncoder:extend("DeepAE")
      function Deep:init(d, code)
        nn.AutoEncoder.init(self, nn.mlp { d, 8, code }, nn.mlp({ code, 8, d }, { last = nn.Sigmoid }))
        self.code = code
      end
      function Deep:score(x) return ae.loss.mse(self(x), x, "none"):mean(2) end
      nn.register(Deep)
      ae.manual_seed(22)
      local m = Deep(12, 3)
      local p = path("deep.h5")
      ae.checkpoint.save(p, { model = m })
      local arch = ae.checkpoint.info(p).architecture
      assert.are.equal("AutoEncoder", arch.base)
      assert.is_nil(arch.overrides)
      assert.are.same({ 12, 3 }, arch.args)
      local r = ae.checkpoint.model(p)
      assert.are.equal(3, r.code)
      local x = ae.rand(4, 12)
      assert.are.same(m:score(x):totable(), r:score(x):totable())
    end)

    it("refuses, when saving, an argument it cannot record, naming the class and the argument", function()
      local Holder = nn.Module:extend("Holder")
      function Holder:init() self.fc = nn.Linear(2, 2) end
      local cases = {
        { function() end, "Holder: argument 2 of the constructor is a function, which a checkpoint cannot record" },
        { ae.rand(3), "Holder: argument 2 of the constructor is a tensor, which a checkpoint cannot record",
          "make the tensor a parameter (nn.Parameter) or a buffer (register_buffer)" },
        { { f = print }, 'Holder: argument 2 of the constructor["f"] is a function' },
        { setmetatable({}, {}), "argument 2 of the constructor is a table with a metatable (an object)" },
        { { [true] = 1 }, "is a table with a boolean key" },
        { coroutine.create(print), "argument 2 of the constructor is a thread" },
      }
      for i, c in ipairs(cases) do
        local p = path("holder" .. i .. ".h5")
        fails({ "checkpoint.save", c[2], c[3] }, ae.checkpoint.save, p, { model = Holder(1, c[1]) })
        assert.is_false(process.exists(p))
      end
      local t = {}
      t.self = t
      fails("nested too deeply (a cycle?)", ae.checkpoint.save, path("cycle.h5"), { model = Holder(t) })
    end)

    it("without nn.register, says what to load and register; a stale class fails strictly", function()
      local Unseen = nn.VAE:extend("Unseen")
      function Unseen:init(d)
        nn.VAE.init(self, nn.Linear(d, 4), nn.Linear(4, 2), nn.Linear(4, 2), nn.Linear(2, d))
      end
      local p = path("unseen.h5")
      ae.checkpoint.save(p, { model = Unseen(5), script = "train_unseen.lua" })
      fails({ "checkpoint " .. p .. " holds a model of class 'Unseen', defined by a script (saved by train_unseen.lua): "
        .. "load the script that defines it and call nn.register(Unseen) before ae.checkpoint.model" },
        ae.checkpoint.model, p)
      -- nested: the message says where
      ae.checkpoint.save(p, { model = nn.Sequential { nn.Linear(5, 5), Unseen(5) } })
      fails({ "class 'Unseen' (at 1), defined by a script" }, ae.checkpoint.model, p)
      -- a class of that name whose constructor now makes other layers
      local Changed = nn.VAE:extend("Unseen")
      function Changed:init(d)
        nn.VAE.init(self, nn.Linear(d, 6), nn.Linear(6, 2), nn.Linear(6, 2), nn.Linear(2, d))
      end
      nn.register(Changed)
      fails({ "params/1/encoder/weight: file has 4×5, model has 6×5",
        "the model was rebuilt from /model: its constructor made other parameters than the file holds" },
        ae.checkpoint.model, p)
    end)

    it("as_base rebuilds a class that is not registered as the built-in class it derives from", function()
      local Scored = nn.VAE:extend("ScoredVAE")
      function Scored:init(d)
        nn.VAE.init(self, nn.Sequential { nn.Linear(d, 4), nn.ReLU() }, nn.Linear(4, 2), nn.Linear(4, 2),
          nn.Sequential { nn.Linear(2, d), nn.Sigmoid() })
      end
      function Scored:score(x) return self:encode(x) end
      ae.manual_seed(23)
      local x = ae.rand(3, 5)
      local p = path("scored.h5")
      ae.checkpoint.save(p, { model = Scored(5), probe = x })
      fails("or ae.checkpoint.model(path, {as_base = true}) rebuilds it as the nn.VAE it derives from, without its "
        .. "own methods", ae.checkpoint.model, p)
      local m = ae.checkpoint.model(p, { as_base = true })
      assert.are.equal(nn.VAE, getmetatable(m))
      assert.are.equal("VAE", nn.base(m))
      assert.is_nil(m.score)
      local f = ae.h5.open(p)
      local saved = f:read("probe/decoded")
      f:close()
      assert.are.same(saved:totable(), ae.checkpoint.probe(m, x).decoded:totable())
      -- saved again, it is still a ScoredVAE made from 5
      local p2 = path("scored2.h5")
      ae.checkpoint.save(p2, { model = m })
      local arch = ae.checkpoint.info(p2).architecture
      assert.are.equal("ScoredVAE", arch.type)
      assert.are.same({ 5 }, arch.args)
      assert.are.equal("VAE", arch.base)
      -- a class replacing forward cannot stand in for itself
      local Own = nn.AutoEncoder:extend("OwnForward")
      function Own:forward(v) return self.decoder(self.encoder(v)) * 2 end
      ae.checkpoint.save(p, { model = Own(nn.Linear(2, 2), nn.Linear(2, 2)) })
      local err = fails("holds a model of class 'OwnForward', defined by a script", ae.checkpoint.model, p, { as_base = true })
      assert.is_nil(err:find("as_base", 1, true), err)
      fails("unknown option 'base'", ae.checkpoint.model, p, { base = true })
    end)

    it("nn.register takes only classes, and not a built-in class's name", function()
      fails("nn.register: expects a module class", nn.register, nn.Linear(2, 2))
      fails("nn.register: expects a module class", nn.register, "Linear")
      fails("the class name 'Linear' is a built-in class's", nn.register, nn.Module:extend("Linear"))
      assert.are.equal(nn.Linear, nn.register(nn.Linear))
    end)

    it("a class saved before arguments were recorded needs from_config, and says so", function()
      local Old = nn.Module:extend("OldStyle")
      function Old:init() self.fc = nn.Linear(2, 2) end
      nn.register(Old)
      local p = path("old.h5")
      ae.checkpoint.save(p, { model = Old() })
      local f = ae.h5.open(p, "a")
      f:set_attr("model", "architecture", '{"type":"OldStyle","config":{},"config_keys":[],"children":'
        .. '[{"name":"fc","module":{"type":"Linear","config":{"in_features":2,"out_features":2,"bias":true}}}]}')
      f:close()
      fails("OldStyle was saved without its constructor arguments (by an aerun older than recording them); define "
        .. "OldStyle.from_config(config, children)", ae.checkpoint.model, p)
      Old.from_config = function(_, children)
        local m = Old()
        assert.are.equal("fc", children[1].name)
        return m
      end
      assert.are.equal("OldStyle", ae.checkpoint.model(p)._type)
    end)

    it("nn.build makes stand-ins for unknown types only when asked", function()
      local arch = { type = "Mystery", base = "Module", args = { 3 }, config = {}, children = {
        { name = "fc", module = nn.Linear(2, 2):architecture() } } }
      fails("nn.build: Mystery is a class defined by a script: load the script that defines it and call "
        .. "nn.register(Mystery)", nn.build, arch)
      local c = nn.build(arch, { unknown = "container" })
      assert.are.equal(nn.Container, getmetatable(c))
      assert.are.same(arch.args, c:architecture().args)
      assert.are.equal("Module", c:architecture().base)
      fails("Mystery: this module was rebuilt from a checkpoint without the script", c, ae.rand(1, 2))
    end)
  end)

  describe("the probe", function()
    it("saves the model's outputs in eval mode without touching the RNG or the training flags", function()
      ae.manual_seed(31)
      local m = nn.Sequential { nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Dropout(0.5), nn.Linear(6, 3) }
      ae.no_grad(function() m(ae.randn(8, 4)) end)
      local x = ae.randn(5, 4)
      local p = path("probe.h5")
      local before = ae.rng_state()
      ae.checkpoint.save(p, { model = m, probe = x })
      assert.are.equal(before, ae.rng_state())
      assert.is_true(m.training and m[2].training and m[3].training)
      local f = ae.h5.open(p)
      assert.are.same({ "input", "output" }, f:list("probe"))
      assert.are.same(x:totable(), f:read("probe/input"):totable())
      local saved = f:read("probe/output")
      f:close()
      m:eval()
      assert.are.same(ae.no_grad(function() return m(x) end):totable(), saved:totable())
      -- BatchNorm and Dropout rebuild from their config (running statistics included)
      local r = ae.checkpoint.model(p)
      assert.are.same(saved:totable(), ae.checkpoint.probe(r, x).output:totable())
    end)

    it("a VAE's probe is encode and decode at the mean, since its forward samples", function()
      ae.manual_seed(32)
      local m = nn.VAE(nn.Linear(4, 3), nn.Linear(3, 2), nn.Linear(3, 2), nn.Linear(2, 4))
      local x = ae.rand(3, 4)
      local out = ae.checkpoint.probe(m, x)
      local mu, logvar = m:encode(x)
      assert.are.same(mu:totable(), out.mu:totable())
      assert.are.same(logvar:totable(), out.logvar:totable())
      assert.are.same(m:decode(mu):totable(), out.decoded:totable())
    end)

    it("refuses what is not an input, and a model that fails on it, before writing", function()
      local p = path("badprobe.h5")
      fails("checkpoint.save: probe must be an input tensor, got table", ae.checkpoint.save, p,
        { model = nn.Linear(2, 2), probe = {} })
      fails({ "checkpoint.save: probe: the model failed on the probe input", "linear" }, ae.checkpoint.save, p,
        { model = nn.Linear(2, 2), probe = ae.rand(3, 5) })
      assert.is_false(process.exists(p))
    end)
  end)

  describe("strict loading", function()
    local p, model

    setup(function()
      ae.manual_seed(21)
      model = mlp_ae()
      local opt = ae.optim.Adam(model:parameters())
      train(model, opt, ae.rand(4, 20), 1)
      p = path("strict.h5")
      ae.checkpoint.save(p, { model = model, optimizer = opt })
    end)

    -- a copy of the good checkpoint, changed by edit(f)
    local function variant(name, edit)
      local q = path(name)
      write_all(q, read_all(p))
      local f = ae.h5.open(q, "a")
      edit(f)
      f:close()
      return q
    end

    -- the load fails and the target model, optimizer and RNG are untouched
    local function refuses(parts, file, target, opt)
      local before = values(target)
      local opt_before = opt and opt:state_dict()
      ae.manual_seed(77)
      local err = fails(parts, ae.checkpoint.load, file, { model = target, optimizer = opt })
      assert.are.same(before, values(target))
      if opt then assert.are.same(opt_before.step, opt:state_dict().step) end
      local draw = ae.randn(3):totable()
      ae.manual_seed(77)
      assert.are.same(ae.randn(3):totable(), draw)
      return err
    end

    it("names a wrong shape, model and file side", function()
      local m = nn.AutoEncoder(nn.mlp({ 20, 16, 6 }), nn.mlp({ 6, 12, 20 }, { last = nn.Sigmoid }))
      refuses({ p .. ": the checkpoint does not match the model",
        "params/encoder/0/weight: file has 12×20, model has 16×20",
        "params/encoder/0/bias: file has 12, model has 16",
        "params/encoder/2/weight: file has 6×12, model has 6×16" }, p, m)
    end)

    it("lists missing and unexpected names", function()
      local m = nn.AutoEncoder(nn.mlp({ 20, 12, 6 }), nn.mlp({ 6, 12, 20 }, { last = nn.Sigmoid }))
      m.encoder:add(nn.Linear(6, 6))   -- encoder/4 is not in the file
      refuses({ "missing in the file: params/encoder/4/weight, params/encoder/4/bias" }, p, m)
      local small = nn.Sequential { nn.Linear(20, 12) }
      refuses({ "missing in the file: params/0/weight, params/0/bias",
        "unexpected in the file: params/decoder/0/bias, params/decoder/0/weight" }, p, small)
    end)

    it("checks the optimizer: type, state names and presence", function()
      local m = mlp_ae()
      refuses({ "/optimizer: the file holds Adam state, the optimizer is SGD" }, p, m,
        ae.optim.SGD(m:parameters(), { lr = 0.1, momentum = 0.9 }))
      local decoder_only = ae.optim.Adam(m.decoder:parameters())
      refuses({ "unexpected in the file: optimizer/state/encoder/0/bias/exp_avg" }, p, m, decoder_only)
      local bare = path("bare.h5")
      ae.checkpoint.save(bare, { model = m })
      refuses({ "/optimizer: not found" }, bare, m, ae.optim.Adam(m:parameters()))
    end)

    it("refuses another format, a newer version, and a broken version", function()
      local m = mlp_ae()
      refuses({ ": not an aerun checkpoint (format is \"keras\"" },
        variant("format.h5", function(f) f:set_attr("/", "format", "keras") end), m)
      refuses({ ": format_version 2 is newer than this aerun reads (1)" },
        variant("v2.h5", function(f) f:set_attr("/", "format_version", 2) end), m)
      refuses({ ": format_version is 1.5, not a version number" },
        variant("v15.h5", function(f) f:set_attr("/", "format_version", 1.5) end), m)
    end)

    it("refuses files that are not checkpoints", function()
      local m = mlp_ae()
      local text = path("notes.h5")
      write_all(text, "epoch 3: loss 0.01\n")
      refuses({ text .. ": not an HDF5 file" }, text, m)
      local half = path("half.h5")
      local s = read_all(p)
      write_all(half, s:sub(1, #s // 2))
      refuses({ half .. ": " }, half, m)
      local foreign = path("foreign.h5")
      local f = ae.h5.open(foreign, "w")
      f:write("data/images", ae.zeros(2, 2))
      f:set_attr("/", "source", "somewhere else")
      f:close()
      refuses({ foreign .. ": not an aerun checkpoint (no format attribute; it holds: data)" }, foreign, m)
      refuses({ path("nothing.h5") .. ": cannot open" }, path("nothing.h5"), m)
    end)

    it("checks everything before changing anything", function()
      -- right names and shapes, but one dataset cannot be read as numbers
      local m = mlp_ae()
      -- found only when reading the RNG state, after the params were read
      local q = variant("late.h5", function(f) f:write("train/rng_state", ae.zeros(4)) end)
      refuses({ q, "/train/rng_state" }, q, m, ae.optim.Adam(m:parameters()))
      -- found only by the optimizer, after the RNG state was set
      q = variant("lr.h5", function(f) f:set_attr("optimizer", "hyperparameters", '{"lr":-1}') end)
      refuses({ q .. ": /optimizer:", "lr" }, q, m, ae.optim.Adam(m:parameters()))
    end)
  end)

  describe("atomic saves", function()
    local function loads_as(p, expected_model)
      local m = mlp_ae()
      ae.checkpoint.load(p, { model = m, restore_rng = false })
      assert.are.same(values(expected_model), values(m))
    end

    it("keep the previous file when a save fails half way", function()
      ae.manual_seed(4)
      local old = mlp_ae()
      local p = path("keep.h5")
      ae.checkpoint.save(p, { model = old })
      local new = mlp_ae()
      -- an optimizer whose state turns out bad after the params are written
      local broken = {
        type = "Broken", params = new:parameters(),
        state_dict = function() return { type = "Broken", hyperparameters = {}, step = 1, state = { { slot = "text" } } } end,
        load_state_dict = function() end,
      }
      fails({ "checkpoint.save", "optimizer state[1].slot is a string" }, ae.checkpoint.save, p,
        { model = new, optimizer = broken })
      loads_as(p, old)
      assert.are.equal("0", temps())
    end)

    it("fail clearly where the directory cannot hold a file", function()
      local m = nn.Linear(2, 2)
      write_all(path("plain"), "a regular file")
      fails({ "checkpoint.save", path("plain") .. "/x.h5" }, ae.checkpoint.save, path("plain") .. "/x.h5", { model = m })
      fails({ "checkpoint.save", "/proc/aerun-ckpt.h5: cannot create" }, ae.checkpoint.save, "/proc/aerun-ckpt.h5",
        { model = m })
    end)

    it("keep the previous file when the disk refuses the write (file size limit)", function()
      if not have_aerun() then return end
      ae.manual_seed(8)
      local old = mlp_ae()
      local p = path("limit.h5")
      ae.checkpoint.save(p, { model = old })
      local script = path("big_save.lua")
      write_all(script, string.format([[
        local ae = require "aerun"
        local m = ae.nn.Sequential { ae.nn.Linear(1000, 1000) }
        ae.checkpoint.save(%q, { model = m })
      ]], p))
      -- 200 blocks of at most 1 KiB: far less than the 4 MB the save needs
      local cmd = string.format("sh -c 'ulimit -f 200; trap \"\" XFSZ; exec %s %s' 2>%s", BIN, script, path("err.txt"))
      local ok = os.execute(cmd)
      assert.is_falsy(ok)
      local err = read_all(path("err.txt"))
      assert.is_truthy(err:find("File too large", 1, true), err)
      loads_as(p, old)
      assert.are.equal("0", temps())
    end)

    it("leave a loadable file when the saving process is killed at any moment", function()
      if not have_aerun() then return end
      local p = path("killed.h5")
      local script = path("save_loop.lua")
      -- every save holds one value k in all its parameters
      write_all(script, string.format([[
        local ae = require "aerun"
        local m = ae.nn.Sequential { ae.nn.Linear(500, 500), ae.nn.Linear(500, 500) }
        for k = 1, 1000 do
          ae.no_grad(function() for _, q in ipairs(m:parameters()) do q:fill_(k) end end)
          ae.checkpoint.save(%q, { model = m, epoch = k })
        end
      ]], p))
      local m = nn.Sequential { nn.Linear(500, 500), nn.Linear(500, 500) }
      ae.no_grad(function() for _, q in ipairs(m:parameters()) do q:fill_(0) end end)
      ae.checkpoint.save(p, { model = m, epoch = 0 })
      for _, delay in ipairs { "0.15", "0.3", "0.45", "0.6", "0.9" } do
        os.execute(string.format("timeout -s KILL %s %s %s >/dev/null 2>&1", delay, BIN, script))
        local info = ae.checkpoint.load(p, { model = m, restore_rng = false })
        for _, q in ipairs(m:parameters()) do
          local lo, hi = q:min(), q:max()
          assert.are.equal(info.epoch, lo)
          assert.are.equal(info.epoch, hi)
        end
        os.execute("rm -f " .. quote(p) .. ".tmp.*")
      end
    end)
  end)

  describe("the file as other tools see it", function()
    -- h5dump -H as a tree: path -> {kind =, type =, space =}
    local function h5dump_tree(file)
      local out = capture("h5dump -H " .. quote(file) .. " 2>&1")
      local tree, stack = {}, {}
      for line in out:gmatch("[^\n]+") do
        local kind, name = line:match('^%s*(%u+) "(.-)" {')
        if kind == "GROUP" or kind == "DATASET" or kind == "ATTRIBUTE" then
          local parent = stack[#stack]
          local base = parent and parent.path or ""
          local full
          if kind == "ATTRIBUTE" then full = base .. "@" .. name
          elseif name == "/" then full = "/"
          else full = (base == "/" and "" or base) .. "/" .. name end
          local node = { kind = kind, path = full }
          tree[full] = node
          stack[#stack + 1] = node
        else
          -- a DATATYPE { ... } block belongs to the object around it
          local node = stack[#stack]
          if node and node.inner then node = node.node end
          if node then
            node.type = node.type or line:match("DATATYPE%s+([%w_]+)")
            node.cset = node.cset or line:match("CSET%s+([%w_]+);")
            node.space = node.space or line:match("DATASPACE%s+(.*)$")
          end
          if line:find("{%s*$") then
            stack[#stack + 1] = { inner = true, node = node, path = node and node.path }
          elseif line:match("^%s*}%s*$") then
            stack[#stack] = nil
          end
        end
      end
      return tree, out
    end

    it("lists the documented groups, datasets and attributes in h5dump -H", function()
      if os.execute("command -v h5dump >/dev/null 2>&1") ~= true then
        pending("h5dump not installed (hdf5-tools)")
        return
      end
      ae.manual_seed(6)
      local m = nn.AutoEncoder(nn.mlp({ 784, 128, 64, 32 }), nn.mlp({ 32, 64, 128, 784 }, { last = nn.Sigmoid }))
      local opt = ae.optim.Adam(m:parameters())
      train(m, opt, ae.rand(2, 784), 1)
      local p = path("dump.h5")
      ae.checkpoint.save(p, { model = m, optimizer = opt, epoch = 1, metrics = { loss = { 0.1 } }, config = { a = 1 } })
      local tree, text = h5dump_tree(p)
      local function has(full, kind, typ, space)
        local node = tree[full]
        assert.is_truthy(node, full .. " is not in h5dump's output:\n" .. text)
        assert.are.equal(kind, node.kind, full)
        if typ then assert.are.equal(typ, node.type, full) end
        if space then assert.is_truthy(node.space:find(space, 1, true), full .. ": " .. tostring(node.space)) end
        return node
      end
      for _, a in ipairs { "format", "aerun_version", "created" } do
        assert.are.equal("H5T_CSET_UTF8", has("/@" .. a, "ATTRIBUTE", "H5T_STRING", "SCALAR").cset)
      end
      has("/@format_version", "ATTRIBUTE", "H5T_STD_I64LE", "SCALAR")
      for _, g in ipairs { "/params", "/buffers", "/model", "/optimizer", "/optimizer/state", "/train",
        "/train/metrics", "/config" } do
        has(g, "GROUP")
      end
      for name, p_ in m:named_parameters() do
        has("/params/" .. name, "DATASET", "H5T_IEEE_F32LE", "( " .. table.concat(p_:shape(), ", ") .. " )")
        has("/optimizer/state/" .. name .. "/exp_avg", "DATASET", "H5T_IEEE_F32LE")
        has("/optimizer/state/" .. name .. "/exp_avg_sq", "DATASET", "H5T_IEEE_F32LE")
      end
      has("/params/encoder/0/weight", "DATASET", "H5T_IEEE_F32LE", "( 128, 784 )")
      has("/model@architecture", "ATTRIBUTE", "H5T_STRING")
      has("/optimizer@type", "ATTRIBUTE", "H5T_STRING")
      has("/optimizer@hyperparameters", "ATTRIBUTE", "H5T_STRING")
      has("/optimizer@step", "ATTRIBUTE", "H5T_STD_I64LE")
      for _, a in ipairs { "epoch", "step", "seed" } do has("/train@" .. a, "ATTRIBUTE", "H5T_STD_I64LE") end
      has("/train@script", "ATTRIBUTE", "H5T_STRING")
      has("/train/rng_state", "DATASET", "H5T_STD_U8LE", "( 48 )")
      has("/train/metrics/loss", "DATASET", "H5T_IEEE_F64LE", "( 1 )")
      has("/config@json", "ATTRIBUTE", "H5T_STRING")
    end)
  end)

  describe("JSON", function()
    local json

    setup(function() json = require("aerun.checkpoint").json end)

    it("reads back every double exactly and keeps integers apart from floats", function()
      ae.manual_seed(9)
      local xs = { 0.1, 1 / 3, 1e-310, 5e-324, 1.7976931348623157e308, -0.0, 2.0, 1e16, 123456789.125 }
      for _ = 1, 200 do
        local u = ae.rand(2):totable()
        xs[#xs + 1] = (u[1] - 0.5) * 10 ^ math.floor(u[2] * 40 - 20)
      end
      local back = json.decode(json.encode(xs))
      for i, x in ipairs(xs) do
        assert.are.equal(x, back[i])
        assert.are.equal("float", math.type(back[i]))
      end
      local ints = { 0, -1, 2 ^ 53 + 1 | 0, math.maxinteger, math.mininteger }
      local iback = json.decode(json.encode(ints))
      for i, n in ipairs(ints) do
        assert.are.equal(n, iback[i])
        assert.are.equal("integer", math.type(iback[i]))
      end
    end)

    it("reads standard JSON: escapes, surrogates, literals, whitespace", function()
      local v = json.decode(' { "a" : [ 1 , 2.5e1 , -3E-1 , true , false ] , "s" : "q\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00" } ')
      assert.are.same({ 1, 25.0, -0.3, true, false }, v.a)
      assert.are.equal('q"\\/\b\f\n\r\té😀', v.s)
      assert.are.equal('"a\\u0001b"', json.encode("a\1b"))
      for _, bad in ipairs { "", "{", "[1,]", '{"a" 1}', "tru", '"open', "1 2", "[1]x" } do
        assert.is_false(pcall(json.decode, bad), bad)
      end
    end)
  end)
end)
