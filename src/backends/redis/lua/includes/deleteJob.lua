--- @include "includes/rcall"
--- @include "generated/keys"
--- @include "includes/unindexJob"
-- Deletes a job's keys and releases its options.
local function deleteJob(P, id, oh)
  unindexJob(P, id)
  rcall('DEL', P .. KEY_JOB .. id, P .. KEY_HISTORY .. id, P .. KEY_TRAIL .. id, P .. KEY_LOG .. id)
  if oh and rcall('HINCRBY', P .. KEY_OPTIONS, '#' .. oh, -1) <= 0 then rcall('HDEL', P .. KEY_OPTIONS, oh, '#' .. oh) end
end
