--- @include "includes/rcall"
--- @include "generated/keys"
-- References to interned options taken by this call (refOpts), written at its end (flushOptRefs).
local OPT_REFS = {}
local OPT_ORDER = {}

local function refOpts(d)
  OPT_REFS[d] = OPT_REFS[d] + 1
end

local function flushOptRefs(P)
  for _, d in ipairs(OPT_ORDER) do
    -- A text interned for jobs that all existed already is used by none: not kept.
    if rcall('HINCRBY', P .. KEY_OPTIONS, '#' .. d, OPT_REFS[d]) <= 0 then rcall('HDEL', P .. KEY_OPTIONS, d, '#' .. d) end
  end
  OPT_ORDER = {}
  OPT_REFS = {}
end
