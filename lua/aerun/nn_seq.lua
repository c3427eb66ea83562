-- aerun.nn_seq: the two halves of a recurrent sequence autoencoder (the
-- "LSTM autoencoder" of Keras' blog and of sequential MNIST):
--
--   nn.SeqEncoder(cell, input_size, hidden_size, code_size, {steps, num_layers = 1})
--   nn.SeqDecoder(cell, code_size, hidden_size, output_size,
--                 {steps, num_layers = 1, output = "sigmoid", flat = true})
--
-- The encoder reads a sequence (batch first) with an LSTM or GRU and maps
-- its last layer's final hidden state to the code through a Linear.  The
-- decoder feeds the code at every one of `steps` steps into its own RNN and
-- maps each step's output through a Linear (and a sigmoid).  Both take flat
-- N×(steps·features) batches too, which is how images and windows come
-- from ae.data; nn.AutoEncoder(encoder, decoder) makes the whole model.

--- @module aerun.nn

--- The encoder half of a sequence autoencoder: an LSTM or GRU (batch first) whose last layer's final hidden state a Linear maps to the code.
-- @param cell "lstm" or "gru"
-- @param input_size features a step
-- @param hidden_size the RNN's hidden size
-- @param code_size the code's size
-- @param opts `{steps = n, num_layers = 1}`; steps is needed for flat N×(steps·input_size) input
-- @return a module; called on N×steps×input_size (or flat) it returns the N×code_size code
-- @raise when a size is not a positive integer, the cell is unknown or the input does not fit
-- @usage local e = nn.SeqEncoder("lstm", 28, 16, 8, { steps = 28 }); assert(e(ae.rand(2, 784)):size(2) == 8)
-- @function SeqEncoder

--- The decoder half of a sequence autoencoder: the code fed at every step into an LSTM or GRU, then a Linear a step.
-- @param cell "lstm" or "gru"
-- @param code_size the code's size
-- @param hidden_size the RNN's hidden size
-- @param output_size features a step
-- @param opts `{steps = n, num_layers = 1, output = "sigmoid" or "linear", flat = true}`; flat returns N×(steps·output_size), else N×steps×output_size
-- @return a module
-- @raise as SeqEncoder
-- @usage local d = nn.SeqDecoder("gru", 8, 16, 28, { steps = 28 }); assert(d(ae.rand(2, 8)):size(2) == 784)
-- @function SeqDecoder

local core = require "aerun.core"
local guard = require "aerun.guard"

local cells = { lstm = "LSTM", gru = "GRU" }

local function reject(layer, fmt, ...)
  error(layer .. ": " .. string.format(fmt, ...))
end

local function check_cell(layer, cell)
  if not cells[cell] then reject(layer, "cell must be \"lstm\" or \"gru\", got %s", guard.value(cell)) end
  return cell
end

return function(nn)
  local class, configure, count = nn._class, nn._configure, nn._check_count

  -- the RNN both halves use: batch first, as PyTorch's nn.LSTM/nn.GRU
  local function rnn(cell, input, hidden, layers)
    return nn[cells[cell]](input, hidden, { num_layers = layers, batch_first = true })
  end

  local SeqEncoder = class("SeqEncoder", nn.Module)
  nn.SeqEncoder = SeqEncoder

  function SeqEncoder:init(cell, input_size, hidden_size, code_size, opts)
    local name = "SeqEncoder"
    opts = guard.options(name, opts, { steps = true, num_layers = true })
    local cfg = {
      cell = check_cell(name, cell),
      input_size = count(name, input_size, "input_size"),
      hidden_size = count(name, hidden_size, "hidden_size"),
      code_size = count(name, code_size, "code_size"),
      steps = opts.steps and count(name, opts.steps, "steps") or nil,
      num_layers = count(name, opts.num_layers or 1, "num_layers"),
    }
    configure(self, { "cell", "input_size", "hidden_size", "code_size", "steps", "num_layers" }, cfg)
    self.rnn = rnn(cfg.cell, cfg.input_size, cfg.hidden_size, cfg.num_layers)
    self.to_code = nn.Linear(cfg.hidden_size, cfg.code_size)
  end

  function SeqEncoder:extra_repr()
    local c = self._config
    return string.format("%s, %d, %d, %d, steps=%s, num_layers=%d", c.cell, c.input_size, c.hidden_size,
      c.code_size, tostring(c.steps), c.num_layers)
  end

  function SeqEncoder:forward(x)
    local c = self._config
    if x:dim() == 2 then
      if not c.steps or x:size(2) ~= c.steps * c.input_size then
        reject("SeqEncoder", "a flat input of %d features needs steps × input_size = %s × %d of them",
          x:size(2), tostring(c.steps), c.input_size)
      end
      x = x:reshape(x:size(1), c.steps, c.input_size)
    elseif x:dim() ~= 3 then
      reject("SeqEncoder", "expects N×steps×%d or a flat N×(steps·%d) input, got %d dimensions",
        c.input_size, c.input_size, x:dim())
    end
    local _, state = self.rnn(x)
    local h = c.cell == "lstm" and state[1] or state
    return self.to_code(h:select(1, c.num_layers))
  end

  SeqEncoder.from_config = function(c)
    return SeqEncoder(c.cell, c.input_size, c.hidden_size, c.code_size,
      { steps = c.steps, num_layers = c.num_layers })
  end

  local SeqDecoder = class("SeqDecoder", nn.Module)
  nn.SeqDecoder = SeqDecoder

  function SeqDecoder:init(cell, code_size, hidden_size, output_size, opts)
    local name = "SeqDecoder"
    opts = guard.options(name, opts, { steps = true, num_layers = true, output = true, flat = true })
    if opts.steps == nil then reject(name, "steps is required (how many steps to decode)") end
    local output = opts.output or "sigmoid"
    if output ~= "sigmoid" and output ~= "linear" then
      reject(name, "output must be \"sigmoid\" or \"linear\", got %s", guard.value(output))
    end
    if opts.flat ~= nil and type(opts.flat) ~= "boolean" then
      reject(name, "flat must be true or false, got %s", guard.value(opts.flat))
    end
    local cfg = {
      cell = check_cell(name, cell),
      code_size = count(name, code_size, "code_size"),
      hidden_size = count(name, hidden_size, "hidden_size"),
      output_size = count(name, output_size, "output_size"),
      steps = count(name, opts.steps, "steps"),
      num_layers = count(name, opts.num_layers or 1, "num_layers"),
      output = output,
      flat = opts.flat ~= false,
    }
    configure(self, { "cell", "code_size", "hidden_size", "output_size", "steps", "num_layers", "output", "flat" },
      cfg)
    self.rnn = rnn(cfg.cell, cfg.code_size, cfg.hidden_size, cfg.num_layers)
    self.output = nn.Linear(cfg.hidden_size, cfg.output_size)
  end

  function SeqDecoder:extra_repr()
    local c = self._config
    return string.format("%s, %d, %d, %d, steps=%d, num_layers=%d, output=%s, flat=%s", c.cell, c.code_size,
      c.hidden_size, c.output_size, c.steps, c.num_layers, c.output, tostring(c.flat))
  end

  function SeqDecoder:forward(z)
    local c = self._config
    if z:dim() ~= 2 or z:size(2) ~= c.code_size then
      reject("SeqDecoder", "expects an N×%d code, got %s", c.code_size, guard.value(z))
    end
    local n = z:size(1)
    -- the code at every step: broadcast over a zero sequence, whose
    -- gradient sums the steps' back into the code
    local seq = core.zeros(n, c.steps, c.code_size) + z:unsqueeze(2)
    local y = self.output((self.rnn(seq)))
    if c.output == "sigmoid" then y = y:sigmoid() end
    if c.flat then return y:reshape(n, c.steps * c.output_size) end
    return y
  end

  SeqDecoder.from_config = function(c)
    return SeqDecoder(c.cell, c.code_size, c.hidden_size, c.output_size,
      { steps = c.steps, num_layers = c.num_layers, output = c.output, flat = c.flat })
  end
end
