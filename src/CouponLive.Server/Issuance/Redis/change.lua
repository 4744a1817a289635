-- Applies an operator's change to a loaded campaign in one atomic step, by Redis's clock: the next admit call
-- decides by the new total, windows and state; holders, counts and the sequence stay.
-- KEYS: as admit.lua. ARGV: 1 total, 2 state ('' open, p, c, r), 3 end the current window (1/0), 4 expireAtMs,
-- then per window: startMs, "index:endMs:quota" (the windows zset's score and member).
-- Returns {status, nowMs, issued, endedIndex, endedAtMs}: status 0 applied, -1 not loaded, -2 the total is below
-- the admitted count, -3 no window open to end (nothing changed unless 0).
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0, 0, -1, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local issued = tonumber(redis.call('HGET', KEYS[1], 'issued'))
if tonumber(ARGV[1]) < issued then return {-2, now, issued, -1, 0} end

local entries = {}
local ended, endedAt = -1, 0
for i = 5, #ARGV, 2 do
  local start, member = tonumber(ARGV[i]), ARGV[i + 1]
  if ARGV[3] == '1' and ended < 0 and start <= now then
    local index, ends, quota = string.match(member, '^(%d+):(%d+):(-?%d+)$')
    if now < tonumber(ends) then
      -- One millisecond after now: every admission so far (at <= now) lies inside the window, none after this call.
      ended, endedAt = tonumber(index), now + 1
      member = index .. ':' .. string.format('%d', endedAt) .. ':' .. quota
    end
  end
  entries[#entries + 1] = ARGV[i]
  entries[#entries + 1] = member
end
if ARGV[3] == '1' and ended < 0 then return {-3, now, issued, -1, 0} end

redis.call('DEL', KEYS[3])
redis.call('ZADD', KEYS[3], unpack(entries))
redis.call('HSET', KEYS[1], 'total', ARGV[1], 'state', ARGV[2])
for i = 1, 5 do redis.call('PEXPIREAT', KEYS[i], ARGV[4]) end
return {0, now, issued, ended, endedAt}
