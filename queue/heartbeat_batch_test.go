package queue

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
)

// countingFake records the size of every Extend call.
type countingFake struct {
	*fakeBackend
	sizes chan int
}

func (c countingFake) Extend(ctx context.Context, jobs []*Job, d time.Duration) ([]bool, error) {
	c.sizes <- len(jobs)
	return c.fakeBackend.Extend(ctx, jobs, d)
}

// One heartbeat renews the leases of every running job of every queue in
// one Extend call; per-queue Stats count each queue's outcomes.
func TestHeartbeatIsOneBatchedCallAcrossQueues(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		f := countingFake{newFake(), make(chan int, 100)}
		h := &Handlers{}
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
			time.Sleep(time.Duration(j.Args.N) * time.Second)
			return nil
		}, HandlerOptions{})
		c := mustClient(t, f)
		enqueue(t, c, argsA{N: 10}, EnqueueOptions{Queue: "q1"})
		enqueue(t, c, argsA{N: 10}, EnqueueOptions{Queue: "q2"})
		enqueue(t, c, argsA{N: 10}, EnqueueOptions{Queue: "q2"})
		enqueue(t, c, argsA{N: 0}, EnqueueOptions{Queue: "q2"})
		r := start(t, f, h, WorkerOptions{Lease: 3 * time.Second, Queues: map[string]QueueOptions{"q1": {}, "q2": {}}})
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		select {
		case n := <-f.sizes:
			if n != 3 {
				t.Fatalf("first heartbeat extended %d leases in one call, want 3", n)
			}
		default:
			t.Fatal("no heartbeat after Lease/3")
		}
		if len(f.sizes) != 0 {
			t.Fatalf("%d more Extend calls in one heartbeat", len(f.sizes))
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		st := r.w.Stats()
		if st.Queues["q1"].Succeeded != 1 || st.Queues["q2"].Succeeded != 3 || st.Succeeded != 4 || st.Processed != 4 || st.Running != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
}
