--[[
  Jobs per state, read in one atomic step.
  Returns { scheduled, waiting, active, completed, dead, cancelled }
]]
return { redis.call('ZCARD', KEYS[3]), redis.call('LLEN', KEYS[2]), redis.call('ZCARD', KEYS[4]),
  redis.call('ZCARD', KEYS[5]), redis.call('ZCARD', KEYS[6]), redis.call('ZCARD', KEYS[7]) }
