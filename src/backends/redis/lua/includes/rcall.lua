-- redis.call under a short local name: every include that talks to Redis includes this.
local rcall = redis.call
