--- @include "includes/rcall"
-- Whose clock? Redis's: TIME is read once per script, so every due time, lease expiry and attempt
-- timestamp a script writes comes from one clock and workers' clocks never matter.
local function nowMs()
  local t = rcall('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
