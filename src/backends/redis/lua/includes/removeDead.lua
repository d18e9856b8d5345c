--- @include "includes/rcall"
--- @include "generated/keys"
-- Takes a job out of the dead set and its fingerprint's index; the last one of a group drops its label.
local function removeDead(K, P, id, fp)
  rcall('ZREM', K[6], id)
  if fp then
    local k = P .. KEY_FINGERPRINT .. fp
    rcall('ZREM', k, id)
    if rcall('ZCARD', k) == 0 then rcall('HDEL', K[10], fp) end
  end
end
