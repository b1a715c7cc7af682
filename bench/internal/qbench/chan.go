package qbench

import (
	"context"
	"sync"
	"sync/atomic"
)

// Chan is the physical limit of an in-process queue: a buffered channel
// feeding the workers, each acknowledging a job by counting it.
type Chan struct {
	ch       chan int64
	sent     atomic.Int64
	acked    atomic.Int64
	wg       sync.WaitGroup
	capacity int
}

// NewChan returns a channel hand-off with a buffer of capacity jobs.
func NewChan(capacity int) *Chan { return &Chan{capacity: capacity} }

func (c *Chan) Start(ctx context.Context, workers int, run func(int64)) error {
	c.ch = make(chan int64, c.capacity)
	for range workers {
		c.wg.Go(func() {
			for stamp := range c.ch {
				run(stamp)
				c.acked.Add(1)
			}
		})
	}
	return nil
}

func (c *Chan) Enqueue(ctx context.Context, stamps []int64) error {
	for _, s := range stamps {
		c.ch <- s // the workers always drain it
	}
	c.sent.Add(int64(len(stamps)))
	return nil
}

func (c *Chan) Settled(context.Context) (bool, error) { return c.acked.Load() == c.sent.Load(), nil }

func (c *Chan) Close() error {
	close(c.ch)
	c.wg.Wait()
	return nil
}
