package redisstate

import (
	"context"
	"time"
)

// Test-only windows into the keys, for TTL and raw-document checks.

func (s *Store) SessionPTTL(ctx context.Context, chatID int64) (time.Duration, error) {
	return s.rdb.PTTL(ctx, s.sessionKey(chatID)).Result()
}

func (s *Store) PutRawSession(ctx context.Context, chatID int64, raw string) error {
	return s.rdb.Set(ctx, s.sessionKey(chatID), raw, time.Hour).Err()
}

func (s *Store) RawSession(ctx context.Context, chatID int64) (string, error) {
	return s.rdb.Get(ctx, s.sessionKey(chatID)).Result()
}

func (s *Store) UpdatePTTL(ctx context.Context, botID, updateID int64) (time.Duration, error) {
	return s.rdb.PTTL(ctx, s.updateKey(botID, updateID)).Result()
}

func (s *Store) OTPFields(ctx context.Context, key string) (map[string]string, error) {
	return s.rdb.HGetAll(ctx, s.otpKeys(key)[0]).Result()
}

func (s *Store) Prefix() string { return s.prefix }

func (s *Store) Keys(ctx context.Context) ([]string, error) {
	return s.rdb.Keys(ctx, s.prefix+"*").Result()
}
