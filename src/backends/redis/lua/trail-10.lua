--[[
  Stores what a handler reported since its last write, with its attempt: the latest progress value
  and log lines, bounded per attempt (src/progress.ts, generated/progress.lua: logKeeps). Applied
  only while the worker holds the attempt's lease (the job is active with this attempt number and
  worker): a stale worker writes nothing into someone else's attempt.
  ARGV[1] key prefix  ARGV[2] id  ARGV[3] attempt  ARGV[4] worker id  ARGV[5] progress JSON ('' = none)
  ARGV[6] lines the worker dropped before sending (added to the count)
  ARGV[7..] log lines, each as its JSON text (a string)
  Returns { 1, kept, dropped } or { 0 } (stale: not this worker's attempt)
  Events: `progress` {attempt, value} when a value was given, `log` {attempt, lines, dropped, text,
  more} when lines were: `text` the JSON array of the kept lines that fit MAX_LOG_EVENT_BYTES (the
  first ones, whole), `more` the kept lines left out (at most one of each per call: a one-job entry,
  whose values may hold commas).
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/S"
--- @include "includes/ev"
--- @include "includes/flushEvents"
--- @include "generated/keys"
--- @include "generated/progress"
local P = ARGV[1]
local id = ARGV[2]
local n = ARGV[3]
local f = rcall('HMGET', P .. KEY_JOB .. id, 'st', 'cur', 'wid')
if f[1] ~= 'active' or f[2] ~= n or f[3] ~= ARGV[4] then return { 0 } end
local now = nowMs()
local nowS = S(now)
local tk = P .. KEY_TRAIL .. id
if ARGV[5] ~= '' then
  rcall('HSET', tk, 'p:' .. n, '{"value":' .. ARGV[5] .. ',"at":' .. nowS .. '}')
  ev('progress', id, 'attempt', n, 'value', ARGV[5])
end
local kept, dropped = 0, 0
local extra = tonumber(ARGV[6])
if #ARGV >= 7 or extra > 0 then
  local c = rcall('HMGET', tk, 'c:' .. n, 'b:' .. n, 'd:' .. n)
  local lines, bytes, drops = tonumber(c[1] or '0'), tonumber(c[2] or '0'), tonumber(c[3] or '0') + extra
  dropped = extra
  local push, carried, carriedBytes = {}, {}, 0
  for i = 7, #ARGV do
    local line = ARGV[i]
    if logKeeps(lines, bytes, #line) then
      lines = lines + 1
      bytes = bytes + #line
      push[#push + 1] = '{"n":' .. n .. ',"at":' .. nowS .. ',"line":' .. line .. '}'
      if #carried == #push - 1 and logEventCarries(carriedBytes, #line) then
        carried[#carried + 1] = line
        carriedBytes = carriedBytes + #line
      end
    else
      drops = drops + 1
      dropped = dropped + 1
    end
  end
  kept = #push
  if kept > 0 then rcall('RPUSH', P .. KEY_LOG .. id, unpack(push)) end
  rcall('HSET', tk, 'c:' .. n, lines, 'b:' .. n, bytes, 'd:' .. n, drops)
  ev('log', id, 'attempt', n, 'lines', S(kept), 'dropped', S(dropped),
    'text', '[' .. table.concat(carried, ',') .. ']', 'more', S(kept - #carried))
end
flushEvents(KEYS, now)
return { 1, kept, dropped }
