package redisstate

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/renewbot/renewbot/flows"
)

// saveSessionScript is the compare-and-set behind SaveSession.
// KEYS[1] session key; ARGV[1] expected stored version (0 = must not exist),
// ARGV[2] new JSON document, ARGV[3] TTL in ms.
// Returns 1 when written, 0 on a version mismatch. A stored document that is
// not readable JSON counts as a mismatch; LoadSession clears it.
var saveSessionScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local want = tonumber(ARGV[1])
if not cur then
  if want ~= 0 then return 0 end
else
  local ok, doc = pcall(cjson.decode, cur)
  if not ok or type(doc) ~= 'table' or tonumber(doc.version) ~= want or want == 0 then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// deleteIfEqualScript deletes KEYS[1] only if its value is still ARGV[1].
// Used to discard an unreadable session without racing a concurrent writer,
// and to release token-owned locks.
var deleteIfEqualScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

func (s *Store) sessionKey(chatID int64) string { return s.key("sess:", id(chatID)) }

// LoadSession returns the chat's session. NotFound when there is none.
//
// A stored document this binary cannot read — bad JSON, an unknown State,
// or a Schema other than flows.SessionSchema (e.g. written by a newer
// release during a rolling deploy) — is discarded (deleted only if still
// unchanged) and reported as NotFound, without logging. Returning Invalid
// instead would leave the chat stuck: the caller would start at Version 0
// and every save would then conflict with the unreadable document until its
// TTL ran out. The cursor is rebuildable from Postgres, so dropping it is safe.
func (s *Store) LoadSession(ctx context.Context, chatID int64) (flows.Session, error) {
	k := s.sessionKey(chatID)
	raw, err := s.rdb.Get(ctx, k).Result()
	if errors.Is(err, redis.Nil) {
		return flows.Session{}, flows.Errorf(flows.NotFound, "session of chat %d", chatID)
	}
	if err != nil {
		return flows.Session{}, internal(err, "load session %d", chatID)
	}
	sess, ok := decodeSession(raw)
	if !ok {
		if err := deleteIfEqualScript.Run(ctx, s.rdb, []string{k}, raw).Err(); err != nil {
			return flows.Session{}, internal(err, "discard unreadable session %d", chatID)
		}
		return flows.Session{}, flows.Errorf(flows.NotFound, "session of chat %d (unreadable, discarded)", chatID)
	}
	return sess, nil
}

func decodeSession(raw string) (flows.Session, bool) {
	var sess flows.Session
	if err := json.Unmarshal([]byte(raw), &sess); err != nil {
		return flows.Session{}, false
	}
	if sess.Schema != flows.SessionSchema || sess.Version < 1 {
		return flows.Session{}, false
	}
	if _, err := flows.ParseState(string(sess.State)); err != nil {
		return flows.Session{}, false
	}
	for _, b := range sess.Back {
		if _, err := flows.ParseState(string(b)); err != nil {
			return flows.Session{}, false
		}
	}
	return sess, true
}

// SaveSession writes sess if the stored version equals sess.Version (0 = no
// session may exist) and returns it with Version+1, Schema set to
// flows.SessionSchema and UpdatedAt set to now; the TTL restarts. Conflict
// on a version mismatch, Invalid for a negative version or an unknown state.
func (s *Store) SaveSession(ctx context.Context, sess flows.Session) (flows.Session, error) {
	if sess.Version < 0 {
		return flows.Session{}, flows.Errorf(flows.Invalid, "save session %d: negative version %d", sess.ChatID, sess.Version)
	}
	if _, err := flows.ParseState(string(sess.State)); err != nil {
		return flows.Session{}, flows.Wrap(flows.Invalid, err, "save session %d", sess.ChatID)
	}
	for _, b := range sess.Back {
		if _, err := flows.ParseState(string(b)); err != nil {
			return flows.Session{}, flows.Wrap(flows.Invalid, err, "save session %d: back stack", sess.ChatID)
		}
	}
	expected := sess.Version
	next := sess
	next.Schema = flows.SessionSchema
	next.Version = expected + 1
	next.UpdatedAt = s.clock.Now().UTC()
	doc, err := json.Marshal(next)
	if err != nil {
		return flows.Session{}, internal(err, "encode session %d", sess.ChatID)
	}
	ttl, err := ms("session TTL", s.sessionTTL)
	if err != nil {
		return flows.Session{}, err
	}
	n, err := saveSessionScript.Run(ctx, s.rdb, []string{s.sessionKey(sess.ChatID)}, expected, doc, ttl).Int()
	if err != nil {
		return flows.Session{}, internal(err, "save session %d", sess.ChatID)
	}
	if n != 1 {
		return flows.Session{}, flows.Errorf(flows.Conflict, "save session %d: version %d is stale", sess.ChatID, expected)
	}
	return next, nil
}

// DeleteSession forgets a chat's cursor. Deleting a missing session is not
// an error.
func (s *Store) DeleteSession(ctx context.Context, chatID int64) error {
	if err := s.rdb.Del(ctx, s.sessionKey(chatID)).Err(); err != nil {
		return internal(err, "delete session %d", chatID)
	}
	return nil
}
