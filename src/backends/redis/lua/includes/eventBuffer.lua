-- The events a script gathers while it runs (ev), written at its end (flushEvents): per event
-- type, in the order the types first appeared (EVK), the ids and the per-job columns (EVB).
local EVK = {}
local EVB = {}
