package queue_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
)

// A hand-made Page.After never panics Dead: it lists a page or fails with
// ErrInvalidOptions.
func FuzzDeadCursor(f *testing.F) {
	for _, s := range []string{"", "m1", "m0", "m18446744073709551615", "m18446744073709551616", "m-1", "m+1",
		"1", "m", "mm", "m 1", "m1\x00", "m０", "m99999999999999999999999", "\xff"} {
		f.Add(s)
	}
	m, err := queue.NewMemory(queue.MemoryOptions{})
	if err != nil {
		f.Fatal(err)
	}
	ctx := f.Context()
	if _, err := m.Enqueue(ctx, memJobs("a", 3)); err != nil {
		f.Fatal(err)
	}
	js, _ := m.Fetch(ctx, queue.FetchRequest{Queue: "a", Max: 3, Lease: time.Minute})
	for _, j := range js {
		_, _ = m.Settle(ctx, []queue.Outcome{{Job: j, Kind: queue.Dead, Err: "x"}})
	}
	f.Fuzz(func(t *testing.T, after string) {
		d, err := m.Dead(ctx, "a", queue.Page{After: after, Limit: 2})
		if err != nil {
			if !errors.Is(err, queue.ErrInvalidOptions) {
				t.Fatalf("Dead(After %q): %v, want nil or ErrInvalidOptions", after, err)
			}
			return
		}
		if len(d) > 2 {
			t.Fatalf("Dead(After %q) listed %d, Limit 2", after, len(d))
		}
		// Every cursor handed out leads on to older jobs only.
		for _, j := range d {
			next, err := m.Dead(ctx, "a", queue.Page{After: j.Cursor})
			if err != nil {
				t.Fatalf("Dead after its own cursor %q: %v", j.Cursor, err)
			}
			for _, n := range next {
				if !n.DiedAt.Before(j.DiedAt) && n.Job.ID == j.Job.ID {
					t.Fatalf("the page after %q lists %s again", j.Cursor, j.Job.ID)
				}
			}
		}
	})
}

// Random sequences of every Backend operation on a Memory, on a clock the
// input moves, keep the books: every job enqueued is ready, scheduled,
// running, dead or done (or purged), never two at once; no call panics.
func FuzzMemoryOps(f *testing.F) {
	f.Add([]byte{0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13})
	f.Add([]byte{0, 0, 0, 1, 13, 13, 13, 1, 1, 2, 9, 1, 3, 3})
	f.Add([]byte{0, 10, 1, 6, 1, 7, 1, 8, 11, 12, 1, 4, 5, 13, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		now := time.Unix(1_000_000, 0)
		m, err := queue.NewMemory(queue.MemoryOptions{MaxJobs: 50, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		var leased []*queue.Job
		enqueued, done := 0, 0
		doneIDs := map[string]bool{}
		pick := func(i int) *queue.Job {
			if len(leased) == 0 {
				return nil
			}
			return leased[i%len(leased)]
		}
		for i, op := range ops {
			arg := int(ops[(i+1)%len(ops)])
			switch op % 14 {
			case 0: // enqueue, some delayed, some unique
				js := memJobs("a", 1+arg%3)
				for k, j := range js {
					if arg%2 == 1 {
						j.RunAt = now.Add(time.Duration(arg%5) * time.Second)
					}
					if k == 0 && arg%4 == 0 {
						j.UniqueKey, j.UniqueUntil = "u", now.Add(3*time.Second)
					}
					j.MaxAttempts = 1 + arg%3
				}
				res, err := m.Enqueue(ctx, js)
				if err == nil {
					for _, r := range res {
						if !r.Duplicate {
							enqueued++
						}
					}
				}
			case 1: // fetch
				js, err := m.Fetch(ctx, queue.FetchRequest{Queue: "a", Max: 1 + arg%4, Lease: time.Duration(1+arg%3) * time.Second,
					Limit: arg % 3, Rate: queue.Rate{N: arg % 2, Per: time.Second}})
				if err != nil {
					t.Fatal(err)
				}
				leased = append(leased, js...)
			case 2, 3, 4, 5, 6: // settle one leased job
				j := pick(arg)
				if j == nil {
					continue
				}
				kind := queue.OutcomeKind(op%14 - 1)
				errs, err := m.Settle(ctx, []queue.Outcome{{Job: j, Kind: kind, At: now.Add(time.Duration(arg%3) * time.Second), Err: "e"}})
				if err != nil {
					t.Fatal(err)
				}
				if errs[0] == nil && kind == queue.Done && !doneIDs[j.ID] {
					doneIDs[j.ID] = true // a second Done of the same lease is no error, and no second job
					done++
				}
			case 7: // extend
				if j := pick(arg); j != nil {
					if _, err := m.Extend(ctx, []*queue.Job{j}, time.Duration(1+arg%3)*time.Second); err != nil {
						t.Fatal(err)
					}
				}
			case 8: // cancel something
				_ = m.Cancel(ctx, "a", strconv.Itoa(1+arg%20))
			case 9:
				_ = m.Pause(ctx, "a", arg%2 == 0)
			case 10:
				_, _ = m.RetryDead(ctx, "a", nil)
			case 11:
				_, _ = m.Dead(ctx, "a", queue.Page{Limit: 1 + arg%3})
			case 12:
				if n, _ := m.PurgeDead(ctx, "a", []string{strconv.Itoa(1 + arg%20)}); n > 0 {
					enqueued -= n
				}
			case 13:
				now = now.Add(time.Duration(arg%4) * 500 * time.Millisecond)
			}
			s, err := m.Stats(ctx, "a")
			if err != nil {
				t.Fatal(err)
			}
			if got := int(s.Ready+s.Scheduled+s.Running+s.Dead) + done; got != enqueued {
				t.Fatalf("op %d: ready %d + scheduled %d + running %d + dead %d + done %d = %d, enqueued %d",
					i, s.Ready, s.Scheduled, s.Running, s.Dead, done, got, enqueued)
			}
		}
	})
}
