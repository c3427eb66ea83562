-- summary_output.lua: busted's plain terminal output, closed by the one
-- line CI reads: "N passed, M failed[, K skipped]" (errors count as failed).
return function(options)
  local busted = require "busted"
  local handler = require "busted.outputHandlers.plainTerminal"(options)

  local function summary()
    local failed = handler.failuresCount + handler.errorsCount
    local line = string.format("%d passed, %d failed", handler.successesCount, failed)
    if handler.pendingsCount > 0 then
      line = line .. string.format(", %d skipped", handler.pendingsCount)
    end
    io.write("\n", line, "\n")
    io.flush()
    return nil, true
  end

  busted.subscribe({ "suite", "end" }, summary)
  return handler
end
