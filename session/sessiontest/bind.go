package sessiontest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/session"
)

// testConcurrentBindDestroyUser races a login (Create or Apply binding a session to a
// user) with DestroyUser of that user. Either may win, but a session that ends up bound
// must stay reachable: the next DestroyUser destroys it.
func testConcurrentBindDestroyUser(t *testing.T, s session.Store) {
	for round := range 20 {
		u, key := user(), Key()
		create := round%2 == 0
		if !create {
			mustCreate(t, s, key, record(map[string]string{"a": "1"}, ""))
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			var err error
			if create {
				err = s.Create(t.Context(), key, record(map[string]string{"a": "1"}, u))
			} else {
				err = s.Apply(t.Context(), key, session.Update{SetUser: true, User: u, Expires: now().Add(time.Hour)})
			}
			if err != nil && !errors.Is(err, session.ErrExists) && !errors.Is(err, session.ErrNotFound) {
				t.Errorf("bind: %v", err)
			}
		})
		wg.Go(func() {
			<-start
			if _, err := s.DestroyUser(t.Context(), u, time.Minute); err != nil {
				t.Errorf("DestroyUser: %v", err)
			}
		})
		close(start)
		wg.Wait()
		rec, err := s.Load(t.Context(), key)
		if err != nil || rec.User != u {
			continue // DestroyUser won, or the session is not bound
		}
		if n, err := s.DestroyUser(t.Context(), u, time.Minute); err != nil || n != 1 {
			t.Fatalf("round %d: DestroyUser after a racing bind = %d, %v; want 1", round, n, err)
		}
		_, err = s.Load(t.Context(), key)
		wantNotFound(t, "Load after DestroyUser", err)
	}
}

// testDestroyUserRacingRenew races DestroyUser (logout everywhere) with a Renew of the
// user's session (a login on one device), 20 times: whichever wins, no live session of
// the user survives, DestroyUser fails nothing, and Renew either succeeds or reports
// ErrNotFound (the session was destroyed), never another error (a page error at login).
func testDestroyUserRacingRenew(t *testing.T, s session.Store) {
	for round := range 20 {
		user := "u-" + Key()[:12]
		oldKey, next := Key(), Key()
		mustCreate(t, s, oldKey, record(nil, user))
		start := make(chan struct{})
		var renewErr, destroyErr error
		var wg sync.WaitGroup
		wg.Go(func() { <-start; renewErr = s.Renew(t.Context(), oldKey, next, now().Add(time.Hour), time.Minute) })
		wg.Go(func() { <-start; _, destroyErr = s.DestroyUser(t.Context(), user, time.Minute) })
		close(start)
		wg.Wait()
		if destroyErr != nil || (renewErr != nil && !errors.Is(renewErr, session.ErrNotFound)) {
			t.Fatalf("round %d: DestroyUser %v, Renew %v", round, destroyErr, renewErr)
		}
		for _, k := range []string{oldKey, next} {
			if rec, err := s.Load(t.Context(), k); err == nil {
				t.Fatalf("round %d: a session of the user survived DestroyUser (Renew: %v): %q", round, renewErr, rec.Values)
			}
		}
	}
}
