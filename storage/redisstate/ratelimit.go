package redisstate

import (
	"context"
	"math"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/renewbot/renewbot/flows"
)

// allowScript is GCRA (the generic cell rate algorithm): one number per
// bucket, the theoretical arrival time (TAT) in µs of Redis' clock, shared by
// every instance. KEYS[1] bucket; ARGV[1] emission interval µs (1/rate),
// ARGV[2] burst. Returns {allowed 1|0, retry after µs}.
// Numbers stay below 2^53 µs, exact in Lua's doubles.
var allowScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if now < allow_at then
  return {0, allow_at - now}
end
local ttl = math.ceil((new_tat - now) / 1000)
if ttl < 1 then ttl = 1 end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl)
return {1, 0}
`)

// Allow takes one token from the bucket key, refilled at rate per second
// and holding at most burst, and reports whether the caller may go ahead;
// when not, retryAfter says when one token will be there. The bucket lives
// in Redis, so every instance shares it. Invalid for rate <= 0 or burst < 1.
func (s *Store) Allow(ctx context.Context, key string, rate float64, burst int) (ok bool, retryAfter time.Duration, err error) {
	if !(rate > 0) || math.IsInf(rate, 0) || burst < 1 {
		return false, 0, flows.Errorf(flows.Invalid, "allow %q: rate %v burst %d", key, rate, burst)
	}
	interval := max(int64(math.Round(1e6/rate)), 1)
	res, err := allowScript.Run(ctx, s.rdb, []string{s.key("rate:", key)}, interval, burst).Int64Slice()
	if err != nil {
		return false, 0, internal(err, "allow %q", key)
	}
	if len(res) != 2 {
		return false, 0, flows.Errorf(flows.Internal, "allow %q: unexpected reply %v", key, res)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Microsecond, nil
}
