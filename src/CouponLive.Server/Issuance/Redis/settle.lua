-- An admission whose user the store already knew with another coupon (committed after the gate's rebuild read the
-- store): the stored coupon is the user's, so the gate takes it as the holder's value and moves the window count to
-- its window. The admission counted one coupon for the user, as the store does, so the total stays.
-- KEYS: as admit.lua. ARGV: 1 user, 2 the admission's value "seq:atMs:source", 3 the stored coupon's value,
-- 4 the admission's window (-1 for a grant), 5 the stored coupon's window (-1 for a grant).
-- Returns 1 when settled, 0 when the holder is no longer that admission (settled already, or rebuilt since).
if redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]) < 5 then return 0 end
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
if ARGV[4] ~= ARGV[5] then
  if tonumber(ARGV[4]) >= 0 then redis.call('HINCRBY', KEYS[4], ARGV[4], -1) end
  if tonumber(ARGV[5]) >= 0 then redis.call('HINCRBY', KEYS[4], ARGV[5], 1) end
end
return 1
