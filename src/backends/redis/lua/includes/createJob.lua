--- @include "includes/rcall"
--- @include "includes/S"
--- @include "includes/ev"
--- @include "generated/keys"
--- @include "includes/indexName"
-- Writes a new job's hash and publishes 'added': the one way a job comes to exist, for add and for
-- a scheduler's tick (the memory twin is MemoryBackend#createJob). The caller has checked that the id
-- is free and taken a reference to the options (refOpts); it puts the id in wait or sched itself (in
-- bulk) and wakes workers. `sch` is the scheduler's JSON `{id, plannedAt}` (nil for add).
-- Returns the state and the due time as text.
local function createJob(P, id, name, data, digest, maxStalls, due, now, nowS, tc, trg, sch, schId)
  local st = 'waiting'
  if due > now then st = 'scheduled' end
  -- Numbers as text ("%d"): Lua would format them with a float printf.
  local dueS = S(due)
  local jk = P .. KEY_JOB .. id
  -- Hot fields first, and every field a script reads present from the start ('' / '0' = none):
  -- a small hash is a listpack, where a field is found by a scan from the front, and a missing
  -- field costs a scan of the whole hash.
  rcall('HSET', jk, 'st', st, 'cur', '0', 'trg', trg, 'due', dueS, 'sa', '0', 'wid', '', 'man', '',
    'fl', '0', 'n', '0', 'sc', '0', 'pd', '', 'ms', maxStalls, 'oh', digest, 'le', '0',
    'tc', tc, 'name', name, 'data', data, 'ct', nowS)
  indexName(P, id, name, nowS)
  if sch then
    rcall('HSET', jk, 'sch', sch)
    ev('added', id, 'state', st, 'due', dueS, 'scheduler', schId)
  else
    ev('added', id, 'state', st, 'due', dueS)
  end
  return st, dueS
end
