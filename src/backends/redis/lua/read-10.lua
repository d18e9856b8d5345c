--[[
  Reads jobs whole, in one consistent step: each job's hash, its attempt history and the text of its
  interned options. Read-only.
  ARGV[1] key prefix  ARGV[2..] ids
  Returns per id { hash as a flat field/value array (empty = no such job), attempt records,
    options JSON, progress/log counters (the trail hash, flat), log lines (JSON {n, at, line}) }
]]
--- @include "includes/readJobs"
return readJobs(ARGV[1], 2)
