--- @include "includes/eventBuffer"
-- Gathers one event: its type, the job id, then field name / value pairs. Written by flushEvents:
-- one XADD per event type per call, with the per-job values as comma-separated columns (ids,
-- worker ids, reasons and numbers never contain commas). A batch of 50 completions is one stream
-- entry, not 50. Readers expand entries back into one event per job (redis-backend readEvents).
local function ev(kind, id, ...)
  local b = EVB[kind]
  local args = { ... }
  if not b then
    b = { ids = {}, names = {}, cols = {} }
    EVB[kind] = b
    EVK[#EVK + 1] = kind
    for i = 1, #args, 2 do
      b.names[#b.names + 1] = args[i]
      b.cols[args[i]] = {}
    end
  end
  b.ids[#b.ids + 1] = id
  for i = 1, #args, 2 do
    local c = b.cols[args[i]]
    c[#c + 1] = args[i + 1]
  end
end
