package queue_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ladder-go/ladder/queue"
)

// A Memory is the backend of one process: bounded, and with FullReject
// (the default) a producer learns at once that workers are behind.
func ExampleNewMemory() {
	m, err := queue.NewMemory(queue.MemoryOptions{MaxJobs: 2})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	job := func() *queue.Job {
		return &queue.Job{Kind: "resize", Queue: "images", Args: []byte(`{"id":7}`), MaxAttempts: 3, Timeout: time.Minute}
	}
	res, err := m.Enqueue(ctx, []*queue.Job{job(), job()})
	fmt.Println(len(res), err)
	_, err = m.Enqueue(ctx, []*queue.Job{job()})
	fmt.Println(errors.Is(err, queue.ErrQueueFull))

	// A worker leases jobs, and settles them.
	js, _ := m.Fetch(ctx, queue.FetchRequest{Queue: "images", Max: 10, Lease: 30 * time.Second})
	errs, _ := m.Settle(ctx, []queue.Outcome{{Job: js[0], Kind: queue.Done}, {Job: js[1], Kind: queue.Dead, Err: "bad image"}})
	fmt.Println(len(js), js[0].Attempt, errs)
	dead, _ := m.Dead(ctx, "images", queue.Page{})
	fmt.Println(dead[0].Reason)
	// Output:
	// 2 <nil>
	// true
	// 2 1 [<nil> <nil>]
	// bad image
}
