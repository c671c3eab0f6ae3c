package redisstate

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/renewbot/renewbot/flows"
)

// Lock polling backoff: start small (a chat's update is usually handled in
// milliseconds), grow to a cap so many waiters do not hammer Redis.
const (
	lockMinBackoff = 2 * time.Millisecond
	lockMaxBackoff = 50 * time.Millisecond
)

func (s *Store) lockKey(name string) string { return s.key("lock:", name) }

// LockChat takes the per-chat lock that keeps one chat's updates in order
// across instances. It waits while the lock is held, until ctx ends (the
// error then wraps ctx.Err()). ttl bounds how long a crashed holder blocks
// the chat: choose it above the per-update timeout.
func (s *Store) LockChat(ctx context.Context, chatID int64, ttl time.Duration) (unlock func(context.Context) error, err error) {
	return s.Lock(ctx, "chat:"+id(chatID), ttl)
}

// Lock takes the named lock, waiting (polling with a small jittered
// backoff) while another owner holds it, until ctx ends. The lock is owned
// by a random token and expires after ttl.
//
// unlock deletes the key only if it still holds this token (compare-and-
// delete in Lua), so a late unlock never frees someone else's lock. It
// returns Conflict when the lock had already expired: the critical section
// outlived ttl, which the caller may want to log.
func (s *Store) Lock(ctx context.Context, name string, ttl time.Duration) (unlock func(context.Context) error, err error) {
	backoff := lockMinBackoff
	for {
		unlock, ok, err := s.TryLock(ctx, name, ttl)
		if err != nil {
			return nil, err
		}
		if ok {
			return unlock, nil
		}
		// Full jitter in [backoff/2, backoff) so waiters do not move in step.
		d := backoff/2 + rand.N(backoff/2+1)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, internal(ctx.Err(), "lock %q: gave up waiting", name)
		case <-t.C:
		}
		backoff = min(backoff*2, lockMaxBackoff)
	}
}

// TryLock takes the named lock if it is free (SET NX PX) and reports
// whether it did; it never waits. unlock is nil when ok is false.
func (s *Store) TryLock(ctx context.Context, name string, ttl time.Duration) (unlock func(context.Context) error, ok bool, err error) {
	if _, err := ms("lock TTL", ttl); err != nil {
		return nil, false, err
	}
	token, err := newToken()
	if err != nil {
		return nil, false, err
	}
	k := s.lockKey(name)
	ok, err = s.rdb.SetNX(ctx, k, token, ttl).Result()
	if err != nil {
		return nil, false, internal(err, "lock %q", name)
	}
	if !ok {
		return nil, false, nil
	}
	return func(ctx context.Context) error {
		n, err := deleteIfEqualScript.Run(ctx, s.rdb, []string{k}, token).Int()
		if err != nil {
			return internal(err, "unlock %q", name)
		}
		if n == 0 {
			return flows.Errorf(flows.Conflict, "unlock %q: lock expired before release", name)
		}
		return nil
	}, true, nil
}

func newToken() (string, error) {
	var b [16]byte
	if _, err := cryptorand.Read(b[:]); err != nil {
		return "", internal(err, "lock token")
	}
	return hex.EncodeToString(b[:]), nil
}

// acquireLeaderScript: KEYS[1] leader key; ARGV[1] owner, ARGV[2] TTL ms.
// Takes the key if free, renews it if owner already holds it; 1 = leader.
var acquireLeaderScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

func (s *Store) leaderKey(name string) string { return s.key("leader:", name) }

// AcquireLeader makes owner the leader of name for ttl, or renews its
// leadership if it already is; it reports whether owner is leader now.
// Call it more often than ttl (e.g. every ttl/3); a leader that stops
// renewing loses the role when ttl runs out and another owner takes over.
// owner must be unique per instance (e.g. hostname + pid + random).
func (s *Store) AcquireLeader(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	p, err := ms("leader TTL", ttl)
	if err != nil {
		return false, err
	}
	if owner == "" {
		return false, flows.Errorf(flows.Invalid, "acquire leader %q: empty owner", name)
	}
	n, err := acquireLeaderScript.Run(ctx, s.rdb, []string{s.leaderKey(name)}, owner, p).Int()
	if err != nil {
		return false, internal(err, "acquire leader %q", name)
	}
	return n == 1, nil
}

// ReleaseLeader gives up leadership of name if owner holds it, so another
// instance can take over at once (on shutdown). Releasing a role one does
// not hold is a no-op.
func (s *Store) ReleaseLeader(ctx context.Context, name, owner string) error {
	if err := deleteIfEqualScript.Run(ctx, s.rdb, []string{s.leaderKey(name)}, owner).Err(); err != nil {
		return internal(err, "release leader %q", name)
	}
	return nil
}
