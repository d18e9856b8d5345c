--[[
  Restores a dead job read from the archive (src/archive/, src/restore.ts) as it was archived: its
  hash, its attempt records, its interned options, its search facets, and its place in the dead set
  and its fingerprint's group (addDead, scored by its dead-letter time). Refused if the id exists:
  the job the queue holds is the truth. `dlq.replay` of a job only the archive holds restores it,
  then replays it like any dead job.
  ARGV[1] key prefix  ARGV[2] id  ARGV[3] options text  ARGV[4] fingerprint  ARGV[5] group label
  ARGV[6] dead at  ARGV[7] F (hash fields)  ARGV[8] R (attempt records)  ARGV[9] X (facets)
  then F field/value pairs, R records (JSON, oldest first), X facets
  Returns { 'ok' } | { 'exists', state }
]]
--- @include "includes/rcall"
--- @include "includes/nowMs"
--- @include "includes/ev"
--- @include "includes/flushEvents"
--- @include "includes/bulk"
--- @include "includes/internOpts"
--- @include "includes/addDead"
--- @include "includes/indexName"
--- @include "includes/indexFacets"
--- @include "generated/keys"
local P = ARGV[1]
local id = ARGV[2]
local jk = P .. KEY_JOB .. id
local st = rcall('HGET', jk, 'st')
if st then return { 'exists', st } end
local now = nowMs()
local F, R, X = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local fields = {}
for i = 10, 9 + 2 * F do fields[#fields + 1] = ARGV[i] end
local d = internOpts(P, ARGV[3])
refOpts(d)
fields[#fields + 1] = 'oh'
fields[#fields + 1] = d
bulk('HSET', jk, fields, 200)
flushOptRefs(P)
local base = 9 + 2 * F
if R > 0 then
  local records = {}
  for i = base + 1, base + R do records[#records + 1] = ARGV[i] end
  bulk('RPUSH', P .. KEY_HISTORY .. id, records, 1000)
end
local f = rcall('HMGET', jk, 'name', 'ct')
indexName(P, id, f[1], f[2])
local facets = {}
for i = base + R + 1, base + R + X do facets[#facets + 1] = ARGV[i] end
indexFacets(P, id, facets)
addDead(KEYS, P, id, ARGV[4], ARGV[5], ARGV[6])
ev('restored', id)
flushEvents(KEYS, now)
return { 'ok' }
