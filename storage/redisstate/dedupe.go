package redisstate

import (
	"context"
	"time"
)

func (s *Store) updateKey(botID, updateID int64) string {
	return s.key("upd:", id(botID), ":", id(updateID))
}

// MarkUpdate records that an update is being handled and reports whether
// this is the first time it was seen (SET NX with a TTL). ttl <= 0 means
// DefaultUpdateTTL; Telegram may redeliver an update for up to 24 h, so a
// shorter TTL only suits tests. A false first means: skip the update.
func (s *Store) MarkUpdate(ctx context.Context, botID, updateID int64, ttl time.Duration) (first bool, err error) {
	if ttl <= 0 {
		ttl = DefaultUpdateTTL
	}
	if _, err := ms("update TTL", ttl); err != nil {
		return false, err
	}
	first, err = s.rdb.SetNX(ctx, s.updateKey(botID, updateID), 1, ttl).Result()
	if err != nil {
		return false, internal(err, "mark update %d/%d", botID, updateID)
	}
	return first, nil
}

// ForgetUpdate removes the mark left by MarkUpdate, for when handling failed
// and the update must be handled again when it is redelivered.
func (s *Store) ForgetUpdate(ctx context.Context, botID, updateID int64) error {
	if err := s.rdb.Del(ctx, s.updateKey(botID, updateID)).Err(); err != nil {
		return internal(err, "forget update %d/%d", botID, updateID)
	}
	return nil
}
