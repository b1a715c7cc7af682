// Package sessiontest helps test code that uses sessions: Run is the conformance suite
// every session.Store passes, RunServers and RunOutage check a store under a tier of web
// servers and across an outage, and Login gives a handler under test a logged-in session.
package sessiontest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/ladder-go/ladder/session"
)

// Run runs the conformance suite against stores made by newStore (one per subtest; the
// store may be shared with other subtests as long as keys do not collide: every subtest
// uses fresh random keys and user names). Stores must keep times to the millisecond.
func Run(t *testing.T, newStore func(t *testing.T) session.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, session.Store)
	}{
		{"LoadMissing", testLoadMissing},
		{"CreateLoad", testCreateLoad},
		{"CreateExists", testCreateExists},
		{"CreateExpired", testCreateExpired},
		{"ApplySetDelete", testApplySetDelete},
		{"ApplyMissingNeverCreates", testApplyMissing},
		{"ApplyExpires", testApplyExpires},
		{"ApplyMaxSize", testApplyMaxSize},
		{"DestroyTombstone", testDestroy},
		{"RenewForwards", testRenew},
		{"RenewConflicts", testRenewConflicts},
		{"DestroyUser", testDestroyUser},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentDestroyNoResurrection", testConcurrentDestroy},
		{"ConcurrentRenewLosesNoWrite", testConcurrentRenew},
		{"RenewUnderSustainedWrites", testRenewUnderSustainedWrites},
		{"Take", testTake},
		{"TakeRenewed", testTakeRenewed},
		{"ConcurrentTakeOnce", testConcurrentTake},
		{"ConcurrentBindDestroyUser", testConcurrentBindDestroyUser},
		{"DestroyUserRacingRenew", testDestroyUserRacingRenew},
		{"CanceledContext", testCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// Key returns a fresh random store key (hex SHA-256 shaped).
func Key() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func user() string { return "user-" + Key()[:12] }

func now() time.Time { return time.Now().Truncate(time.Millisecond) }

func record(vals map[string]string, user string) session.Record {
	n := now()
	r := session.Record{Values: map[string][]byte{}, User: user, Created: n, Expires: n.Add(time.Hour)}
	for k, v := range vals {
		r.Values[k] = []byte(v)
	}
	return r
}

func mustCreate(t *testing.T, s session.Store, key string, rec session.Record) {
	t.Helper()
	if err := s.Create(t.Context(), key, rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
}

func mustLoad(t *testing.T, s session.Store, key string) session.Record {
	t.Helper()
	rec, err := s.Load(t.Context(), key)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return rec
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("%s: err = %v, want ErrNotFound", what, err)
	}
}

// wantRenewed: a renewed key loads as ErrRenewed, never as the successor's session.
func wantRenewed(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, session.ErrRenewed) {
		t.Fatalf("%s: err = %v, want ErrRenewed", what, err)
	}
}

func wantValues(t *testing.T, rec session.Record, want map[string]string) {
	t.Helper()
	if len(rec.Values) != len(want) {
		t.Errorf("values = %q, want %q", rec.Values, want)
	}
	for k, v := range want {
		if got, ok := rec.Values[k]; !ok || !bytes.Equal(got, []byte(v)) {
			t.Errorf("value %q = %q (present %v), want %q", k, got, ok, v)
		}
	}
}

func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if d := got.Sub(want); d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func testLoadMissing(t *testing.T, s session.Store) {
	_, err := s.Load(t.Context(), Key())
	wantNotFound(t, "Load of a missing key", err)
}

func testCreateLoad(t *testing.T, s session.Store) {
	key, u := Key(), user()
	vals := map[string]string{"a": "1", "bin": "\x00\xff\x01", "k:with:colons": "ü", "empty": ""}
	rec := record(vals, u)
	mustCreate(t, s, key, rec)
	got := mustLoad(t, s, key)
	wantValues(t, got, vals)
	if got.User != u {
		t.Errorf("User = %q, want %q", got.User, u)
	}
	sameTime(t, "Created", got.Created, rec.Created)
	sameTime(t, "Expires", got.Expires, rec.Expires)
}

func testCreateExists(t *testing.T, s session.Store) {
	key := Key()
	mustCreate(t, s, key, record(map[string]string{"a": "1"}, ""))
	if err := s.Create(t.Context(), key, record(map[string]string{"b": "2"}, "")); !errors.Is(err, session.ErrExists) {
		t.Fatalf("second Create: err = %v, want ErrExists", err)
	}
	wantValues(t, mustLoad(t, s, key), map[string]string{"a": "1"})
}

func testCreateExpired(t *testing.T, s session.Store) {
	key := Key()
	rec := record(map[string]string{"a": "1"}, "")
	rec.Expires = now().Add(-time.Second)
	if err := s.Create(t.Context(), key, rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	_, err := s.Load(t.Context(), key)
	wantNotFound(t, "Load of an expired session", err)
	wantNotFound(t, "Apply to an expired session", s.Apply(t.Context(), key, session.Update{Set: map[string][]byte{"b": []byte("2")}}))
}

func testApplySetDelete(t *testing.T, s session.Store) {
	key := Key()
	rec := record(map[string]string{"a": "1", "b": "2", "c": "3"}, "")
	mustCreate(t, s, key, rec)
	u := session.Update{Set: map[string][]byte{"a": []byte("10"), "d": []byte("4")}, Delete: []string{"b", "zz"}}
	if err := s.Apply(t.Context(), key, u); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	got := mustLoad(t, s, key)
	wantValues(t, got, map[string]string{"a": "10", "c": "3", "d": "4"})
	sameTime(t, "Expires after an update without Expires", got.Expires, rec.Expires)
}

func testApplyMissing(t *testing.T, s session.Store) {
	key := Key()
	u := user()
	err := s.Apply(t.Context(), key, session.Update{Set: map[string][]byte{"a": []byte("1")}, SetUser: true, User: u,
		Expires: now().Add(time.Hour)})
	wantNotFound(t, "Apply to a missing session", err)
	_, err = s.Load(t.Context(), key)
	wantNotFound(t, "Load after Apply to a missing session", err)
	n, err := s.DestroyUser(t.Context(), u, time.Minute)
	if err != nil || n != 0 {
		t.Fatalf("DestroyUser = %d, %v; want 0 (no session was created)", n, err)
	}
}

func testApplyExpires(t *testing.T, s session.Store) {
	key := Key()
	mustCreate(t, s, key, record(map[string]string{"a": "1"}, ""))
	exp := now().Add(2 * time.Hour)
	if err := s.Apply(t.Context(), key, session.Update{Expires: exp}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	got := mustLoad(t, s, key)
	sameTime(t, "Expires", got.Expires, exp)
	wantValues(t, got, map[string]string{"a": "1"})
	if err := s.Apply(t.Context(), key, session.Update{Expires: now().Add(-time.Second)}); err != nil {
		t.Fatalf("Apply past Expires: %v", err)
	}
	_, err := s.Load(t.Context(), key)
	wantNotFound(t, "Load after expiring", err)
}

func testDestroy(t *testing.T, s session.Store) {
	key := Key()
	mustCreate(t, s, key, record(map[string]string{"a": "1"}, user()))
	if err := s.Destroy(t.Context(), key, time.Minute); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	_, err := s.Load(t.Context(), key)
	wantNotFound(t, "Load after Destroy", err)
	wantNotFound(t, "Apply after Destroy", s.Apply(t.Context(), key, session.Update{Set: map[string][]byte{"a": []byte("2")}}))
	if err := s.Create(t.Context(), key, record(nil, "")); !errors.Is(err, session.ErrExists) {
		t.Fatalf("Create over a tombstone: err = %v, want ErrExists", err)
	}
	_, err = s.Load(t.Context(), key)
	wantNotFound(t, "Load after Apply and Create on a tombstone", err)
	if err := s.Destroy(t.Context(), Key(), time.Minute); err != nil {
		t.Fatalf("Destroy of a missing session: %v", err)
	}
}

func testRenew(t *testing.T, s session.Store) {
	oldKey, newKey, u := Key(), Key(), user()
	rec := record(map[string]string{"a": "1"}, u)
	mustCreate(t, s, oldKey, rec)
	exp := now().Add(90 * time.Minute)
	if err := s.Renew(t.Context(), oldKey, newKey, exp, time.Minute); err != nil {
		t.Fatalf("Renew: %v", err)
	}
	_, err := s.Load(t.Context(), oldKey)
	wantRenewed(t, "Load of the old key", err)
	got := mustLoad(t, s, newKey)
	wantValues(t, got, map[string]string{"a": "1"})
	if got.User != u {
		t.Errorf("User = %q, want %q", got.User, u)
	}
	sameTime(t, "Created", got.Created, rec.Created)
	sameTime(t, "Expires", got.Expires, exp)
	// An update still in flight on the old key reaches the new session.
	if err := s.Apply(t.Context(), oldKey, session.Update{Set: map[string][]byte{"b": []byte("2")}}); err != nil {
		t.Fatalf("Apply to the old key: %v", err)
	}
	wantValues(t, mustLoad(t, s, newKey), map[string]string{"a": "1", "b": "2"})
	_, err = s.Load(t.Context(), oldKey)
	wantRenewed(t, "Load of the old key after a forwarded Apply", err)
	// Once the new session is destroyed, nothing reaches it through the old key.
	if err := s.Destroy(t.Context(), newKey, time.Minute); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	wantNotFound(t, "Apply to the old key after Destroy", s.Apply(t.Context(), oldKey, session.Update{Set: map[string][]byte{"c": []byte("3")}}))
	_, err = s.Load(t.Context(), newKey)
	wantNotFound(t, "Load of the destroyed new key", err)
	if n, err := s.DestroyUser(t.Context(), u, time.Minute); err != nil || n != 0 {
		t.Fatalf("DestroyUser after all destroyed = %d, %v; want 0", n, err)
	}
}

func testRenewConflicts(t *testing.T, s session.Store) {
	a, b := Key(), Key()
	wantNotFound(t, "Renew of a missing session", s.Renew(t.Context(), a, b, now().Add(time.Hour), time.Minute))
	if _, err := s.Load(t.Context(), b); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load of the target of a failed Renew: err = %v, want ErrNotFound", err)
	}
	mustCreate(t, s, a, record(map[string]string{"a": "1"}, ""))
	mustCreate(t, s, b, record(map[string]string{"b": "1"}, ""))
	if err := s.Renew(t.Context(), a, b, now().Add(time.Hour), time.Minute); !errors.Is(err, session.ErrExists) {
		t.Fatalf("Renew onto a live key: err = %v, want ErrExists", err)
	}
	wantValues(t, mustLoad(t, s, a), map[string]string{"a": "1"})
	wantValues(t, mustLoad(t, s, b), map[string]string{"b": "1"})
	c := Key()
	if err := s.Renew(t.Context(), a, c, now().Add(time.Hour), time.Minute); err != nil {
		t.Fatalf("Renew: %v", err)
	}
	wantNotFound(t, "second Renew of the old key", s.Renew(t.Context(), a, Key(), now().Add(time.Hour), time.Minute))
}

func testDestroyUser(t *testing.T, s session.Store) {
	u1, u2 := user(), user()
	keys := []string{Key(), Key(), Key()}
	for _, k := range keys[:2] {
		mustCreate(t, s, k, record(map[string]string{"a": "1"}, u1))
	}
	// Bound later through Apply, then renewed: the index follows.
	mustCreate(t, s, keys[2], record(map[string]string{"a": "1"}, ""))
	if err := s.Apply(t.Context(), keys[2], session.Update{SetUser: true, User: u1}); err != nil {
		t.Fatalf("Apply SetUser: %v", err)
	}
	renewed := Key()
	if err := s.Renew(t.Context(), keys[2], renewed, now().Add(time.Hour), time.Minute); err != nil {
		t.Fatalf("Renew: %v", err)
	}
	other := Key()
	mustCreate(t, s, other, record(map[string]string{"a": "1"}, u2))
	// A session that moved from u1 to u2 is u2's only.
	moved := Key()
	mustCreate(t, s, moved, record(map[string]string{"a": "1"}, u1))
	if err := s.Apply(t.Context(), moved, session.Update{SetUser: true, User: u2}); err != nil {
		t.Fatalf("Apply SetUser: %v", err)
	}
	anon := Key()
	mustCreate(t, s, anon, record(map[string]string{"a": "1"}, ""))
	if n, err := s.DestroyUser(t.Context(), "", time.Minute); err != nil || n != 0 {
		t.Fatalf("DestroyUser(\"\") = %d, %v; want 0", n, err)
	}
	mustLoad(t, s, anon)
	n, err := s.DestroyUser(t.Context(), u1, time.Minute)
	if err != nil || n != 3 {
		t.Fatalf("DestroyUser = %d, %v; want 3", n, err)
	}
	for _, k := range []string{keys[0], keys[1], renewed} {
		_, err := s.Load(t.Context(), k)
		wantNotFound(t, "Load of a destroyed user session", err)
		wantNotFound(t, "Apply to a destroyed user session", s.Apply(t.Context(), k, session.Update{Set: map[string][]byte{"x": nil}}))
	}
	wantNotFound(t, "Apply through the renewed tombstone", s.Apply(t.Context(), keys[2], session.Update{Set: map[string][]byte{"x": nil}}))
	for _, k := range []string{other, moved} {
		if got := mustLoad(t, s, k); got.User != u2 {
			t.Errorf("User = %q, want %q", got.User, u2)
		}
	}
	if n, err := s.DestroyUser(t.Context(), u1, time.Minute); err != nil || n != 0 {
		t.Fatalf("second DestroyUser = %d, %v; want 0", n, err)
	}
}
