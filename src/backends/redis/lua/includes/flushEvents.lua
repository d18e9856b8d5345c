--- @include "includes/rcall"
--- @include "includes/S"
--- @include "includes/eventBuffer"
--- @include "generated/transitions"
-- Writes the gathered events, in the order their types first appeared (so one job's events keep
-- their order: a job recovered then claimed in one call shows "stalled" before "active").
local function flushEvents(K, now)
  for _, kind in ipairs(EVK) do
    local b = EVB[kind]
    local xa = { K[8], 'MAXLEN', '~', EVENT_FEED_LENGTH, '*', 't', kind, 'at', S(now), 'id', table.concat(b.ids, ',') }
    for _, name in ipairs(b.names) do
      -- A column whose values are all the same (the worker, the outcome…) is stored once.
      local col = b.cols[name]
      local same = true
      for i = 2, #col do
        if col[i] ~= col[1] then
          same = false
          break
        end
      end
      xa[#xa + 1] = name
      if same then xa[#xa + 1] = col[1] else xa[#xa + 1] = table.concat(col, ',') end
    end
    rcall('XADD', unpack(xa))
  end
  EVK = {}
  EVB = {}
end
