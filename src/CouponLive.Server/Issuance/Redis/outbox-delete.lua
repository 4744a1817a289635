-- KEYS: 1 outbox stream. ARGV: entry ids. Returns how many were deleted.
return redis.call('XDEL', KEYS[1], unpack(ARGV))
