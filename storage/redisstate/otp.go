package redisstate

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/renewbot/renewbot/flows"
)

// issueOTPScript: KEYS[1] challenge, KEYS[2] cooldown marker;
// ARGV[1] hash, ARGV[2] TTL ms, ARGV[3] cooldown ms (0 = none).
// Returns 0 when issued, or the cooldown's remaining ms (> 0) when refused.
// A new code replaces the old one and resets the attempt count.
var issueOTPScript = redis.NewScript(`
local wait = redis.call('PTTL', KEYS[2])
if wait > 0 then return wait end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'h', ARGV[1], 'a', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[2], 1, 'PX', ARGV[3])
end
return 0
`)

// checkOTPScript: KEYS[1] challenge; ARGV[1] hash, ARGV[2] max attempts.
// Returns {status, attemptsLeft}: status 1 = correct (code deleted),
// 0 = wrong (code deleted when attempts run out), -1 = no live code.
// Counting in the script means concurrent wrong guesses cannot together
// exceed the maximum.
var checkOTPScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'h', 'a')
if not v[1] then return {-1, 0} end
local max = tonumber(ARGV[2])
local used = tonumber(v[2]) or 0
if used >= max then
  redis.call('DEL', KEYS[1])
  return {-1, 0}
end
if v[1] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return {1, max - used}
end
used = redis.call('HINCRBY', KEYS[1], 'a', 1)
if used >= max then
  redis.call('DEL', KEYS[1])
end
return {0, max - used}
`)

func (s *Store) otpKeys(key string) []string {
	k := s.key("otp:{", key, "}")
	return []string{k, k + ":cooldown"}
}

// IssueOTP stores the hash for key with ttl (the code itself never reaches
// Redis), replacing any earlier code and resetting its attempts.
// FailedPrecondition when a code for key was issued less than cooldown ago;
// wait says how long until a new one may be issued. Invalid for a ttl below
// 1ms or an empty hash.
func (s *Store) IssueOTP(ctx context.Context, key, hash string, ttl, cooldown time.Duration) (wait time.Duration, err error) {
	if hash == "" {
		return 0, flows.Errorf(flows.Invalid, "issue OTP: empty hash")
	}
	t, err := ms("OTP TTL", ttl)
	if err != nil {
		return 0, err
	}
	var cd int64
	if cooldown > 0 {
		if cd, err = ms("OTP cooldown", cooldown); err != nil {
			return 0, err
		}
	}
	left, err := issueOTPScript.Run(ctx, s.rdb, s.otpKeys(key), hash, t, cd).Int64()
	if err != nil {
		return 0, internal(err, "issue OTP")
	}
	if left > 0 {
		wait = time.Duration(left) * time.Millisecond
		return wait, flows.Errorf(flows.FailedPrecondition, "issue OTP: cooldown, retry in %v", wait)
	}
	return 0, nil
}

// CheckOTP compares hash with the stored one and counts the attempt.
// ok is true at most once: a correct code is deleted. A wrong guess
// returns ok false and the attempts left; the maxAttempts-th wrong guess
// deletes the code (attemptsLeft 0). NotFound when there is no live code
// (expired, never issued, consumed, or used up). Invalid when maxAttempts < 1.
func (s *Store) CheckOTP(ctx context.Context, key, hash string, maxAttempts int) (ok bool, attemptsLeft int, err error) {
	if maxAttempts < 1 {
		return false, 0, flows.Errorf(flows.Invalid, "check OTP: maxAttempts %d", maxAttempts)
	}
	res, err := checkOTPScript.Run(ctx, s.rdb, s.otpKeys(key)[:1], hash, maxAttempts).Int64Slice()
	if err != nil {
		return false, 0, internal(err, "check OTP")
	}
	if len(res) != 2 {
		return false, 0, flows.Errorf(flows.Internal, "check OTP: unexpected reply %v", res)
	}
	switch res[0] {
	case 1:
		return true, int(res[1]), nil
	case 0:
		return false, int(res[1]), nil
	default:
		return false, 0, flows.Errorf(flows.NotFound, "check OTP: no live code")
	}
}
