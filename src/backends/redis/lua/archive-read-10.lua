--[[
  The archiver's read: the jobs of `read`, the same reply encoded as one JSON text (cjson), so that
  the client decodes a slice of jobs with one JSON.parse instead of ~45 RESP strings per job (the
  archiver's largest Node cost). An empty list comes out as `{}` (cjson cannot tell); the client
  reads any non-array as empty. Read-only.
  ARGV[1] key prefix  ARGV[2..] ids
  Returns the JSON text of read's reply
]]
--- @include "includes/readJobs"
return cjson.encode(readJobs(ARGV[1], 2))
