-- GCRA: one key holds the theoretical arrival time (TAT, microseconds) of
-- the next request. A bucket of B tokens refilled one per T microseconds
-- allows a request of cost c at time now when tat + c*T - B*T <= now.
-- KEYS[1]  the bucket
-- ARGV[1]  T, microseconds per token (may be fractional)
-- ARGV[2]  B, burst
-- ARGV[3]  c, cost (0 = look only)
-- ARGV[4]  now in microseconds, or -1 for Redis' clock
-- Returns {allowed 0|1, remaining tokens, retry_after us, reset_after us}.
local T = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local tau = T * burst
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then
  tat = now
end
local new_tat = tat + cost * T
local diff = now - (new_tat - tau)
-- A microsecond of slack absorbs the rounding of clocks to microseconds.
if diff < -1 then
  local remaining = math.floor((now - (tat - tau)) / T + 1e-6)
  return {0, math.max(remaining, 0), math.ceil(-diff), math.ceil(tat - now)}
end
if cost > 0 then
  -- The key vanishes when the bucket would be full again.
  redis.call('SET', KEYS[1], string.format('%.17g', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
end
return {1, math.max(math.floor(diff / T + 1e-6), 0), 0, math.ceil(new_tat - now)}
