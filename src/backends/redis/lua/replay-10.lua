--[[
  Sends a dead job back to waiting on a person's request. The next attempt carries trigger
  "manual" and who/note/patch; attempt numbering continues and the retry budget starts afresh.
  Optimistic: refused if the job's attempt count changed since the caller read it.
  ARGV[1] key prefix  ARGV[2] id  ARGV[3] expected attempt count  ARGV[4] new data ('' = unchanged)
  ARGV[5] manual trigger JSON {by, note?} (Redis merges patch and at into it)  ARGV[6] by
  ARGV[7] '1' to also accept a scheduled job (a retry by hand: it runs now, its budget kept)
  ARGV[8] the data patch as a diff, JSON ('' = none)
  Returns { 'ok', at } | { 'not_found' } | { 'not_dead', state } | { 'changed', state }
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/ev"
--- @include "includes/flushEvents"
--- @include "includes/wake"
--- @include "includes/removeDead"
--- @include "includes/jsonMerge"
--- @include "includes/indexFacets"
--- @include "includes/waitLevels"
--- @include "generated/keys"
local P = ARGV[1]
local id = ARGV[2]
local jk = P .. KEY_JOB .. id
local f = rcall('HMGET', jk, 'st', 'n', 'fp', 'pr', 'grp')
if not f[1] then return { 'not_found' } end
local fromScheduled = f[1] == 'scheduled' and ARGV[7] == '1'
if f[1] ~= 'dead' and not fromScheduled then return { 'not_dead', f[1] } end
if tonumber(f[2]) ~= tonumber(ARGV[3]) then return { 'changed', f[1] } end
local now = nowMs()
if fromScheduled then
  rcall('ZREM', KEYS[3], id)
else
  removeDead(KEYS, P, id, f[3])
  -- Not finished any more: the archiver gets it again when it finishes again (its new attempts).
  rcall('ZREM', P .. KEY_ARCHIVE_PENDING, id)
  rcall('HSET', jk, 'fl', 0, 'sc', 0)
  rcall('HSET', jk, 'pd', '')
  rcall('HDEL', jk, 'dr', 'dat', 'fp', 'ec', 'derr', 'ft')
end
if ARGV[4] ~= '' then rcall('HSET', jk, 'data', ARGV[4]) end
local man = ARGV[5]
if ARGV[8] ~= '' then man = jsonMerge(man, '{"patch":' .. ARGV[8] .. '}') end
man = jsonMerge(man, '{"at":' .. now .. '}')
rcall('HSET', jk, 'st', 'waiting', 'due', now, 'trg', 'manual', 'man', man)
pushWaiting(KEYS, P, id, tonumber(f[4] or '0'), f[5])
indexFacets(P, id, { 't:manual', 'rt' })
ev('replayed', id, 'by', ARGV[6])
wake(KEYS, 1)
flushEvents(KEYS, now)
return { 'ok', now }
