--- @include "includes/jsonMerge"
-- What a claim records for its attempt (the job field `cw`). Most often only a priority wait, kept
-- as the short text "priority,effective,waitedMs,ahead" (PR.claimed): a job hash whose values are
-- all short stays a listpack, and most claimed jobs of a queue with priorities have one. Otherwise
-- a JSON object of `rateLimit`, `priority` and `schedule`. Returns it as that JSON object.
--
-- The priority wait's JSON is the twin of priorityWait in src/transitions.ts, written here from the
-- texts of the short form (canonical integers, as S wrote them) rather than generated: a generated
-- twin formats each number again, 3.8 µs a record against 0.9 (test/redis/lua-twins.test.ts holds
-- the two to the same text).
local function claimFactsJson(cw)
  if string.sub(cw, 1, 1) == '{' then return cw end
  local p, e, w, a = string.match(cw, '^(-?%d+),(-?%d+),(%d+),(%d+)$')
  local aged = ''
  if e ~= p then aged = ' (aged to ' .. e .. ')' end
  return '{"priority":{"priority":' .. p .. ',"effective":' .. e .. ',"waitedMs":' .. w .. ',"ahead":' .. a ..
    ',"explanation":"priority ' .. p .. aged .. ': waited ' .. w .. ' ms while ' .. a ..
    (a == '1' and ' job' or ' jobs') .. ' of higher priority ran"}}'
end

-- The claim's facts (`cw`) joined to more of them (`more`, a JSON object, or nil).
local function claimFactsWith(cw, more)
  if not more then return cw end
  if not cw then return more end
  return jsonMerge(claimFactsJson(cw), more)
end
