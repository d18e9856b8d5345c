--- @include "generated/transitions"
-- The facets a stall adds (twin of stallFacets in src/job-index.ts): the trigger, the stalled
-- attempt's error class, rule and code, and either `rt` (back to waiting) or the poison fingerprint.
local function stallFacets(class, poison)
  local out = { 't:stall', 'c:' .. class, 'r:' .. STALL_RULE, 'e:' .. LEASE_EXPIRED_CODE }
  if poison then out[#out + 1] = 'f:' .. POISON_FINGERPRINT else out[#out + 1] = 'rt' end
  return out
end
