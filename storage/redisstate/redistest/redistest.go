// Package redistest gives storage tests (of any room) a Store on the real
// Redis started by scripts/with-services.sh, under a fresh key prefix that is
// deleted when the test ends.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/renewbot/renewbot/storage/redisstate"
)

// New returns a Store on REDIS_URL with a random prefix. Without REDIS_URL
// the test fails: these tests need a real Redis, never a mock, and are run
// through `make test` (scripts/with-services.sh starts one).
func New(t testing.TB, opts ...redisstate.Option) *redisstate.Store {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		t.Fatal("REDIS_URL is not set: run the tests with `make test` (or scripts/with-services.sh go test ./...), which starts a private Redis")
	}
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parse REDIS_URL: %v", err)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	prefix := "test:" + hex.EncodeToString(b[:]) + ":"

	rdb := redis.NewClient(o)
	// The Store closes its client; cleanup gets its own to delete the keys.
	store := redisstate.New(rdb, prefix, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := store.Ping(ctx); err != nil {
		_ = store.Close()
		t.Fatalf("redis at REDIS_URL: %v", err)
	}
	t.Cleanup(func() {
		defer store.Close()
		cleaner := redis.NewClient(o)
		defer cleaner.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := cleaner.Scan(ctx, 0, prefix+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("redistest: scan %s*: %v", prefix, err)
			return
		}
		for len(keys) > 0 {
			n := min(len(keys), 500)
			if err := cleaner.Del(ctx, keys[:n]...).Err(); err != nil {
				t.Errorf("redistest: delete %s*: %v", prefix, err)
				return
			}
			keys = keys[n:]
		}
	})
	return store
}
