package redisqueue_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/redisqueue"
)

// twice runs every script twice and answers with the second run, as when
// go-redis resends a command whose reply timed out.
type twice struct{}

func (twice) DialHook(next redis.DialHook) redis.DialHook { return next }
func (twice) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (twice) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if strings.HasPrefix(cmd.Name(), "eval") {
			if err := next(ctx, cmd); err != nil {
				return err
			}
		}
		return next(ctx, cmd)
	}
}

// An Enqueue or Settle that runs twice answers as if it ran once: the same
// IDs and duplicates, no job stored twice, no outcome reported lost.
func TestResentScriptsAnswerTheSame(t *testing.T) {
	c := newClient(t)
	prefix := testPrefix(t, c)
	plain, err := redisqueue.New(c, redisqueue.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	rc := newClient(t)
	rc.AddHook(twice{})
	resent, err := redisqueue.New(rc, redisqueue.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	u := func(j *queue.Job) { j.UniqueKey = "u"; j.UniqueUntil = time.Now().Add(time.Hour) }
	res := enqueue(t, resent, job("a"), job("b", u), job("c", u), job("d"))
	if res[0].Duplicate || res[1].Duplicate || !res[2].Duplicate || res[2].ID != res[1].ID || res[3].Duplicate {
		t.Fatalf("results %+v", res)
	}
	got := fetch(t, plain, 10, time.Minute)
	if len(got) != 3 || got[0].ID != res[0].ID || got[1].ID != res[1].ID || got[2].ID != res[3].ID {
		t.Fatalf("fetched %+v after a resent enqueue of 3 new jobs %+v", got, res)
	}
	future := time.Now().Add(time.Hour)
	errs := settle(t, resent,
		queue.Outcome{Job: got[0], Kind: queue.Done},
		queue.Outcome{Job: got[1], Kind: queue.Retry, At: future, Err: "x"},
		queue.Outcome{Job: got[2], Kind: queue.Dead, Err: "y"})
	for i, err := range errs {
		if err != nil {
			t.Errorf("resent outcome %d: %v", i, err)
		}
	}
	st, _ := plain.Stats(ctxT(t), "q")
	if st != (queue.BackendStats{Scheduled: 1, Dead: 1}) {
		t.Fatalf("stats %+v after resent outcomes", st)
	}
}
