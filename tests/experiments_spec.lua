-- Every experiment script, on a small budget: it runs, writes its run
-- directory, reports its result line, and its test loss falls.
local json = require "aerun.json"

local process = require "tests.helpers.process"
local root, aerun, sh, read = process.root, process.aerun, process.sh, process.read

local column = process.csv_column

local cases = {
  { "ae_mnist", {}, { "test_mse" } },
  { "deep_ae_mnist", {}, { "test_mse" } },
  { "conv_ae_mnist", {}, { "test_mse" }, "reconstructions.png" },
  { "vae_mnist", { "--kl_warmup=2" }, { "test_loss", "test_bce", "test_kl" }, "samples.png", "interpolation.png" },
  { "sparse_ae_mnist", {}, { "test_mse", "mean_activation", "near_zero_fraction" } },
  { "sparse_ae_mnist", { "--penalty=l1", "--lambda=1e-4" }, { "test_mse", "mean_activation" } },
  { "dae_mnist", {}, { "psnr_noisy", "psnr_denoised" }, "denoising.png" },
  { "dae_mnist", { "--noise=masking", "--level=0.3" }, { "psnr_gain" } },
  { "dae_mnist", { "--noise=salt_pepper", "--level=0.2" }, { "psnr_gain" } },
  { "cae_mnist", {}, { "test_mse", "jacobian_norm" } },
  { "seq_ae_mnist", { "--hidden=32" }, { "test_mse" }, "reconstructions.png" },
  { "seq_ae_mnist", { "--cell=gru", "--hidden=32", "--layers=2" }, { "test_mse" } },
}

describe("experiments on a small budget", function()
  local dir = os.tmpname()
  os.remove(dir)
  setup(function() assert(os.execute("mkdir -p " .. dir)) end)
  teardown(function() os.execute("rm -rf " .. dir) end)

  for n, c in ipairs(cases) do
    local name, extra, fields = c[1], c[2], c[3]
    it(name .. " " .. table.concat(extra, " "), function()
      local out_dir = dir .. "/" .. n
      local cmd = string.format("cd %q && OPENBLAS_NUM_THREADS=1 AERUN_DATA=%q %q %q/experiments/%s.lua --epochs=3 --limit=1500 --quiet --out=%q %s",
        dir, root .. "/data", aerun, root, name, out_dir, table.concat(extra, " "))
      local out, ok = sh(cmd)
      assert.is_true(ok, out)
      local line = out:match("result (%b{})%s*$")
      assert.is_truthy(line, out)
      local r = json.decode(line)
      for _, f in ipairs(fields) do
        assert.is_number(r[f], f .. " missing in " .. line)
        assert.is_true(r[f] == r[f], f .. " is NaN")
      end
      for _, file in ipairs { "config.json", "metrics.csv", "result.json", "checkpoint.h5", "loss.png" } do
        assert.is_truthy(read(out_dir .. "/" .. file), file .. " missing")
      end
      for i = 4, #c do assert.is_truthy(read(out_dir .. "/" .. c[i]), c[i] .. " missing") end
      local losses = column(read(out_dir .. "/metrics.csv"), "test_loss")
      assert.are.equal(3, #losses)
      assert.is_true(losses[3] < losses[1], "test loss did not fall: " .. table.concat(losses, ", "))
    end)
  end
end)
