package pgqueue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ladder-go/ladder/queue"
)

// Backend is a queue.Backend on PostgreSQL. It is safe for concurrent use;
// any number of Backends on the same database and schema, in one process or
// many, share its queues. Close stops the listener that Wait starts.
type Backend struct {
	pool    *pgxpool.Pool
	opts    Options
	sql     statements
	channel string // LISTEN/NOTIFY channel: the schema's name

	wake     waiters
	lastTrim atomic.Int64 // unix nanos of the last retention pass
	trimMu   sync.Mutex

	listenOnce sync.Once
	stop       context.CancelFunc
	done       chan struct{}
	closed     atomic.Bool
}

var _ queue.Backend = (*Backend)(nil)

// New returns a Backend on pool. It does not create the tables: run
// Migrate (or SchemaSQL in your migration tool) first.
func New(pool *pgxpool.Pool, opts Options) (*Backend, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: pool is nil", ErrInvalidOptions)
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	b := &Backend{pool: pool, opts: opts, sql: newStatements(opts.Schema), channel: opts.Schema}
	b.wake.init()
	return b, nil
}

// Close stops the listener goroutine (if Wait started one) and waits for it
// to exit; it does not close the pool. Wait returns queue.ErrClosed after
// Close; the other methods keep working as long as the pool does.
func (b *Backend) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	b.listenOnce.Do(func() {}) // no listener may start after Close
	b.wake.mu.Lock()
	stop, done := b.stop, b.done
	b.wake.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	b.wake.setListening(false) // every Wait sees closed
	return nil
}

// querier is what both a pool and a caller's transaction offer.
type querier interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// parseID turns a job ID into its row ID; ok is false for an ID this
// backend never issued.
func parseID(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && n > 0
}

func parseLease(l string) (int64, bool) {
	n, err := strconv.ParseInt(l, 10, 64)
	return n, err == nil
}

// wrapErr returns ctx's error when ctx ended, else err with the package
// prefix and what was being done.
func wrapErr(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err)) {
		return fmt.Errorf("pgqueue: %s: %w", what, ctx.Err())
	}
	if ctx.Err() != nil {
		return fmt.Errorf("pgqueue: %s: %w (%w)", what, ctx.Err(), err)
	}
	return fmt.Errorf("pgqueue: %s: %w", what, err)
}

func checkQueue(q string) error {
	if q == "" {
		return fmt.Errorf("%w: queue name is empty", ErrInvalidOptions)
	}
	return nil
}

// Pause stops or resumes handing out jobs of queue to every Fetch.
func (b *Backend) Pause(ctx context.Context, q string, paused bool) error {
	if err := checkQueue(q); err != nil {
		return err
	}
	if _, err := b.pool.Exec(ctx, b.sql.pause, q, paused); err != nil {
		return wrapErr(ctx, "pause", err)
	}
	if !paused {
		b.notifyQueues(ctx, b.pool, []string{q})
	}
	return nil
}

// Stats reports queue's depth now (server clock).
func (b *Backend) Stats(ctx context.Context, q string) (queue.BackendStats, error) {
	var s queue.BackendStats
	if err := checkQueue(q); err != nil {
		return s, err
	}
	var oldest *time.Time
	err := b.pool.QueryRow(ctx, b.sql.stats, q).Scan(&s.Ready, &s.Scheduled, &s.Running, &s.Dead, &oldest, &s.Paused)
	if err != nil {
		return queue.BackendStats{}, wrapErr(ctx, "stats", err)
	}
	if oldest != nil {
		s.Oldest = *oldest
	}
	return s, nil
}

// Cancel dead-letters a waiting or running job with reason "cancelled"; a
// running job's lease is revoked (its token moves on).
func (b *Backend) Cancel(ctx context.Context, q, id string) error {
	if err := checkQueue(q); err != nil {
		return err
	}
	n, ok := parseID(id)
	if !ok {
		return fmt.Errorf("pgqueue: cancel %q: %w", id, queue.ErrNotFound)
	}
	tag, err := b.pool.Exec(ctx, b.sql.cancel, q, n)
	if err != nil {
		return wrapErr(ctx, "cancel", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgqueue: cancel %q: %w", id, queue.ErrNotFound)
	}
	b.maybeTrim(ctx, q)
	return nil
}
