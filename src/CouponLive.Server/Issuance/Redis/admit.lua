-- Decides a batch of issue requests of one campaign atomically, by Redis's clock.
-- KEYS: 1 meta (hash: total, issued, seq, state: absent open, p paused, c cancelled, r cancelled and revoked)  2 holders (hash: user -> "seq:atMs:window")
--       3 windows (zset: score = startMs, member = "index:endMs:quota", quota -1 = none)
--       4 window counts (hash: index -> issued)  5 outbox (stream)
-- ARGV: user ids. Same order of checks as InProcessAdmissionGate: revoked, holder, paused or cancelled, stock, window, quota.
-- Returns {-1} when the campaign is not loaded, {-2} when a part of its state was missing (evicted, deleted: the
-- meta hash is dropped, so every process rebuilds it all from the store), else {nowMs, nextStartMs or -1, outboxId or '', answer per user}
-- where an answer is "A<seq>:<at>:<w>" admitted, "H<seq>:<at>:<w>" held already,
-- "S" sold out, "N" not open, "E" ended, "W" window quota used up, "P" paused, "C" cancelled.
-- Redis work is per batch, not per user: one HMGET of the holders, and for the admitted one HSET and
-- one outbox entry holding all of them ("" = "b" marks the format, then user = "seq:atMs:window" pairs;
-- a user id is never empty, and entries of the earlier format have the fields u and v).
local present = redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
if present < 5 then
  if redis.call('DEL', KEYS[1]) == 1 then return {-2} end
  return {-1}
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local meta = redis.call('HMGET', KEYS[1], 'total', 'issued', 'seq', 'state')
local total, issued, seq, state = tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3]), meta[4]
if state == 'r' then
  local out = {now, -1, ''}
  for i = 1, #ARGV do out[#out + 1] = 'C' end
  return out
end
local closed = (state == 'p' and 'P') or (state == 'c' and 'C') or nil

-- The window lookups are skipped once sold out: then only holders and "sold out" are answered,
-- and that crowd is the bulk of an event's traffic.
local window, quota, wcount, nextStart = -1, -1, 0, -1
if issued < total and not closed then
  local current = redis.call('ZREVRANGEBYSCORE', KEYS[3], now, '-inf', 'LIMIT', 0, 1)
  if #current > 0 then
    local index, ends, q = string.match(current[1], '^(%d+):(%d+):(-?%d+)$')
    if now < tonumber(ends) then
      window, quota = tonumber(index), tonumber(q)
      wcount = tonumber(redis.call('HGET', KEYS[4], index) or '0')
    end
  end
  local upcoming = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #upcoming > 0 then nextStart = tonumber(upcoming[2]) end
end

local held = redis.call('HMGET', KEYS[2], unpack(ARGV))
local admittedNow = {}          -- user -> value, for a user twice in one batch
local fields = {'', 'b'}        -- HSET / XADD field-value list of this batch's admissions
local suffix = ':' .. string.format('%d', now) .. ':' .. string.format('%d', window)
local out = {now, nextStart, ''}
for i = 1, #ARGV do
  local user = ARGV[i]
  local h = held[i] or admittedNow[user]
  if h then
    out[#out + 1] = 'H' .. h
  elseif closed then
    out[#out + 1] = closed
  elseif issued >= total then
    out[#out + 1] = 'S'
  elseif window < 0 then
    out[#out + 1] = (nextStart >= 0) and 'N' or 'E'
  elseif quota >= 0 and wcount >= quota then
    out[#out + 1] = 'W'
  else
    seq, issued, wcount = seq + 1, issued + 1, wcount + 1
    local v = string.format('%d', seq) .. suffix
    admittedNow[user] = v
    fields[#fields + 1] = user
    fields[#fields + 1] = v
    out[#out + 1] = 'A' .. v
  end
end
if #fields > 2 then
  -- The outbox entry first: it unpacks the most values, so if a call could fail there it fails before writing anything.
  out[3] = redis.call('XADD', KEYS[5], '*', unpack(fields))
  redis.call('HSET', KEYS[2], unpack(fields, 3))
  redis.call('HSET', KEYS[1], 'issued', string.format('%d', issued), 'seq', string.format('%d', seq))
  redis.call('HSET', KEYS[4], string.format('%d', window), string.format('%d', wcount))
end
return out
