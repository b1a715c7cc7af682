package qbench

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// River is riverqueue/river with riverpgxv5, its tables migrated by
// rivermigrate into a schema of their own, MaxWorkers set to the worker
// count, batches inserted with InsertMany, and FetchCooldown as given
// (river's default is 100 ms; 2 ms is the tuned setting).
type River struct {
	DSN           string        // PostgreSQL
	Schema        string        // created, migrated, dropped by Close
	MaxConns      int32         // pgxpool size; 0: pgxpool's default
	FetchCooldown time.Duration // 0: river's default

	pool   *pgxpool.Pool
	client *river.Client[pgx.Tx]
}

type riverArgs struct {
	T int64 `json:"t"`
}

func (riverArgs) Kind() string { return "bench" }

func (r *River) Start(ctx context.Context, workers int, run func(int64)) error {
	pool, err := NewPool(ctx, r.DSN, r.MaxConns)
	if err != nil {
		return err
	}
	r.pool = pool
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{r.Schema}.Sanitize()); err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	driver := riverpgxv5.New(pool)
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Schema: r.Schema, Logger: quiet})
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return err
	}
	ws := river.NewWorkers()
	river.AddWorker(ws, river.WorkFunc(func(_ context.Context, j *river.Job[riverArgs]) error {
		run(j.Args.T)
		return nil
	}))
	r.client, err = river.NewClient(driver, &river.Config{
		Queues:        map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}},
		Workers:       ws,
		FetchCooldown: r.FetchCooldown,
		Schema:        r.Schema,
		Logger:        quiet,
	})
	if err != nil {
		return err
	}
	return r.client.Start(ctx)
}

func (r *River) Enqueue(ctx context.Context, stamps []int64) error {
	ps := make([]river.InsertManyParams, len(stamps))
	for i, s := range stamps {
		ps[i].Args = riverArgs{T: s}
	}
	_, err := r.client.InsertMany(ctx, ps)
	return err
}

// Settled: river's completer marks a job completed in the table after its
// worker returns (completed rows are kept; the run's schema is dropped).
func (r *River) Settled(ctx context.Context) (bool, error) {
	var left bool
	err := r.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+pgx.Identifier{r.Schema, "river_job"}.Sanitize()+
		" WHERE state IN ('available', 'pending', 'retryable', 'running', 'scheduled'))").Scan(&left)
	return !left, err
}

func (r *River) Close() error {
	if r.pool == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	if r.client != nil {
		err = r.client.Stop(ctx)
	}
	_, e := r.pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{r.Schema}.Sanitize()+" CASCADE")
	r.pool.Close()
	return errors.Join(err, e)
}

// NewPool opens a pgx pool of maxConns connections (0: pgxpool's default).
func NewPool(ctx context.Context, dsn string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}
