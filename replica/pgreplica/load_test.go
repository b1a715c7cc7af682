package pgreplica_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/replica/pgreplica"
)

// TestCausalReadsUnderWriteLoad: with other clients writing all the time,
// a read on the standby made once Reached reports the position taken after
// a commit sees that commit, every time; one made at once often does not.
// It logs the stale share of immediate reads and the waits.
func TestCausalReadsUnderWriteLoad(t *testing.T) {
	t.Parallel()
	pair := testenv.Replica(t)
	primary, standby := pair.Primary.DB(t), pair.Replica.DB(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	mustExec(t, primary, "CREATE TABLE posts (id int PRIMARY KEY, body text)")
	mustExec(t, primary, "CREATE TABLE noise (id bigserial PRIMARY KEY, body text)")
	testenv.WaitReplay(t, ctx, primary, standby)

	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var noise atomic.Int64
	for range 3 {
		wg.Go(func() {
			for loadCtx.Err() == nil {
				if _, err := primary.ExecContext(loadCtx, "INSERT INTO noise (body) VALUES (repeat('x', 200))"); err == nil {
					noise.Add(1)
				}
			}
		})
	}
	defer func() { stopLoad(); wg.Wait() }()

	pos := pgreplica.Positions{}
	const pairs = 300
	staleAtOnce, stale := 0, 0
	var waits []time.Duration
	for i := range pairs {
		if _, err := primary.ExecContext(ctx, "INSERT INTO posts VALUES ($1, 'hello')", i); err != nil {
			t.Fatal(err)
		}
		p, err := pos.WritePosition(ctx, primary)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 { // half the pairs read at once, as a naive split does
			var n int
			if err := standby.QueryRowContext(ctx, "SELECT count(*) FROM posts WHERE id = $1", i).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				staleAtOnce++
			}
		}
		start := time.Now()
		for {
			ok, err := pos.Reached(ctx, standby, p)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				break
			}
			time.Sleep(200 * time.Microsecond)
		}
		waits = append(waits, time.Since(start))
		var n int
		if err := standby.QueryRowContext(ctx, "SELECT count(*) FROM posts WHERE id = $1", i).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			stale++
		}
	}
	if stale != 0 {
		t.Fatalf("%d of %d reads after Reached were stale", stale, pairs)
	}
	slices.Sort(waits)
	t.Logf("%d write→read pairs beside %d concurrent writes: 0 stale after Reached (wait p50 %v, p99 %v, max %v); %s of immediate reads stale",
		pairs, noise.Load(), waits[len(waits)/2], waits[len(waits)*99/100], waits[len(waits)-1],
		fmt.Sprintf("%d/%d", staleAtOnce, pairs/2))
}
