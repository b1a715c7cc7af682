package redisqueue_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/redisqueue"
)

// A job that was hand-edited or corrupted in Redis is dead-lettered by the
// Fetch that meets it, with the reason; the Fetch still returns the good jobs
// and no error, and the bad job is never handed out or retried.
func TestMalformedJobsAreDeadLettered(t *testing.T) {
	c := newClient(t)
	prefix := testPrefix(t, c)
	b, err := redisqueue.New(c, redisqueue.Options{Prefix: prefix, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	res := enqueue(t, b, job("good"), job("bad-encoding"), job("bad-attempt"), job("bad-priority"), job("no-encoding"))
	base := "{" + prefix + ":q}"
	ctx := ctxT(t)
	state := func(i int) string { return c.HGet(ctx, base+":js", res[i].ID).Val() }
	c.HSet(ctx, base+":jd", res[1].ID, "\x01\xff\xff\xff garbage")
	c.HSet(ctx, base+":js", res[2].ID, "two"+state(2)[1:])
	c.HSet(ctx, base+":js", res[3].ID, strings.Replace(state(3), "|0|", "|9|", 1))
	c.HDel(ctx, base+":jd", res[4].ID)

	got := fetch(t, b, 10, time.Minute)
	if len(got) != 1 || got[0].Kind != "good" {
		t.Fatalf("fetched %+v, want only the good job", got)
	}
	if again := fetch(t, b, 10, time.Minute); len(again) != 0 {
		t.Fatalf("fetched %+v after the bad jobs were dead-lettered", again)
	}
	dead, err := b.Dead(ctx, "q", queue.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 4 {
		t.Fatalf("%d dead letters, want 4: %+v", len(dead), dead)
	}
	for _, d := range dead {
		if !strings.HasPrefix(d.Reason, "malformed job") {
			t.Errorf("dead letter %s: reason %q, want it to say the job is malformed", d.Job.ID, d.Reason)
		}
	}
	st, _ := b.Stats(ctx, "q")
	if st.Ready != 0 || st.Running != 1 || st.Dead != 4 {
		t.Fatalf("stats %+v", st)
	}
}
