// Package redisstate is the Redis room of storage: the conversation cursor
// (flows.Sessions), update_id dedupe, per-chat and named locks, the
// scheduler's leader lock, one-time codes (flows.OTPs) and shared rate-limit
// buckets. Everything here is short-lived by design: money and documents live
// in Postgres, and losing Redis loses nothing that cannot be rebuilt.
//
// Every key lives under the Store's prefix and every Lua script lives in
// this package; no other room knows a Redis key. Writes that must not race
// (session compare-and-set, lock release, leader renewal, OTP attempts, rate
// buckets) are single Lua scripts, so they are atomic across instances.
//
// Keys used (P = prefix):
//
//	P sess:<chatID>                  session JSON, TTL (default 7 days)
//	P upd:<botID>:<updateID>         update_id dedupe marker
//	P lock:<name>                    token-owned lock (LockChat uses name "chat:<id>")
//	P leader:<name>                  leader lock, value = owner
//	P otp:{<key>}                    OTP challenge hash {h: hash, a: wrong attempts}
//	P otp:{<key>}:cooldown           resend cooldown marker
//	P rate:<key>                     GCRA theoretical arrival time (µs)
//
// The OTP pair shares a hash tag so the script touching both also works on a
// Redis Cluster.
package redisstate

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/renewbot/renewbot/flows"
)

// DefaultSessionTTL is how long an untouched conversation cursor is kept.
const DefaultSessionTTL = 7 * 24 * time.Hour

// DefaultUpdateTTL is how long an update_id is remembered when MarkUpdate is
// given no TTL: Telegram keeps (and may redeliver) updates for up to 24 h.
const DefaultUpdateTTL = 25 * time.Hour

// Store implements the Redis-backed ports. It is safe for concurrent use.
type Store struct {
	rdb        redis.UniversalClient
	prefix     string
	sessionTTL time.Duration
	clock      flows.Clock
}

var (
	_ flows.Sessions = (*Store)(nil)
	_ flows.OTPs     = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store)

// WithSessionTTL sets how long a session lives after its last save
// (default DefaultSessionTTL). Values below a millisecond are ignored.
func WithSessionTTL(d time.Duration) Option {
	return func(s *Store) {
		if d >= time.Millisecond {
			s.sessionTTL = d
		}
	}
}

// WithClock sets the clock that stamps Session.UpdatedAt (default the
// system clock). Expiry and rate limits use Redis' own clock, so they agree
// across instances.
func WithClock(c flows.Clock) Option {
	return func(s *Store) {
		if c != nil {
			s.clock = c
		}
	}
}

// New wraps a client. Every key is written under prefix (e.g. "renewbot:").
// The Store takes ownership of client: Close closes it.
func New(client redis.UniversalClient, prefix string, opts ...Option) *Store {
	s := &Store{
		rdb:        client,
		prefix:     prefix,
		sessionTTL: DefaultSessionTTL,
		clock:      flows.SystemClock{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Open parses a redis:// (or rediss://, unix://) URL, connects and pings.
func Open(ctx context.Context, redisURL, prefix string, opts ...Option) (*Store, error) {
	o, err := redis.ParseURL(redisURL)
	if err != nil {
		// The URL may hold a password: do not echo it.
		return nil, flows.Errorf(flows.Invalid, "redisstate: parse redis URL: malformed")
	}
	s := New(redis.NewClient(o), prefix, opts...)
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the underlying client.
func (s *Store) Close() error { return s.rdb.Close() }

// Ping checks that Redis answers (for readiness probes).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return internal(err, "redisstate: ping")
	}
	return nil
}

func (s *Store) key(parts ...string) string {
	k := s.prefix
	for _, p := range parts {
		k += p
	}
	return k
}

// internal translates a driver error once, at the boundary. The chain is
// kept, so errors.Is(err, context.DeadlineExceeded) still works.
func internal(err error, format string, args ...any) error {
	return flows.Wrap(flows.Internal, err, format, args...)
}

// ms converts a TTL to whole milliseconds for PX arguments, rejecting TTLs
// Redis cannot express.
func ms(what string, d time.Duration) (int64, error) {
	if d < time.Millisecond {
		return 0, flows.Errorf(flows.Invalid, "redisstate: %s %v is below 1ms", what, d)
	}
	return d.Milliseconds(), nil
}

// id formats an id for a key.
func id(n int64) string { return strconv.FormatInt(n, 10) }
