package redisstore_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/sessiontest"
)

// A Create that runs twice finds the session its first run made: it must succeed, not
// fail with ErrExists (which the Manager answers with an error page at login).
func TestCreateResent(t *testing.T) {
	key := sessiontest.Key()
	var prefix string
	s, _, prefix := faultEnv(t, runTwice(func(args []any) bool { return args[3] == prefix+"{session:"+key+"}" }))
	create(t, s, key, map[string][]byte{"a": []byte("1")})
	if rec, err := s.Load(t.Context(), key); err != nil || string(rec.Values["a"]) != "1" {
		t.Fatalf("Load: %q, %v", rec.Values, err)
	}
	// A Create of a taken key still fails, resent or not.
	if err := s.Create(t.Context(), key, session.Record{Created: time.Now(), Expires: time.Now().Add(time.Hour)}); !errors.Is(err, session.ErrExists) {
		t.Fatalf("second Create of the key: %v, want ErrExists", err)
	}
}

// A Take that runs twice must return the value (taken by its first run), not lose it.
func TestTakeResent(t *testing.T) {
	key := sessiontest.Key()
	var prefix string
	s, _, prefix := faultEnv(t, runTwice(func(args []any) bool {
		return args[3] == prefix+"{session:"+key+"}" && len(args) == 6 && args[4] == "flash"
	}))
	create(t, s, key, map[string][]byte{"flash": []byte("saved!")})
	v, err := s.Take(t.Context(), key, "flash")
	if err != nil || string(v) != "saved!" {
		t.Fatalf("Take resent: %q, %v; want the value", v, err)
	}
	if _, err := s.Take(t.Context(), key, "flash"); !errors.Is(err, session.ErrNoValue) {
		t.Fatalf("a second Take: %v, want ErrNoValue", err)
	}
	if rec, err := s.Load(t.Context(), key); err != nil || len(rec.Values) != 0 {
		t.Fatalf("after Take: %q, %v; want no values", rec.Values, err)
	}
}

// A Take runs, its reply is lost, and a login renews the session before go-redis resends
// it: the resend reaches the old key, now a tombstone forwarding to the successor, which
// the copy made without the value. Take must still return the value its first run took.
func TestTakeResentAcrossRenew(t *testing.T) {
	oldKey, newKey := sessiontest.Key(), sessiontest.Key()
	var s session.Store
	var prefix string
	var renewed atomic.Bool
	s, _, prefix = faultEnv(t, func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error {
		if len(args) == 6 && args[3] == prefix+"{session:"+oldKey+"}" && args[4] == "flash" && !renewed.Load() {
			if err := next(ctx, cmd); err != nil {
				return err // NOSCRIPT: go-redis runs it again with EVAL
			}
			renewed.Store(true)
			// The reply is lost; meanwhile another request renews the session.
			if err := s.Renew(ctx, oldKey, newKey, time.Now().Add(time.Hour), time.Minute); err != nil {
				return err
			}
		}
		return next(ctx, cmd)
	})
	create(t, s, oldKey, map[string][]byte{"flash": []byte("saved!"), "keep": []byte("1")})
	v, err := s.Take(t.Context(), oldKey, "flash")
	if err != nil || string(v) != "saved!" {
		t.Fatalf("Take resent across a Renew: %q, %v; want the value its first run took", v, err)
	}
	if rec, err := s.Load(t.Context(), newKey); err != nil || len(rec.Values) != 1 || string(rec.Values["keep"]) != "1" {
		t.Fatalf("successor: %q, %v; want only keep", rec.Values, err)
	}
}

