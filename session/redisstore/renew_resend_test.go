package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/sessiontest"
)

// The seal runs but its reply is lost (a read timeout, or the request's context ending
// while the reply is on its way): Renew must not delete the successor the old key now
// forwards to, which would lose the session. Either Renew reports success and the
// successor holds the session, or it fails and the session is still under the old key.
func TestRenewSealReplyLost(t *testing.T) {
	for _, how := range []string{"timeout", "canceled"} {
		t.Run(how, func(t *testing.T) {
			oldKey, newKey := sessiontest.Key(), sessiontest.Key()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			s, _, _ := faultEnv(t, func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error {
				err := next(ctx, cmd)
				if err == nil && isSeal(args, newKey) {
					if how == "canceled" {
						cancel()
						err = ctx.Err()
					} else {
						err = lostReply
					}
					cmd.SetErr(err)
				}
				return err
			})
			create(t, s, oldKey, map[string][]byte{"cart": []byte("3 books")})
			err := s.Renew(ctx, oldKey, newKey, time.Now().Add(time.Hour), time.Minute)
			bg := t.Context()
			if err == nil {
				if rec, err := s.Load(bg, newKey); err != nil || string(rec.Values["cart"]) != "3 books" {
					t.Fatalf("Renew succeeded, but the successor holds %q, %v", rec.Values, err)
				}
				return
			}
			if rec, lerr := s.Load(bg, oldKey); lerr != nil || string(rec.Values["cart"]) != "3 books" {
				t.Fatalf("Renew failed (%v) and lost the session: old key %q, %v", err, rec.Values, lerr)
			}
		})
	}
}

// The seal runs twice (go-redis resends a command whose reply timed out): the second run
// finds the tombstone this Renew left. Renew must succeed, not report ErrNotFound and
// delete the successor.
func TestRenewSealResent(t *testing.T) {
	oldKey, newKey := sessiontest.Key(), sessiontest.Key()
	s, _, _ := faultEnv(t, runTwice(func(args []any) bool { return isSeal(args, newKey) }))
	create(t, s, oldKey, map[string][]byte{"cart": []byte("3 books")})
	if err := s.Renew(t.Context(), oldKey, newKey, time.Now().Add(time.Hour), time.Minute); err != nil {
		t.Fatalf("Renew with its seal resent: %v", err)
	}
	if rec, err := s.Load(t.Context(), newKey); err != nil || string(rec.Values["cart"]) != "3 books" {
		t.Fatalf("successor: %q, %v", rec.Values, err)
	}
	if err := s.Apply(t.Context(), oldKey, session.Update{Set: map[string][]byte{"b": []byte("2")}}); err != nil {
		t.Fatalf("Apply through the old key: %v", err)
	}
}

// The copy to the successor runs twice (resent after a lost reply): the second run finds
// the copy the first made. Renew must succeed, not fail with ErrExists.
func TestRenewCopyResent(t *testing.T) {
	oldKey, newKey := sessiontest.Key(), sessiontest.Key()
	var prefix string
	s, _, prefix := faultEnv(t, runTwice(func(args []any) bool { return isCopy(args, prefix, newKey) }))
	create(t, s, oldKey, map[string][]byte{"cart": []byte("3 books")})
	if err := s.Renew(t.Context(), oldKey, newKey, time.Now().Add(time.Hour), time.Minute); err != nil {
		t.Fatalf("Renew with its copy resent: %v", err)
	}
	if rec, err := s.Load(t.Context(), newKey); err != nil || string(rec.Values["cart"]) != "3 books" {
		t.Fatalf("successor: %q, %v", rec.Values, err)
	}
}

// The freeze runs but its reply is lost: Renew fails, and must release the lease it may
// hold, so that the session's writers do not wait it out.
func TestRenewFreezeReplyLostReleasesLease(t *testing.T) {
	oldKey, newKey := sessiontest.Key(), sessiontest.Key()
	s, c, prefix := faultEnv(t, func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err == nil && isFreeze(args, newKey) {
			err = lostReply
			cmd.SetErr(err)
		}
		return err
	})
	create(t, s, oldKey, nil)
	if err := s.Renew(t.Context(), oldKey, newKey, time.Now().Add(time.Hour), time.Minute); err == nil {
		t.Fatal("Renew succeeded although its freeze failed")
	}
	held, err := c.HExists(t.Context(), prefix+"{session:"+oldKey+"}", "m:rd").Result()
	if err != nil || held {
		t.Fatalf("lease still held after the failed Renew (%v)", err)
	}
}

// The first copy runs but its reply is lost: Renew fails and the session stays under the
// old key, so the copy must go too. Left behind, it is a second live session of the user
// (counted by DestroyUser, alive after the user logs out of the real one).
func TestRenewCopyReplyLostLeavesNoCopy(t *testing.T) {
	oldKey, newKey := sessiontest.Key(), sessiontest.Key()
	var prefix string
	s, _, prefix := faultEnv(t, func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err == nil && isCopy(args, prefix, newKey) {
			err = lostReply
			cmd.SetErr(err)
		}
		return err
	})
	now := time.Now()
	if err := s.Create(t.Context(), oldKey, session.Record{User: "alice", Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Renew(t.Context(), oldKey, newKey, now.Add(time.Hour), time.Minute); err == nil {
		t.Fatal("Renew succeeded although its copy failed")
	}
	if rec, err := s.Load(t.Context(), newKey); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the failed Renew left a live copy at the successor: %+v, %v", rec, err)
	}
	if n, err := s.DestroyUser(t.Context(), "alice", time.Minute); err != nil || n != 1 {
		t.Fatalf("DestroyUser: %d, %v; want 1 (the session under the old key)", n, err)
	}
}
