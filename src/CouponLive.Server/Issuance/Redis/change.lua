-- Applies an operator's change to a campaign in one atomic step, judged on Redis's clock (the gate's): the next admit
-- call decides by the new total, windows and state; holders, counts and the sequence stay.
-- KEYS: as admit.lua. ARGV: 1 total, 2 state ('' open, p, c, r), 3 end the current window (1/0), 4 expireAtMs,
-- 5 the campaign's new version, 6 the number of windows before, then the windows before and the windows after, each
-- "startMs:endMs:quota" (quota -1 = none; before: as the store holds them, under the change's row lock).
-- The window rule (WindowChangeRule.Check): a window that has started keeps its place, start and quota; one that has
-- ended keeps its end; the open one ends after now; every other window starts after now.
-- Returns {status, nowMs, issued, endedIndex, endedAtMs, refusedIndex, refusalKind}: status 0 applied, -1 not loaded
-- (judged, nothing to apply), -2 the total is below the admitted count, -3 no window open to end, -4 the window rule
-- refuses (refusedIndex, refusalKind as WindowRefusalKind); nothing changed unless 0.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function parse(s)
  local a, b, c = string.match(s, '^(%-?%d+):(%-?%d+):(%-?%d+)$')
  return {start = tonumber(a), ends = tonumber(b), quota = tonumber(c)}
end
local nBefore = tonumber(ARGV[6])
local before, after = {}, {}
for i = 1, nBefore do before[i] = parse(ARGV[6 + i]) end
for i = 7 + nBefore, #ARGV do after[#after + 1] = parse(ARGV[i]) end

local ended, endedAt = -1, 0
if ARGV[3] == '1' then
  for i = 1, #after do
    if after[i].start <= now and now < after[i].ends then
      -- One millisecond after now: every admission so far (at <= now) lies inside the window, none after this call.
      ended, endedAt = i - 1, now + 1
      after[i].ends = endedAt
    end
  end
  if ended < 0 then return {-3, now, 0, -1, 0, -1, 0} end
end

local started = 0
for i = 1, #before do if before[i].start <= now then started = i end end
for i = 1, started do
  local b, a = before[i], after[i]
  if a == nil or a.start ~= b.start or a.quota ~= b.quota then return {-4, now, 0, -1, 0, i - 1, 1} end
  if b.ends <= now and a.ends ~= b.ends then return {-4, now, 0, -1, 0, i - 1, 2} end
  if b.ends > now and a.ends <= now then return {-4, now, 0, -1, 0, i - 1, 3} end
end
for i = started + 1, #after do
  if after[i].start <= now then return {-4, now, 0, -1, 0, i - 1, 4} end
end

-- A gate missing any part is rebuilt from the store, never changed.
if redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]) < 5 then
  redis.call('DEL', KEYS[1])
  return {-1, now, 0, ended, endedAt, -1, 0}
end
local issued = tonumber(redis.call('HGET', KEYS[1], 'issued'))
if tonumber(ARGV[1]) < issued then return {-2, now, issued, -1, 0, -1, 0} end

local entries = {}
for i = 1, #after do
  local w = after[i]
  entries[#entries + 1] = w.start
  entries[#entries + 1] = string.format('%d:%d:%d', i - 1, w.ends, w.quota)
end
redis.call('DEL', KEYS[3])
redis.call('ZADD', KEYS[3], unpack(entries))
redis.call('HSET', KEYS[1], 'total', ARGV[1], 'state', ARGV[2], 'version', ARGV[5])
for i = 1, 5 do redis.call('PEXPIREAT', KEYS[i], ARGV[4]) end
return {0, now, issued, ended, endedAt, -1, 0}
