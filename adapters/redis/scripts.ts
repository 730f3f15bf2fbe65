/**
 * The Lua scripts of the Redis broker. Each runs atomically in Redis, so every node sees one order.
 *
 * A topic is two keys with one hash tag (one cluster slot): a hash `{…}:m` with `epoch` and `offset`,
 * and a stream `{…}:l` whose entry ids are `0-<offset>` with fields `a` (Redis time, ms) and `p`
 * (the payload). Live messages go out on the topic's channel `{…}:c` (same slot) as `<offset>:<epoch>:<payload>`.
 * A missing hash means the history is gone (a flushed or new Redis): a new epoch starts, so clients
 * report the loss as a gap instead of mixing two histories.
 */

const EPOCH = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch)
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** KEYS: hash, stream. ARGV: epoch if new, payload, history count, channel, PUBLISH or SPUBLISH (a cluster). Returns {offset, epoch}. */
export const APPEND = `${EPOCH}
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
local count = tonumber(ARGV[3])
if count > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', count, '0-' .. offset, 'a', now, 'p', ARGV[2])
end
redis.call(ARGV[5], ARGV[4], offset .. ':' .. epoch .. ':' .. ARGV[2])
return {offset, epoch}
`;

/**
 * KEYS: hash, stream. ARGV: epoch if new, read after this offset (-1: no entries), max age in ms.
 * Drops entries older than the max age first. Returns {epoch, offset, first kept offset, entries}.
 */
export const READ = `${EPOCH}
local offset = tonumber(redis.call('HGET', KEYS[1], 'offset') or '0')
local oldest = now - tonumber(ARGV[3])
local first = offset + 1
while true do
  local head = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 100)
  if #head == 0 then break end
  local keep = nil
  for _, e in ipairs(head) do
    if tonumber(e[2][2]) >= oldest then keep = e[1] break end
  end
  if keep then
    redis.call('XTRIM', KEYS[2], 'MINID', keep)
    first = tonumber(string.sub(keep, 3))
    break
  end
  redis.call('XTRIM', KEYS[2], 'MINID', '0-' .. (tonumber(string.sub(head[#head][1], 3)) + 1))
end
local after = math.min(tonumber(ARGV[2]), offset)
local entries = {}
if after >= 0 then entries = redis.call('XRANGE', KEYS[2], '0-' .. (after + 1), '+') end
return {epoch, offset, first, entries}
`;
