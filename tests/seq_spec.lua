-- nn.SeqEncoder, nn.SeqDecoder and ae.models.seq_ae (lua/aerun/nn_seq.lua):
-- the halves of the recurrent sequence autoencoder that seq_ae_mnist
-- trains.  The recurrent layers themselves are checked against PyTorch in
-- rnn_spec; here, what the halves add: the flat and 3-D input forms, the
-- code repeated at every decoder step (its gradient sums the steps'), the
-- last layer's final state, checkpoints, and the errors.  PyTorch's
-- outputs for the whole model are checked by interop_spec's every-module
-- case (tools/aerun_torch.py's SeqEncoder and SeqDecoder).
local ae = require "aerun"
local gc = require "tests.helpers.gradcheck"
local nn = ae.nn

local function max_diff(a, b) return (a - b):abs():max() end

local function raises(pattern, f)
  local ok, err = pcall(f)
  assert.is_false(ok, "no error")
  assert.is_truthy(tostring(err):find(pattern, 1, true), "error was: " .. tostring(err))
end

describe("sequence autoencoder halves", function()
  before_each(function() ae.manual_seed(3) end)

  for _, cell in ipairs { "lstm", "gru" } do
    describe(cell, function()
      it("reads flat and N×steps×width input alike", function()
        local e = nn.SeqEncoder(cell, 4, 6, 3, { steps = 5 })
        local x = ae.randn(2, 5, 4)
        local flat, seq = e(x:reshape(2, 20)), e(x)
        assert.are.same({ 2, 3 }, flat:shape())
        assert.are.equal(0, max_diff(flat, seq))
      end)

      it("codes with the last layer's final hidden state", function()
        local e = nn.SeqEncoder(cell, 4, 6, 3, { num_layers = 2 })
        local x = ae.randn(2, 5, 4)
        local _, state = e.rnn(x)
        local h = cell == "lstm" and state[1] or state
        assert.are.same({ 2, 2, 6 }, h:shape())
        assert.are.equal(0, max_diff(e(x), e.to_code(h[2])))
      end)

      it("feeds the code at every step and maps every step", function()
        local d = nn.SeqDecoder(cell, 3, 6, 4, { steps = 5, output = "linear", flat = false })
        local z = ae.randn(2, 3)
        local y = d(z)
        assert.are.same({ 2, 5, 4 }, y:shape())
        -- the same as running the RNN on the code stacked five times
        local stacked = ae.stack({ z, z, z, z, z }, 2)
        assert.are.equal(0, max_diff(y, d.output((d.rnn(stacked)))))
        local flat = nn.SeqDecoder(cell, 3, 6, 4, { steps = 5 })
        flat.rnn, flat.output = d.rnn, d.output
        assert.are.equal(0, max_diff(flat(z), y:sigmoid():reshape(2, 20)))
      end)

      -- float32 central differences (the helper's eps 1e-2, rtol 2e-2)
      -- through the whole model: the repeated code's gradient is the sum
      -- over the decoder's steps, the encoder's reaches every input step
      it("passes gradients through both halves (finite differences)", function()
        local m = ae.models.seq_ae { cell = cell, steps = 3, width = 2, hidden = 3, code = 2 }
        local good, msg = gc.check(function(x) return m(x) end, { ae.rand(2, 6) })
        assert(good, msg)
        local z = ae.randn(2, 2)
        good, msg = gc.check(function(c) return m.decoder(c) end, { z })
        assert(good, msg)
      end)

      it("survives a checkpoint: the model rebuilds from the file", function()
        local m = ae.models.seq_ae { cell = cell, steps = 4, width = 3, hidden = 5, code = 2, num_layers = 2 }
        local p = os.tmpname()
        ae.checkpoint.save(p, { model = m })
        local back = ae.checkpoint.model(p)
        os.remove(p)
        local x = ae.rand(3, 12)
        assert.are.equal(0, max_diff(m(x), back(x)))
        assert.are.equal(tostring(m), tostring(back))
      end)
    end)
  end

  it("says what is wrong", function()
    raises("cell must be \"lstm\" or \"gru\"", function() nn.SeqEncoder("rnn", 4, 6, 3) end)
    raises("hidden_size must be at least 1", function() nn.SeqEncoder("lstm", 4, 0, 3) end)
    raises("unknown option 'step'", function() nn.SeqEncoder("lstm", 4, 6, 3, { step = 5 }) end)
    raises("steps is required", function() nn.SeqDecoder("lstm", 3, 6, 4) end)
    raises("output must be \"sigmoid\" or \"linear\"", function()
      nn.SeqDecoder("gru", 3, 6, 4, { steps = 2, output = "tanh" })
    end)
    local e = nn.SeqEncoder("lstm", 4, 6, 3, { steps = 5 })
    raises("a flat input of 21 features needs steps × input_size = 5 × 4", function() e(ae.rand(2, 21)) end)
    raises("expects an N×3 code, got tensor 2×4", function()
      nn.SeqDecoder("gru", 3, 6, 4, { steps = 2 })(ae.rand(2, 4))
    end)
    raises("seq_ae: unknown option 'hiden'", function() ae.models.seq_ae { hiden = 3 } end)
  end)
end)
