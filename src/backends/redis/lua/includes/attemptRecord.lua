--- @include "includes/S"
--- @include "includes/jsonMerge"
-- One attempt record, as JSON, appended once and never rewritten: what the job hash knows of the
-- attempt (n, trigger, dueAt, startedAt, workerId; n, due and sa as the hash's own text), the
-- script's time (nowS), then `ending`, the JSON object of how the attempt ended (outcome, error,
-- errorClass, rule, decision), and the manual trigger that caused it ('' = none).
local function attemptRecord(n, trg, due, sa, nowS, wid, ending, man)
  local head = '{"n":' .. n .. ',"trigger":"' .. trg .. '","dueAt":' .. due .. ',"startedAt":' .. sa ..
    ',"finishedAt":' .. nowS .. ',"driftMs":' .. S(tonumber(sa) - tonumber(due)) .. ',"workerId":"' .. wid .. '"}'
  local rec = jsonMerge(head, ending)
  if man and man ~= '' then rec = jsonMerge(rec, '{"manual":' .. man .. '}') end
  return rec
end
