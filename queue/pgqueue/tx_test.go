package pgqueue_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

func TestEnqueueTxExistsIffCommitted(t *testing.T) {
	t.Parallel()
	b, pool := newBackend(t, pgqueue.Options{})
	ctx := ctxT(t)
	for _, commit := range []bool{false, true} {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		res, err := b.EnqueueTx(ctx, tx, job("q"), job("q"))
		if err != nil || len(res) != 2 {
			t.Fatalf("EnqueueTx: %+v %v", res, err)
		}
		// Not visible outside the transaction before it ends.
		if got := fetch(t, b, "q", 10, time.Minute); len(got) != 0 {
			t.Fatalf("uncommitted jobs were fetched: %d", len(got))
		}
		if commit {
			err = tx.Commit(ctx)
		} else {
			err = tx.Rollback(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
		got := fetch(t, b, "q", 10, time.Minute)
		if want := map[bool]int{false: 0, true: 2}[commit]; len(got) != want {
			t.Fatalf("commit=%v: %d jobs, want %d", commit, len(got), want)
		}
	}
}

func TestEnqueueTxNotifiesAtCommit(t *testing.T) {
	t.Parallel()
	b, pool := newBackend(t, pgqueue.Options{})
	ctx := ctxT(t)
	// Let the listener start and prove itself first.
	if err := b.Wait(ctx, "q", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	fetch(t, b, "q", 1, time.Minute)
	woke := make(chan error, 1)
	go func() { woke <- b.Wait(ctx, "q", time.Minute) }()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.EnqueueTx(ctx, tx, job("q")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-woke:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("Wait did not wake on the commit")
	}
}

// A handler completes its job in its own transaction with its own
// effects: they commit together, and a handler whose lease is lost cannot
// commit them.
func TestCompleteTxCommitsWithTheHandlersEffects(t *testing.T) {
	t.Parallel()
	b, pool := newBackend(t, pgqueue.Options{})
	ctx := ctxT(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE effects (job text PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	enqueue(t, b, job("q"), job("q"))
	jobs := fetch(t, b, "q", 2, 300*time.Millisecond)
	handle := func(j *queue.Job) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO effects VALUES ($1)`, j.ID); err != nil {
				return err
			}
			return b.CompleteTx(ctx, tx, j)
		})
	}
	// The first completes while its lease is held; the worker's Settle
	// afterwards changes nothing and is no error.
	if err := handle(jobs[0]); err != nil {
		t.Fatal(err)
	}
	if errs := settle(t, b, queue.Outcome{Job: jobs[0], Kind: queue.Done}); errs[0] != nil {
		t.Fatalf("Settle Done after CompleteTx: %v", errs[0])
	}
	// The second's lease runs out and another worker takes it.
	var again []*queue.Job
	eventually(t, "the lease to run out", func() bool { again = fetch(t, b, "q", 1, time.Minute); return len(again) == 1 })
	if err := handle(jobs[1]); !errors.Is(err, queue.ErrLeaseLost) {
		t.Fatalf("CompleteTx with a lost lease: %v", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM effects`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("effects: %d rows, %v; want only the first job's", n, err)
	}
	// The new holder completes it.
	if err := handle(again[0]); err != nil {
		t.Fatal(err)
	}
	if st, _ := b.Stats(ctx, "q"); st.Ready+st.Running+st.Scheduled+st.Dead != 0 {
		t.Fatalf("stats after both completed: %+v", st)
	}
}
