package queuetest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/queuetest"
)

type welcome struct {
	User string `json:"user"`
}

func (welcome) Kind() string { return "welcome" }

// A handler test: run one job through the handlers your Worker uses and
// look at the outcome.
func ExampleWork() {
	t := &testing.T{} // in a test, your *testing.T
	var h queue.Handlers
	_ = queue.Handle(&h, func(ctx context.Context, j *queue.Typed[welcome]) error {
		if j.Args.User == "" {
			return queue.Cancel(errors.New("no user"))
		}
		return nil
	}, queue.HandlerOptions{})

	res := queuetest.Work(context.Background(), t, &h, welcome{User: "ada"}, queuetest.WorkOptions{})
	fmt.Println(res.Kind == queue.Done, res.Job.Attempt)
	res = queuetest.Work(context.Background(), t, &h, welcome{}, queuetest.WorkOptions{})
	fmt.Println(res.Kind == queue.Dead, res.Err)
	// Output:
	// true 1
	// true cancelled: no user
}

// A producer test: give the code under test a Client over a Recorder, then
// assert what it enqueued.
func ExampleRecorder() {
	t := &testing.T{} // in a test, your *testing.T
	rec, _ := queuetest.NewRecorder(queue.MemoryOptions{})
	client, _ := queue.NewClient(rec, queue.ClientOptions{})

	// The code under test:
	_, _ = client.Enqueue(context.Background(), welcome{User: "ada"}, queue.EnqueueOptions{Queue: "mail"})

	jobs := queuetest.RequireEnqueued(t, rec, "welcome", queuetest.Match{Queue: "mail", Count: 1})
	fmt.Println(jobs[0].Queue, queuetest.Enqueued[welcome](t, rec)[0].User)
	// Output: mail ada
}
