package pgqueue_test

import (
	"math"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

// MaxAttempts beyond the column's int32 ("retry forever" written as
// MaxInt) used to wrap on the way in (MaxInt became -1) and the job was
// dead-lettered as malformed at its first fetch.
func TestHugeMaxAttemptsRuns(t *testing.T) {
	b, _ := newBackend(t, pgqueue.Options{Logger: quiet})
	for _, n := range []int{math.MaxInt, 1 << 31, math.MaxInt32} {
		j := job("q")
		j.MaxAttempts = n
		enqueue(t, b, j)
		js := fetch(t, b, "q", 1, time.Minute)
		if len(js) != 1 || js[0].MaxAttempts < math.MaxInt32 {
			d, _ := b.Dead(ctxT(t), "q", queue.Page{})
			t.Fatalf("MaxAttempts %d: fetched %d jobs (%+v); dead %+v", n, len(js), js, d)
		}
		if errs := settle(t, b, queue.Outcome{Job: js[0], Kind: queue.Done}); errs[0] != nil {
			t.Fatal(errs[0])
		}
	}
}
