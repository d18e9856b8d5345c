--- @include "includes/rcall"
--- @include "generated/keys"
-- Appends an attempt record to the job's history (a list, in attempt order).
local function appendAttempt(P, id, rec)
  rcall('RPUSH', P .. KEY_HISTORY .. id, rec)
end
