--- @include "includes/rcall"
--- @include "includes/S"
--- @include "includes/notePending"
--- @include "generated/keys"
-- Files a dead job under the dead set and its fingerprint's index; the first one labels the group.
-- Noted for the archiver when the queue has one.
local function addDead(K, P, id, fp, label, now)
  rcall('ZADD', K[6], S(now), id)
  rcall('ZADD', P .. KEY_FINGERPRINT .. fp, S(now), id)
  rcall('HSETNX', K[10], fp, label)
  notePending(K, P, { S(now), id })
end
