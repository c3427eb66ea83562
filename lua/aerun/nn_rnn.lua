-- aerun.nn_rnn: the recurrent layers of ae.nn, as in PyTorch:
--
--   nn.LSTM(input_size, hidden_size, {num_layers = 1, bias = true, batch_first = false,
--           dropout = 0, bidirectional = false})
--   nn.GRU(...)                                          the same arguments
--
--   local output, state = lstm(x [, {h0, c0} [, {lengths = {...}}]])   state = {h_n, c_n}
--   local output, h_n = gru(x [, h0 [, {lengths = {...}}]])
--
-- The options may also come positionally in PyTorch's order (LSTM(4, 8, 2,
-- true, true)) or as one table named like the arguments (how nn.build
-- rebuilds one).  x is T×B×input_size (B×T×… with batch_first), or T×input_size
-- for one sequence; h0 and c0 are (num_layers·directions)×B×hidden_size.
-- Parameters, gate order and initialisation are PyTorch's, so a
-- checkpoint loads into torch.nn.LSTM/GRU strictly.  Each layer and
-- direction is one call of the C op (ae.lstm / ae.gru), the time loop in C.
--
-- Sequences of different lengths: lengths lists each sequence's number of
-- valid steps (any order); the output is 0 past a sequence's end and h_n
-- (c_n) is its state after its last valid step, in both directions, which
-- is what PyTorch gives for pack_padded_sequence(x, lengths,
-- enforce_sorted=False) and pad_packed_sequence(total_length=T).

--- @module aerun.nn

