package qbench

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
	"github.com/ladder-go/ladder/queue/redisqueue"
)

// ladderEntries lists ladder's backends, each behind a queue.Client and a
// queue.Worker with default options but the handler count.
func ladderEntries(c Config) []Entry {
	return []Entry{
		{Name: "ladder-memory", Backend: "memory", Ladder: true, New: func() System {
			return &Ladder{Open: func(context.Context) (queue.Backend, func() error, error) {
				// Bounded like the channel it is measured against, blocking the producer when full.
				m, err := queue.NewMemory(queue.MemoryOptions{MaxJobs: MemoryBound, Full: queue.FullBlock})
				return m, func() error { return nil }, err
			}}
		}},
		{Name: "ladder-redis", Backend: "redis", Ladder: true, New: func() System {
			prefix := unique("ladder")
			rdb := redis.NewClient(&redis.Options{Addr: c.RedisAddr, ContextTimeoutEnabled: true})
			return &Ladder{Open: func(ctx context.Context) (queue.Backend, func() error, error) {
				b, err := redisqueue.New(rdb, redisqueue.Options{Prefix: prefix, Logger: quiet})
				if err != nil {
					rdb.Close()
					return nil, nil, err
				}
				return b, func() error { return errors.Join(deleteKeys(rdb, "{"+prefix+":*"), rdb.Close()) }, nil
			}, serverCPU: func(ctx context.Context) (time.Duration, error) { return redisCPU(ctx, rdb) }}
		}},
		{Name: "ladder-pg", Backend: "pg", Ladder: true, New: func() System {
			schema := unique("ladder")
			return &Ladder{Open: func(ctx context.Context) (queue.Backend, func() error, error) {
				pool, err := NewPool(ctx, c.PGDSN, c.PGConns)
				if err != nil {
					return nil, nil, err
				}
				opts := pgqueue.Options{Schema: schema, Logger: quiet}
				if err := pgqueue.Migrate(ctx, pool, opts); err != nil {
					pool.Close()
					return nil, nil, err
				}
				b, err := pgqueue.New(pool, opts)
				if err != nil {
					pool.Close()
					return nil, nil, err
				}
				return b, func() error {
					err := b.Close()
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					_, e := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
					pool.Close()
					return errors.Join(err, e)
				}, nil
			}}
		}},
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// deleteKeys removes the keys matching pattern.
func deleteKeys(rdb *redis.Client, pattern string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	it := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
	var keys []string
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	if err := it.Err(); err != nil || len(keys) == 0 {
		return err
	}
	return rdb.Unlink(ctx, keys...).Err()
}

type ladderArgs struct {
	T int64 `json:"t"`
}

func (ladderArgs) Kind() string { return "bench" }

// Ladder is one of ladder's backends behind a queue.Client (EnqueueMany for
// a batch) and a queue.Worker working the default queue with Concurrency
// set to the worker count; every other option is the default.
type Ladder struct {
	// Open returns the backend and what removes its state when done.
	Open func(ctx context.Context) (queue.Backend, func() error, error)

	// serverCPU, when set, reads the server's CPU time.
	serverCPU func(ctx context.Context) (time.Duration, error)

	b       queue.Backend
	cleanup func() error
	client  *queue.Client
	cancel  context.CancelFunc
	done    chan error
	reqs    []queue.Request
}

func (l *Ladder) Start(ctx context.Context, workers int, run func(int64)) error {
	b, cleanup, err := l.Open(ctx)
	if err != nil {
		return err
	}
	l.b, l.cleanup = b, cleanup
	if l.client, err = queue.NewClient(b, queue.ClientOptions{}); err != nil {
		return err
	}
	var h queue.Handlers
	if err := queue.Handle(&h, func(_ context.Context, j *queue.Typed[ladderArgs]) error {
		run(j.Args.T)
		return nil
	}, queue.HandlerOptions{}); err != nil {
		return err
	}
	w, err := queue.NewWorker(b, &h, queue.WorkerOptions{
		Queues: map[string]queue.QueueOptions{queue.DefaultQueue: {Concurrency: workers}},
		Logger: quiet,
	})
	if err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan error, 1)
	go func() { l.done <- w.Run(wctx) }()
	return nil
}

func (l *Ladder) Enqueue(ctx context.Context, stamps []int64) error {
	l.reqs = l.reqs[:0]
	for _, s := range stamps {
		l.reqs = append(l.reqs, queue.Request{Args: ladderArgs{T: s}})
	}
	_, err := l.client.EnqueueMany(ctx, l.reqs)
	return err
}

// ServerCPU reads the server's CPU time, or reports 0 without a server.
func (l *Ladder) ServerCPU(ctx context.Context) (time.Duration, error) {
	if l.serverCPU == nil {
		return 0, nil
	}
	return l.serverCPU(ctx)
}

// Settled: the Worker settles Done after the handler returns; the backend
// then counts the job neither ready nor running.
func (l *Ladder) Settled(ctx context.Context) (bool, error) {
	st, err := l.b.Stats(ctx, queue.DefaultQueue)
	return st.Ready == 0 && st.Scheduled == 0 && st.Running == 0, err
}

func (l *Ladder) Close() error {
	var err error
	if l.cancel != nil {
		l.cancel()
		err = <-l.done
		if errors.Is(err, context.Canceled) {
			err = nil
		}
	}
	if l.cleanup != nil {
		err = errors.Join(err, l.cleanup())
	}
	return err
}