// DestroyUser's script on a session runs twice (resent after its reply timed out): the
// second run finds the tombstone its first run left. The session was destroyed by this
// call and must be counted.
func TestDestroyUserResentCounts(t *testing.T) {
	key := sessiontest.Key()
	var prefix string
	s, _, prefix := faultEnv(t, runTwice(func(args []any) bool {
		return len(args) >= 6 && args[3] == prefix+"{session:"+key+"}" && args[5] == "alice"
	}))
	now := time.Now()
	if err := s.Create(t.Context(), key, session.Record{User: "alice", Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	n, err := s.DestroyUser(t.Context(), "alice", time.Minute)
	if err != nil || n != 1 {
		t.Fatalf("DestroyUser resent: %d, %v; want 1", n, err)
	}
	if _, err := s.Load(t.Context(), key); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load after DestroyUser: %v", err)
	}
	// A second DestroyUser finds nothing live: 0.
	if n, err := s.DestroyUser(t.Context(), "alice", time.Minute); err != nil || n != 0 {
		t.Fatalf("second DestroyUser: %d, %v; want 0", n, err)
	}
}

// A Take runs, its reply is lost, and another request takes a different value of the
// session before go-redis resends the first: the resend must still return its own value
// (the store kept only the last take's nonce, so the first value was lost).
func TestTakeResentAfterAnotherTake(t *testing.T) {
	key := sessiontest.Key()
	var s session.Store
	var prefix string
	var once atomic.Bool
	s, _, prefix = faultEnv(t, func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error {
		if len(args) == 6 && args[3] == prefix+"{session:"+key+"}" && args[4] == "flash" && !once.Load() {
			if err := next(ctx, cmd); err != nil {
				return err // NOSCRIPT: go-redis runs it again with EVAL
			}
			once.Store(true)
			// The reply is lost; meanwhile another request pops another value.
			if v, err := s.Take(ctx, key, "notice"); err != nil || string(v) != "hi" {
				t.Errorf("the other Take: %q, %v", v, err)
			}
		}
		return next(ctx, cmd)
	})
	create(t, s, key, map[string][]byte{"flash": []byte("saved!"), "notice": []byte("hi")})
	v, err := s.Take(t.Context(), key, "flash")
	if err != nil || string(v) != "saved!" {
		t.Fatalf("Take resent after another Take: %q, %v; want the value its first run took", v, err)
	}
	if rec, err := s.Load(t.Context(), key); err != nil || len(rec.Values) != 0 {
		t.Fatalf("after both Takes: %q, %v; want no values", rec.Values, err)
	}
}

// A Create runs, its reply is lost, and DestroyAll ends the session (through the user's
// index, which Create fills first) with a very short grace before go-redis resends the
// Create: the resend must not bring the logged-out session back once the tombstone would
// have expired. Tombstones live at least MinTombstone, longer than go-redis retries.
func TestCreateResentAfterShortGraceDestroy(t *testing.T) {
	key := sessiontest.Key()
	var s session.Store
	var prefix string
	var once atomic.Bool
	s, _, prefix = faultEnv(t, func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error {
		if len(args) >= 8 && args[3] == prefix+"{session:"+key+"}" && !once.Load() {
			if err := next(ctx, cmd); err != nil {
				return err
			}
			once.Store(true)
			// The reply is lost; meanwhile the user logs out everywhere, with 1 ms grace.
			if n, err := s.DestroyUser(ctx, "alice", time.Millisecond); err != nil || n != 1 {
				t.Errorf("DestroyUser: %d, %v", n, err)
			}
			time.Sleep(20 * time.Millisecond) // the resend comes later than that grace
		}
		return next(ctx, cmd)
	})
	now := time.Now()
	err := s.Create(t.Context(), key, session.Record{Values: map[string][]byte{"a": []byte("1")}, User: "alice",
		Created: now, Expires: now.Add(time.Hour)})
	if !errors.Is(err, session.ErrExists) {
		t.Errorf("resent Create after DestroyUser: %v, want ErrExists", err)
	}
	if _, err := s.Load(t.Context(), key); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the session after DestroyUser and a resent Create: %v, want ErrNotFound (logged out)", err)
	}
}
