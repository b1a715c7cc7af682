package replica_test

import (
	"context"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/replica"
)

// With read-your-writes off, a read after a write reads the lagging
// replica: stale. Every other mode reads the write back.
func TestReadYourWritesModes(t *testing.T) {
	for _, tc := range []struct {
		mode  replica.ReadYourWrites
		stale bool
	}{
		{replica.RYWOff, true},
		{replica.RYWTimePin, false},
		{replica.RYWCausalFast, false},
		{replica.RYWCausalWait, false},
		{replica.RYWCausalGlobal, false},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			testenv.Bubble(t, func(t *testing.T) {
				c := newCluster(t, "r1")
				r := newRouter(t, c, replica.Options{Positions: fakePositions{}, ReadYourWrites: tc.mode}, "r1")
				ctx, _ := session()
				set(t, ctx, r, "k", "new")
				got := get(t, ctx, r, "k")
				if stale := got != "new"; stale != tc.stale {
					t.Fatalf("read %q after writing new: stale %v, want %v", got, stale, tc.stale)
				}
			})
		})
	}
}

// Time pin reads the primary for Pin after a write, then the replica again.
func TestTimePinEnds(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		r := newRouter(t, c, replica.Options{ReadYourWrites: replica.RYWTimePin, Pin: 2 * time.Second}, "r1")
		ctx, _ := session()
		set(t, ctx, r, "k", "v")
		get(t, ctx, r, "k")
		if rr, _ := c.counts("r1"); rr != 0 {
			t.Fatal("read during the pin went to the replica")
		}
		time.Sleep(2 * time.Second)
		get(t, ctx, r, "k")
		if rr, _ := c.counts("r1"); rr != 1 {
			t.Fatal("read after the pin did not go to the replica")
		}
	})
}

// Wait mode waits for the replica to replay the write and reads it there.
func TestCausalWaitReadsTheReplicaOnceCaughtUp(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, ReadYourWrites: replica.RYWCausalWait, WaitTimeout: time.Second}, "r1")
		ctx, _ := session()
		set(t, ctx, r, "k", "v")
		go func() {
			time.Sleep(20 * time.Millisecond)
			c.ship("r1")
		}()
		if got := get(t, ctx, r, "k"); got != "v" {
			t.Fatalf("read %q, want v", got)
		}
		if rr, _ := c.counts("r1"); rr != 1 {
			t.Fatal("the read did not go to the replica")
		}
		if pr, _ := c.counts("primary"); pr != 0 {
			t.Fatal("the read went to the primary")
		}
	})
}

// Wait mode gives up after WaitTimeout and reads the primary.
func TestCausalWaitFallsBackToThePrimary(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, ReadYourWrites: replica.RYWCausalWait, WaitTimeout: 300 * time.Millisecond}, "r1")
		ctx, _ := session()
		set(t, ctx, r, "k", "v")
		start := time.Now()
		if got := get(t, ctx, r, "k"); got != "v" {
			t.Fatalf("read %q, want v", got)
		}
		if waited := time.Since(start); waited != 300*time.Millisecond {
			t.Fatalf("waited %v, want the WaitTimeout 300ms", waited)
		}
		if pr, _ := c.counts("primary"); pr != 1 {
			t.Fatal("the read did not fall back to the primary")
		}
	})
}

// Fast mode reads a replica once the monitor has seen it catch up.
func TestCausalFastUsesTheMonitorsPositions(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, ReadYourWrites: replica.RYWCausalFast, ProbeInterval: time.Second}, "r1")
		ctx, _ := session()
		set(t, ctx, r, "k", "v")
		c.ship("r1")
		get(t, ctx, r, "k") // the monitor has not seen r1 catch up yet
		if pr, _ := c.counts("primary"); pr != 1 {
			t.Fatal("fast mode read a replica not known to be caught up")
		}
		nextRound(time.Second)
		get(t, ctx, r, "k")
		if rr, _ := c.counts("r1"); rr != 1 {
			t.Fatal("fast mode did not read the caught-up replica")
		}
	})
}

// Global mode: a read in another scope (no session at all) sees the write.
func TestCausalGlobalSeesEveryEarlierWrite(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, ReadYourWrites: replica.RYWCausalGlobal}, "r1")
		set(t, context.Background(), r, "k", "v")
		if got := get(t, context.Background(), r, "k"); got != "v" {
			t.Fatalf("read %q in another scope, want v", got)
		}
		// Causal wait without a session cannot know about the write.
		c2 := newCluster(t, "r1")
		r2 := newRouter(t, c2, replica.Options{Positions: fakePositions{}, ReadYourWrites: replica.RYWCausalWait}, "r1")
		set(t, context.Background(), r2, "k", "v")
		if got := get(t, context.Background(), r2, "k"); got != "" {
			t.Fatalf("wait mode without a session read %q: the fake's replica should be stale", got)
		}
	})
}

// A write whose position cannot be read pins the session to the primary.
func TestUnreadablePositionPinsTheSession(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		r := newRouter(t, c, replica.Options{Positions: failingWritePosition{}, ReadYourWrites: replica.RYWCausalWait}, "r1")
		ctx, s := session()
		set(t, ctx, r, "k", "v")
		if s.Position() != 0 {
			t.Fatal("position recorded despite the error")
		}
		if got := get(t, ctx, r, "k"); got != "v" {
			t.Fatalf("read %q, want v from the primary", got)
		}
	})
}

type failingWritePosition struct{ fakePositions }

func (failingWritePosition) WritePosition(context.Context, replica.Querier) (replica.Position, error) {
	return 0, context.DeadlineExceeded
}

// A read-write transaction records its commit's position; a rolled-back one does not.
func TestTxCommitRecordsThePosition(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, ReadYourWrites: replica.RYWCausalFast}, "r1")
		ctx, s := session()
		tx, err := r.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "SET", "k", "v"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if s.Position() != 0 {
			t.Fatal("a rollback recorded a position")
		}
		tx, _ = r.BeginTx(ctx, nil)
		_, _ = tx.ExecContext(ctx, "SET", "k", "v")
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if s.Position() != 1 {
			t.Fatalf("position %d after commit, want 1", s.Position())
		}
		if got := get(t, ctx, r, "k"); got != "v" {
			t.Fatalf("read %q after commit, want v", got)
		}
	})
}

// A replica kept serving only by MinServing (it lags more than MaxLag) is
// not waited on: a read that needs a newer position goes to the primary at
// once instead of waiting WaitTimeout on every read.
func TestCausalWaitSkipsAReplicaOverMaxLag(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		c.do("primary", func(n *fakeNode) { n.hist = []write{{"old", "x"}} })
		c.do("r1", func(n *fakeNode) { n.lag = time.Hour })
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, ReadYourWrites: replica.RYWCausalWait, WaitTimeout: time.Second}, "r1")
		if !serving(r)["r1"] {
			t.Fatal("MinServing 1 should keep the lagging replica serving")
		}
		ctx, _ := session()
		set(t, ctx, r, "k", "v")
		start := time.Now()
		if got := get(t, ctx, r, "k"); got != "v" {
			t.Fatalf("read %q, want v", got)
		}
		if waited := time.Since(start); waited != 0 {
			t.Fatalf("waited %v on a replica an hour behind", waited)
		}
	})
}
