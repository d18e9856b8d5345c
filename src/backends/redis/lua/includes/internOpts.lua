--- @include "includes/rcall"
--- @include "generated/keys"
--- @include "includes/optsText"
--- @include "includes/optRefs"
-- Returns the digest for an options text, storing the text on first sight. Each job that uses it
-- takes a reference with refOpts; flushOptRefs writes the counts at the end of the call.
local OPT_DIGEST = {}
local function internOpts(P, text)
  local d = OPT_DIGEST[text]
  if not d then
    d = string.sub(redis.sha1hex(text), 1, 16)
    if rcall('HSETNX', P .. KEY_OPTIONS, d, text) == 0 and rcall('HGET', P .. KEY_OPTIONS, d) ~= text then
      -- Two texts sharing 64 bits of digest: the full digest tells them apart.
      d = redis.sha1hex(text)
      rcall('HSETNX', P .. KEY_OPTIONS, d, text)
    end
    OPT_DIGEST[text] = d
    OPT_TEXT[d] = text
    OPT_ORDER[#OPT_ORDER + 1] = d
    OPT_REFS[d] = 0
  end
  return d
end
