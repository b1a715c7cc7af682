package redisstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/sessiontest"
)

// The conformance suite through a Sentinel failover client, as production
// code on Redis Sentinel runs it.
func TestConformanceOnSentinel(t *testing.T) {
	t.Parallel()
	s := testenv.StartSentinel(t)
	sessiontest.Run(t, func(t *testing.T) session.Store {
		return openStore(t, s.Client(t), "t"+sessiontest.Key()[:12]+":")
	})
}

// The web tier on Sentinel: two servers with their own failover clients on one master.
func TestServersOnSentinel(t *testing.T) {
	t.Parallel()
	s := testenv.StartSentinel(t)
	prefix := "t" + sessiontest.Key()[:12] + ":"
	sessiontest.RunServers(t, func(t *testing.T) session.Store { return openStore(t, s.Client(t), prefix) })
}

// A real failover: the master crashes (after its writes reached the replica)
// and the sentinel promotes the replica. Sessions, a renewal's forwarding
// tombstone and the user index are all there afterwards, and writes resume.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	s := testenv.StartSentinel(t)
	store := openStore(t, s.Client(t), "failover:")
	ctx := t.Context()
	now := time.Now()
	old, renewed := sessiontest.Key(), sessiontest.Key()
	if err := store.Create(ctx, old, session.Record{Values: map[string][]byte{"cart": []byte("3")}, User: "alice",
		Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := store.Renew(ctx, old, renewed, now.Add(time.Hour), time.Minute); err != nil {
		t.Fatal(err)
	}
	s.Failover()

	// The client finds the new master within a few retries.
	var rec session.Record
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if rec, err = store.Load(ctx, renewed); err == nil {
			break
		}
	}
	if err != nil || string(rec.Values["cart"]) != "3" || rec.User != "alice" {
		t.Fatalf("the renewed session after the failover: %+v, %v", rec, err)
	}
	// The old key's tombstone forwards a late update to the successor.
	if err := store.Apply(ctx, old, session.Update{Set: map[string][]byte{"late": []byte("1")}}); err != nil {
		t.Fatalf("an update through the old key after the failover: %v", err)
	}
	if rec, err = store.Load(ctx, renewed); err != nil || string(rec.Values["late"]) != "1" {
		t.Fatalf("the forwarded update: %+v, %v", rec.Values, err)
	}
	if _, err := store.Load(ctx, old); !errors.Is(err, session.ErrRenewed) {
		t.Fatalf("the old key after the failover: %v, want ErrRenewed", err)
	}
	// The user index came across too.
	if n, err := store.DestroyUser(ctx, "alice", time.Minute); err != nil || n != 1 {
		t.Fatalf("DestroyUser after the failover: %d, %v; want 1 session", n, err)
	}
	if _, err := store.Load(ctx, renewed); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the session after DestroyUser: %v, want ErrNotFound", err)
	}
}
