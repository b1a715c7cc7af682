package pgqueue_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

func TestMalformedRowIsDeadLetteredNotRetried(t *testing.T) {
	t.Parallel()
	b, pool := newBackend(t, pgqueue.Options{})
	ids := enqueue(t, b, job("q"), job("q"), job("q"), job("q"), job("q"))
	edits := []struct{ sql, reason string }{
		{`UPDATE ladder_queue.jobs SET meta = '[1, 2]' WHERE id = $1`, "meta does not decode"},
		{`UPDATE ladder_queue.jobs SET meta = '{"a": 1}' WHERE id = $1`, "meta does not decode"},
		{`UPDATE ladder_queue.jobs SET priority = 9 WHERE id = $1`, "priority 9"},
		{`UPDATE ladder_queue.jobs SET run_at = '-infinity' WHERE id = $1`, "run_at is not a finite time"},
	}
	for i, e := range edits {
		if _, err := pool.Exec(ctxT(t), e.sql, ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	got := fetch(t, b, "q", 10, time.Minute)
	if len(got) != 1 || got[0].ID != ids[4] {
		t.Fatalf("fetched %+v, want only the intact job %s", got, ids[4])
	}
	if again := fetch(t, b, "q", 10, time.Minute); len(again) != 0 {
		t.Fatalf("malformed rows came back: %+v", again)
	}
	dead, err := b.Dead(ctxT(t), "q", queue.Page{})
	if err != nil || len(dead) != len(edits) {
		t.Fatalf("dead: %+v %v", dead, err)
	}
	reasons := map[string]string{}
	for _, d := range dead {
		reasons[d.Job.ID] = d.Reason
	}
	for i, e := range edits {
		if r := reasons[ids[i]]; !strings.HasPrefix(r, "malformed job: ") || !strings.Contains(r, e.reason) {
			t.Errorf("job %s: reason %q, want it to name %q", ids[i], r, e.reason)
		}
	}
}
