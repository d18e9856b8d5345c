--- @include "includes/rcall"
--- @include "generated/keys"
-- Interned job options: P .. KEY_OPTIONS maps a digest of the options' JSON text to the text, and
-- "#" .. digest to how many jobs use it; a job stores the digest ("oh"). Most jobs of a queue share
-- a few. OPT_TEXT caches the texts this call has read or interned.
local OPT_TEXT = {}
local function optsText(P, d)
  if not d then return '{}' end
  local t = OPT_TEXT[d]
  if not t then
    t = rcall('HGET', P .. KEY_OPTIONS, d) or '{}'
    OPT_TEXT[d] = t
  end
  return t
end
