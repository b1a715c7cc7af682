package pgqueue_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts  pgqueue.Options
		field string
	}{
		{pgqueue.Options{Schema: "Bad-Name"}, "Schema"},
		{pgqueue.Options{Schema: "1abc"}, "Schema"},
		{pgqueue.Options{Schema: strings.Repeat("a", 41)}, "Schema"},
		{pgqueue.Options{Schema: "x; DROP TABLE y"}, "Schema"},
		{pgqueue.Options{Listen: 7}, "Listen"},
		{pgqueue.Options{PollInterval: -time.Second}, "PollInterval"},
	} {
		err := tc.opts.Validate()
		if !errors.Is(err, pgqueue.ErrInvalidOptions) || !errors.Is(err, queue.ErrInvalidOptions) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: %v, want ErrInvalidOptions naming %s", tc.opts, err, tc.field)
		}
		if !strings.HasPrefix(err.Error(), "pgqueue: invalid options: ") || strings.Count(err.Error(), "pgqueue:") != 1 {
			t.Errorf("error %q: want the package prefix once, first", err)
		}
		if _, err := pgqueue.New(nil, tc.opts); !errors.Is(err, pgqueue.ErrInvalidOptions) {
			t.Errorf("New with %+v: %v", tc.opts, err)
		}
	}
	if err := (pgqueue.Options{Schema: "my_jobs_2", Retention: queue.Retention{MaxAge: -1, MaxCount: -1}}).Validate(); err != nil {
		t.Errorf("valid options: %v", err)
	}
	if _, err := pgqueue.SchemaSQL("no way"); !errors.Is(err, pgqueue.ErrInvalidOptions) {
		t.Errorf("SchemaSQL with a bad name: %v", err)
	}
	ddl, err := pgqueue.SchemaSQL("")
	if err != nil || !strings.Contains(ddl, "CREATE TABLE IF NOT EXISTS ladder_queue.jobs") {
		t.Errorf("SchemaSQL(\"\"): %v\n%s", err, ddl)
	}
}

// Two schemas in one database are two stores that share nothing.
func TestSchemasAreApart(t *testing.T) {
	t.Parallel()
	a, pool := newBackend(t, pgqueue.Options{Schema: "jobs_a"})
	b := backendOn(t, pool, pgqueue.Options{Schema: "jobs_b"})
	enqueue(t, a, job("q"))
	if got := fetch(t, b, "q", 10, time.Minute); len(got) != 0 {
		t.Fatalf("schema jobs_b saw %d jobs of jobs_a", len(got))
	}
	if got := fetch(t, a, "q", 10, time.Minute); len(got) != 1 {
		t.Fatalf("schema jobs_a: %d jobs", len(got))
	}
}

func TestRetentionTrimsDeadLettersByCount(t *testing.T) {
	t.Parallel()
	b, _ := newBackend(t, pgqueue.Options{Retention: queue.Retention{MaxCount: 3}})
	jobs := make([]*queue.Job, 10)
	for i := range jobs {
		jobs[i] = job("q")
	}
	enqueue(t, b, jobs...)
	got := fetch(t, b, "q", 10, time.Minute)
	outs := make([]queue.Outcome, len(got))
	for i, j := range got {
		outs[i] = queue.Outcome{Job: j, Kind: queue.Dead, Err: "x"}
	}
	settle(t, b, outs...)
	if err := b.Maintain(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	st, _ := b.Stats(ctxT(t), "q")
	if st.Dead != 3 {
		t.Fatalf("%d dead letters kept, want 3", st.Dead)
	}
}
