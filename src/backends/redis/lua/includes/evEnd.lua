--- @include "includes/S"
--- @include "includes/ev"
-- The event fields every attempt end carries: attempt, worker, outcome, class, drift, dur.
local function evEnd(now, kind, id, n, wid, outcome, class, sa, due, ...)
  ev(kind, id, 'attempt', n, 'worker', wid, 'outcome', outcome, 'class', class,
    'drift', S(sa - due), 'dur', S(now - sa), ...)
end
