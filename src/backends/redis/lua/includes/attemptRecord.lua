--- @include "includes/S"
-- One attempt record, as JSON, appended once and never rewritten. `ending` is the members of the
-- JSON object of how the attempt ended (outcome, error, errorClass, rule, decision), without its
-- braces. n, due and sa are the job hash's own text; nowS is the script's time as text.
local function attemptRecord(n, trg, due, sa, nowS, wid, ending, man)
  local s = '{"n":' .. n .. ',"trigger":"' .. trg .. '","dueAt":' .. due .. ',"startedAt":' .. sa ..
    ',"finishedAt":' .. nowS .. ',"driftMs":' .. S(tonumber(sa) - tonumber(due)) .. ',"workerId":"' .. wid ..
    '",' .. ending
  if man and man ~= '' then s = s .. ',"manual":' .. man end
  return s .. '}'
end
