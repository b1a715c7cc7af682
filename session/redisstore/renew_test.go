package redisstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/sessiontest"
)

func create(t *testing.T, s session.Store, key string, values map[string][]byte) {
	t.Helper()
	now := time.Now()
	if err := s.Create(t.Context(), key, session.Record{Values: values, Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

// A renewer that dies between taking its lease and sealing (the lease fields are set by
// hand here, as its freeze left them): writers wait, change nothing while the lease runs,
// and go through once it runs out; a later Renew succeeds.
func TestRenewerDiesHoldingLease(t *testing.T) {
	srv := testenv.Redis(t)
	c := srv.Client(t)
	s := openStore(t, c, srv.Prefix)
	ctx := t.Context()
	key := sessiontest.Key()
	create(t, s, key, nil)
	now, err := c.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	const lease = time.Second
	if err := c.HSet(ctx, srv.Prefix+"{session:"+key+"}", "m:r", "dead-renewer",
		"m:rd", now.Add(lease).UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Apply(ctx, key, session.Update{Set: map[string][]byte{"a": []byte("1")}}) }()
	time.Sleep(lease / 5)
	if rec, err := s.Load(ctx, key); err != nil || rec.Values["a"] != nil {
		t.Fatalf("during the lease: Load = %q, %v; want the session unchanged", rec.Values, err)
	}
	select {
	case err := <-done:
		t.Fatalf("Apply returned %v during the lease; want it to wait", err)
	default:
	}
	if err := <-done; err != nil {
		t.Fatalf("Apply after the lease: %v", err)
	}
	next := sessiontest.Key()
	if err := s.Renew(ctx, key, next, time.Now().Add(time.Hour), time.Minute); err != nil {
		t.Fatalf("Renew after a dead renewer's lease: %v", err)
	}
	if rec, err := s.Load(ctx, next); err != nil || string(rec.Values["a"]) != "1" {
		t.Fatalf("successor: %q, %v", rec.Values, err)
	}
}

// A Renew that fails after taking its lease releases it at once, so writers do not wait.
func TestFailedRenewReleasesLease(t *testing.T) {
	srv := testenv.Redis(t)
	c := srv.Client(t)
	s := openStore(t, c, srv.Prefix)
	ctx := t.Context()
	key, taken := sessiontest.Key(), sessiontest.Key()
	create(t, s, key, map[string][]byte{"a": []byte("1")})
	create(t, s, taken, nil)
	if err := s.Renew(ctx, key, taken, time.Now().Add(time.Hour), time.Minute); !errors.Is(err, session.ErrExists) {
		t.Fatalf("Renew onto a taken key: %v, want ErrExists", err)
	}
	held, err := c.HExists(ctx, srv.Prefix+"{session:"+key+"}", "m:rd").Result()
	if err != nil || held {
		t.Fatalf("lease still held after the failed Renew (%v)", err)
	}
	if rec, err := s.Load(ctx, taken); err != nil || len(rec.Values) != 0 {
		t.Fatalf("the taken key was changed: %q, %v", rec.Values, err)
	}
}
