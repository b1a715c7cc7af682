package queue

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
)

// A Worker with a big pool (IO-bound handlers) starts it in one go: its
// 30,000 goroutines used to each copy the slot list as they started
// (quadratic: 100,000 took 2.5 minutes to start and stop).
func TestBigPoolStartsAndStops(t *testing.T) {
	n := 30_000
	if testenv.Race {
		n = 3_000 // goroutines are slow to start under the race detector
	}
	m, _ := NewMemory(MemoryOptions{})
	c := mustClient(t, m)
	h := &Handlers{}
	ran := make(chan struct{}, 1)
	mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
		ran <- struct{}{}
		return nil
	}, HandlerOptions{})
	r := start(t, m, h, WorkerOptions{Logger: quiet, Queues: map[string]QueueOptions{DefaultQueue: {Concurrency: n}}})
	enqueue(t, c, argsA{}, EnqueueOptions{})
	select {
	case <-ran:
	case <-time.After(20 * time.Second): // well under a second once fixed
		t.Fatalf("a Worker with Concurrency %d did not run a job within 20 s", n)
	}
	r.stop(t)
}

// A Concurrency no machine can run is an options error naming the field,
// not a makeslice panic or an out-of-memory crash in Run.
func TestHugeConcurrencyRejected(t *testing.T) {
	m, _ := NewMemory(MemoryOptions{})
	_, err := NewWorker(m, &Handlers{}, WorkerOptions{Queues: map[string]QueueOptions{"q": {Concurrency: math.MaxInt}}})
	if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), "Concurrency") {
		t.Fatalf("NewWorker with Concurrency MaxInt: %v; want ErrInvalidOptions naming Concurrency", err)
	}
}
