package queue_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/ladder-go/ladder/queue"
)

// WelcomeEmail is a job's arguments; its Kind names the handler.
type WelcomeEmail struct {
	To string `json:"to"`
}

func (WelcomeEmail) Kind() string { return "welcome_email" }

func Example() {
	backend, _ := queue.NewMemory(queue.MemoryOptions{})
	client, _ := queue.NewClient(backend, queue.ClientOptions{})

	// A web handler enqueues and returns at once.
	for _, to := range []string{"ada@example.com", "alan@example.com"} {
		if _, err := client.Enqueue(context.Background(), WelcomeEmail{To: to}, queue.EnqueueOptions{}); err != nil {
			fmt.Println(err)
		}
	}

	// A worker process runs them.
	var wg sync.WaitGroup
	wg.Add(2)
	var mu sync.Mutex
	var sent []string
	h := &queue.Handlers{}
	_ = queue.Handle(h, func(ctx context.Context, job *queue.Typed[WelcomeEmail]) error {
		defer wg.Done()
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, job.Args.To)
		return nil // done; an error would retry with backoff
	}, queue.HandlerOptions{})
	worker, _ := queue.NewWorker(backend, h, queue.WorkerOptions{
		Queues: map[string]queue.QueueOptions{"default": {Concurrency: 1}}, // one at a time: in order
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- worker.Run(ctx) }()
	wg.Wait()
	stop() // graceful shutdown
	<-done

	fmt.Println(sent)
	fmt.Println(worker.Stats().Succeeded)
	// Output:
	// [ada@example.com alan@example.com]
	// 2
}

type Charge struct{ Cents int }

func (Charge) Kind() string { return "charge" }

// A handler's error decides what happens next.
func ExampleSnoozeFor() {
	h := &queue.Handlers{}
	_ = queue.Handle(h, func(ctx context.Context, job *queue.Typed[Charge]) error {
		switch {
		case job.Args.Cents <= 0:
			return queue.Cancel(errors.New("nothing to charge")) // dead letter, no retry
		case job.Args.Cents > 100_000:
			return queue.SnoozeFor(time.Hour) // later, without using an attempt
		}
		return nil
	}, queue.HandlerOptions{})

	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, cents := range []int{500, 0, 200_000} {
		job := &queue.Job{Kind: "charge", Args: fmt.Appendf(nil, `{"Cents":%d}`, cents), Attempt: 1, MaxAttempts: 3}
		oc := h.Run(context.Background(), job, now)
		switch oc.Kind {
		case queue.Done:
			fmt.Println(cents, "done")
		case queue.Dead:
			fmt.Println(cents, "dead:", oc.Err)
		case queue.Snooze:
			fmt.Println(cents, "snoozed until", oc.At.Format(time.Kitchen))
		}
	}
	// Output:
	// 500 done
	// 0 dead: cancelled: nothing to charge
	// 200000 snoozed until 1:00PM
}

type Report struct{}

func (Report) Kind() string { return "nightly_report" }

// Periodic jobs: every Worker may carry the same list; each boundary's job
// is enqueued once across all of them.
func ExamplePeriodic() {
	nightly, err := queue.ParseCron("CRON_TZ=Europe/Paris 30 2 * * *")
	if err != nil {
		fmt.Println(err)
		return
	}
	opts := queue.WorkerOptions{Periodic: []queue.Periodic{
		{Name: "nightly-report", Schedule: nightly, Args: Report{}},
		{Name: "heartbeat", Schedule: queue.Every(time.Minute), Args: Report{}, Options: queue.EnqueueOptions{Queue: "low"}},
	}}
	_ = opts // queue.NewWorker(backend, handlers, opts)
	t := time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC)
	for range 2 {
		t = nightly.Next(t) // on 29 March clocks skip 02:00–03:00 in Paris: no 02:30 that night
		fmt.Println(t)
	}
	// Output:
	// 2026-03-28 01:30:00 +0000 UTC
	// 2026-03-30 00:30:00 +0000 UTC
}

func ExampleParseCron() {
	s, _ := queue.ParseCron("*/15 9-17 * * mon-fri")
	t := time.Date(2026, 3, 6, 17, 50, 0, 0, time.UTC) // a Friday
	for range 3 {
		t = s.Next(t)
		fmt.Println(t.Format("Mon 15:04"))
	}
	_, err := queue.ParseCron("0 0 30 2 *")
	fmt.Println(err)
	// Output:
	// Mon 09:00
	// Mon 09:15
	// Mon 09:30
	// queue: invalid options: cron "0 0 30 2 *": never fires
}
