package qbench

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Asynq is hibiken/asynq: a Server with Concurrency set to the worker
// count and no logging, a Client enqueuing each task (asynq has no batch
// enqueue: a batch goes out from Producers goroutines at once).
type Asynq struct {
	Addr      string        // redis-server address
	Queue     string        // queue name (unique per run on a shared server)
	Producers int           // goroutines enqueuing one batch; 0: 8
	Check     time.Duration // Config.TaskCheckInterval; 0: asynq's default (1 s)

	rdb    *redis.Client
	client *asynq.Client
	srv    *asynq.Server
}

type quietLogger struct{}

func (quietLogger) Debug(...any) {}
func (quietLogger) Info(...any)  {}
func (quietLogger) Warn(...any)  {}
func (quietLogger) Error(...any) {}
func (quietLogger) Fatal(...any) {}

func (a *Asynq) Start(ctx context.Context, workers int, run func(int64)) error {
	opt := asynq.RedisClientOpt{Addr: a.Addr, PoolSize: 64}
	a.rdb = redis.NewClient(&redis.Options{Addr: a.Addr})
	a.client = asynq.NewClient(opt)
	a.srv = asynq.NewServer(opt, asynq.Config{
		Concurrency:       workers,
		Queues:            map[string]int{a.Queue: 1},
		Logger:            quietLogger{},
		LogLevel:          asynq.FatalLevel,
		TaskCheckInterval: a.Check,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc("bench", func(_ context.Context, t *asynq.Task) error {
		run(int64(binary.LittleEndian.Uint64(t.Payload())))
		return nil
	})
	return a.srv.Start(mux)
}

func (a *Asynq) Enqueue(ctx context.Context, stamps []int64) error {
	par := a.Producers
	if par <= 0 {
		par = 8
	}
	par = min(par, len(stamps))
	errs := make([]error, par)
	var wg sync.WaitGroup
	for p := range par {
		wg.Go(func() {
			for i := p; i < len(stamps); i += par {
				payload := binary.LittleEndian.AppendUint64(nil, uint64(stamps[i]))
				if _, err := a.client.EnqueueContext(ctx, asynq.NewTask("bench", payload), asynq.Queue(a.Queue)); err != nil {
					errs[p] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ServerCPU reads the redis-server's CPU time.
func (a *Asynq) ServerCPU(ctx context.Context) (time.Duration, error) { return redisCPU(ctx, a.rdb) }

// Settled: asynq deletes a task (no Retention) when its handler returns
// nil, removing it from the active list; dequeue moves pending → active.
func (a *Asynq) Settled(ctx context.Context) (bool, error) {
	pipe := a.rdb.Pipeline()
	p := pipe.LLen(ctx, "asynq:{"+a.Queue+"}:pending")
	r := pipe.LLen(ctx, "asynq:{"+a.Queue+"}:active")
	if _, err := pipe.Exec(ctx); err != nil {
		return false, err
	}
	return p.Val() == 0 && r.Val() == 0, nil
}

func (a *Asynq) Close() error {
	if a.srv != nil {
		a.srv.Shutdown()
	}
	var err error
	if a.client != nil {
		insp := asynq.NewInspectorFromRedisClient(a.rdb)
		if e := insp.DeleteQueue(a.Queue, true); e != nil && !errors.Is(e, asynq.ErrQueueNotFound) {
			err = e
		}
		err = errors.Join(err, a.client.Close())
	}
	if a.rdb != nil {
		err = errors.Join(err, a.rdb.Close())
	}
	return err
}