--- A long short-term memory layer (stack), PyTorch's gates (i, f, g, o), parameter names and initialisation.
-- Called as `lstm(x [, {h0, c0} [, {lengths = {...}}]])`, it returns the
-- output (T×B×D·hidden, B×T×… with batch_first) and `{h_n, c_n}`, each
-- (num_layers·D)×B×hidden (D = 2 when bidirectional).  `lengths` (a list or
-- a 1-D tensor, one entry per sequence in 1..T, any order) gives
-- PyTorch's packed-sequence results: the output 0 past each end, h_n and
-- c_n the state after each sequence's last valid step.
-- @param input_size
-- @param hidden_size
-- @param[opt] opts `{num_layers = 1, bias = true, batch_first = false, dropout = 0, bidirectional = false}`
-- (or positionally in PyTorch's order)
-- @return a module; parameters `weight_ih_l0` (4·hidden×input), `weight_hh_l0`,
-- `bias_ih_l0`, `bias_hh_l0`, … and `…_reverse` for the backward direction
-- @raise when a size is not a positive integer, an option is unknown, or
-- (when called) the input, state or lengths do not fit
-- @usage local lstm = nn.LSTM(3, 5, { num_layers = 2 })
-- local y, state = lstm(ae.rand(7, 4, 3))
-- assert(y:size(3) == 5 and state[1]:size(1) == 2 and state[2]:size(3) == 5)
-- @function LSTM

--- A gated recurrent unit layer (stack), PyTorch's gates (r, z, n), parameter names and initialisation.
-- Called as `gru(x [, h0 [, {lengths = {...}}]])`, it returns the output
-- and h_n, shaped as the LSTM's; lengths as for the LSTM.
-- @param input_size
-- @param hidden_size
-- @param[opt] opts `{num_layers = 1, bias = true, batch_first = false, dropout = 0, bidirectional = false}`
-- @return a module; parameters as the LSTM's with 3·hidden rows
-- @raise as LSTM
-- @usage local gru = nn.GRU(3, 5, { bidirectional = true, batch_first = true })
-- local y, h = gru(ae.rand(4, 7, 3), nil, { lengths = { 7, 2, 5, 1 } })
-- assert(y:size(3) == 10 and h:size(1) == 2 and y[2][3]:abs():sum():item() == 0)
-- @function GRU

local core = require "aerun.core"
local guard = require "aerun.guard"

local NAMES = { "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional" }

local function reject(layer, fmt, ...)
  error(layer .. ": " .. string.format(fmt, ...))
end

local function boolean(layer, name, v, default)
  if v == nil then return default end
  if type(v) ~= "boolean" then reject(layer, "%s must be true or false, got %s", name, guard.value(v)) end
  return v
end

local function shape_str(t) return table.concat(t:shape(), "×") end

return function(nn)
  local class, configure, uniform, check_count = nn._class, nn._configure, nn.uniform_init, nn._check_count
  local arguments = nn._arguments
  local is_tensor = function(v) return getmetatable(v) == debug.getregistry()["aerun.Tensor"] end

  local function rnn_layer(name, gates, op)
    local lstm = name == "LSTM"
    local cls = class(name, nn.Module)
    nn[name] = cls

    function cls:init(...)
      local a = arguments(name, NAMES, table.pack(...), 3)
      local cfg = {
        input_size = check_count(name, a.input_size, "input_size"),
        hidden_size = check_count(name, a.hidden_size, "hidden_size"),
        num_layers = check_count(name, a.num_layers or 1, "num_layers"),
        bias = boolean(name, "bias", a.bias, true),
        batch_first = boolean(name, "batch_first", a.batch_first, false),
        dropout = a.dropout or 0,
        bidirectional = boolean(name, "bidirectional", a.bidirectional, false),
      }
      local p = cfg.dropout
      if type(p) ~= "number" or not (p >= 0 and p <= 1) then
        reject(name, "dropout should be a number in range [0, 1] representing the probability of an element "
          .. "being zeroed, got %s", guard.value(p))
      end
      -- dropout acts between layers: with one layer it does nothing, which
      -- PyTorch warns about and so does aerun
      if p > 0 and cfg.num_layers == 1 then
        io.stderr:write(string.format("warning: %s: dropout=%s has no effect with num_layers=1 (dropout acts "
          .. "between layers)\n", name, tostring(p)))
      end
      configure(self, NAMES, cfg)
      -- PyTorch's reset_parameters: every parameter U(±1/√hidden_size),
      -- drawn in registration order (which is PyTorch's)
      local H, bound = cfg.hidden_size, 1 / math.sqrt(cfg.hidden_size)
      local D = cfg.bidirectional and 2 or 1
      for l = 0, cfg.num_layers - 1 do
        local in_size = l == 0 and cfg.input_size or H * D
        for d = 0, D - 1 do
          local sfx = "_l" .. l .. (d == 1 and "_reverse" or "")
          self["weight_ih" .. sfx] = uniform(bound, gates * H, in_size)
          self["weight_hh" .. sfx] = uniform(bound, gates * H, H)
          if cfg.bias then
            self["bias_ih" .. sfx] = uniform(bound, gates * H)
            self["bias_hh" .. sfx] = uniform(bound, gates * H)
          end
        end
      end
    end

    function cls:extra_repr()
      local c = self._config
      local s = string.format("%d, %d", c.input_size, c.hidden_size)
      if c.num_layers ~= 1 then s = s .. ", num_layers=" .. c.num_layers end
      if not c.bias then s = s .. ", bias=false" end
      if c.batch_first then s = s .. ", batch_first=true" end
      if c.dropout ~= 0 then s = s .. ", dropout=" .. c.dropout end
      if c.bidirectional then s = s .. ", bidirectional=true" end
      return s
    end

    cls.from_config = function(c)
      return cls(c.input_size, c.hidden_size, { num_layers = c.num_layers, bias = c.bias,
        batch_first = c.batch_first, dropout = c.dropout, bidirectional = c.bidirectional })
    end

    -- the initial state for all layers, or nil: (L·D)×B×H, checked
    local function state_tensor(what, v, c, B, unbatched)
      if v == nil then return nil end
      if not is_tensor(v) then reject(name, "%s must be a tensor, got %s", what, guard.value(v)) end
      local D = c.bidirectional and 2 or 1
      local want = unbatched and { c.num_layers * D, c.hidden_size } or { c.num_layers * D, B, c.hidden_size }
      local ok = v:dim() == #want
      for i = 1, #want do ok = ok and v:size(i) == want[i] end
      if not ok then
        reject(name, "%s must be %s (num_layers·directions × %shidden_size), got %s", what,
          table.concat(want, "×"), unbatched and "" or "batch × ", shape_str(v))
      end
      return unbatched and v:unsqueeze(2) or v
    end

    function cls:forward(x, state, opts)
      local c = self._config
      if not is_tensor(x) then reject(name, "the input must be a tensor, got %s", guard.value(x)) end
      opts = guard.options(name, opts, { lengths = true })
      local unbatched = x:dim() == 2
      if x:dim() ~= 3 and not unbatched then
        reject(name, "expected a 3-D input (%s × input_size) or a 2-D one (time × input_size), got %s",
          c.batch_first and "batch × time" or "time × batch", shape_str(x))
      end
      if x:size(-1) ~= c.input_size then
        reject(name, "input %s has %d features (last dimension), expected input_size %d", shape_str(x),
          x:size(-1), c.input_size)
      end
      local bf = c.batch_first
      if unbatched then
        x = x:unsqueeze(bf and 1 or 2)
      end
      local B = x:size(bf and 1 or 2)
      local h0, c0
      if lstm then
        if state ~= nil and (type(state) ~= "table" or getmetatable(state) ~= nil) then
          reject(name, "the state must be a pair {h0, c0}, got %s", guard.value(state))
        end
        if state ~= nil then
          h0 = state_tensor("h0", state[1], c, B, unbatched)
          c0 = state_tensor("c0", state[2], c, B, unbatched)
          if (h0 == nil) ~= (c0 == nil) then reject(name, "the state needs both h0 and c0") end
        end
      else
        h0 = state_tensor("h0", state, c, B, unbatched)
      end
      -- one sequence may give its length as a number
      local lengths = opts.lengths
      if unbatched and type(lengths) == "number" then lengths = { lengths } end
      local D = c.bidirectional and 2 or 1
      local hs, cs = {}, {}
      local input = x
      for l = 0, c.num_layers - 1 do
        if l > 0 and c.dropout > 0 and self.training then
          input = core.dropout(input, c.dropout, true)
        end
        local outs = {}
        for d = 0, D - 1 do
          local sfx = "_l" .. l .. (d == 1 and "_reverse" or "")
          local k = l * D + d + 1
          local o = { reverse = d == 1, batch_first = bf, lengths = lengths }
          local y, h, cn
          if lstm then
            y, h, cn = op(input, h0 and h0:select(1, k), c0 and c0:select(1, k), self["weight_ih" .. sfx],
              self["weight_hh" .. sfx], self["bias_ih" .. sfx], self["bias_hh" .. sfx], o)
          else
            y, h = op(input, h0 and h0:select(1, k), self["weight_ih" .. sfx], self["weight_hh" .. sfx],
              self["bias_ih" .. sfx], self["bias_hh" .. sfx], o)
          end
          outs[d + 1], hs[k], cs[k] = y, h, cn
        end
        input = D == 1 and outs[1] or core.cat(outs, 3)
      end
      local output, h_n, c_n = input, core.stack(hs, 1), lstm and core.stack(cs, 1) or nil
      if unbatched then
        output = output:squeeze(bf and 1 or 2)
        h_n = h_n:squeeze(2)
        c_n = c_n and c_n:squeeze(2)
      end
      if lstm then return output, { h_n, c_n } end
      return output, h_n
    end
  end

  rnn_layer("LSTM", 4, core.lstm)
  rnn_layer("GRU", 3, core.gru)
end
