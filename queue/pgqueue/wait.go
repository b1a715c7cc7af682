package pgqueue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ladder-go/ladder/queue"
)

// waiters is the per-queue wake-up state that the listener feeds.
type waiters struct {
	mu        sync.Mutex
	q         map[string]*qwait
	mode      chan struct{} // closed and replaced when listening starts or stops
	listening atomic.Bool   // notifications are known to arrive
}

// qwait counts a queue's notifications (gen); seen is gen as of the last
// Fetch of the queue through this Backend, so that a Wait after an empty
// Fetch returns at once if a notification came in between.
type qwait struct {
	gen, seen uint64
	ch        chan struct{}
}

func (w *waiters) init() {
	w.q = map[string]*qwait{}
	w.mode = make(chan struct{})
}

func (w *waiters) get(q string) *qwait {
	qw := w.q[q]
	if qw == nil {
		qw = &qwait{ch: make(chan struct{})}
		w.q[q] = qw
	}
	return qw
}

func (w *waiters) fetching(q string) {
	w.mu.Lock()
	qw := w.get(q)
	qw.seen = qw.gen
	w.mu.Unlock()
}

func (w *waiters) wake(q string) {
	w.mu.Lock()
	if qw := w.q[q]; qw != nil {
		qw.gen++
		close(qw.ch)
		qw.ch = make(chan struct{})
	}
	w.mu.Unlock()
}

// setListening records whether notifications arrive and tells every Wait,
// which checks for ready jobs (notifications may have been missed) and goes
// on in the new mode.
func (w *waiters) setListening(on bool) {
	w.mu.Lock()
	w.listening.Store(on)
	close(w.mode)
	w.mode = make(chan struct{})
	w.mu.Unlock()
}

// notifyQueues tells waiting workers of every Backend that qs have ready
// jobs (best effort: Wait is bounded anyway).
func (b *Backend) notifyQueues(ctx context.Context, q querier, qs []string) {
	_, _ = q.Exec(ctx, b.sql.notify, b.channel, qs)
	for _, name := range qs {
		b.wake.wake(name)
	}
}

// Wait blocks until a job of queue may be ready, max has passed, or ctx
// ends. With notifications arriving (LISTEN on a dedicated connection,
// checked by a probe) it wakes on an enqueue, a release or a due delayed
// job; otherwise (ListenOff, PgBouncer in transaction mode, the listener
// reconnecting) it polls every PollInterval.
func (b *Backend) Wait(ctx context.Context, q string, maxWait time.Duration) error {
	if err := checkQueue(q); err != nil {
		return err
	}
	if maxWait < 0 {
		return fmt.Errorf("%w: Wait max %v: must be ≥ 0", ErrInvalidOptions, maxWait)
	}
	if b.closed.Load() {
		return fmt.Errorf("pgqueue: wait: %w", queue.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.opts.Listen == ListenAuto {
		b.listenOnce.Do(b.startListener)
	}
	deadline := time.NewTimer(maxWait)
	defer deadline.Stop()
	var tick *time.Ticker
	defer func() {
		if tick != nil {
			tick.Stop()
		}
	}()
	for first := true; ; first = false {
		if err := ctx.Err(); err != nil {
			return err
		}
		if b.closed.Load() {
			return fmt.Errorf("pgqueue: wait: %w", queue.ErrClosed)
		}
		b.wake.mu.Lock()
		qw := b.wake.get(q)
		if qw.gen != qw.seen {
			qw.seen = qw.gen
			b.wake.mu.Unlock()
			return nil
		}
		ch, mode := qw.ch, b.wake.mode
		b.wake.mu.Unlock()
		listening := b.wake.listening.Load()
		if !first && b.readyNow(ctx, q) {
			return nil // notifications may have been missed meanwhile
		}
		if listening {
			// A delayed job or a lease that comes due before max.
			due, err := b.due(ctx, q)
			if err != nil {
				return err
			}
			if due < maxWait {
				deadline.Reset(max(due, time.Millisecond))
			}
		}
		var tc <-chan time.Time
		if !listening {
			if tick == nil {
				tick = time.NewTicker(b.opts.PollInterval)
			}
			tc = tick.C
		}
	wait:
		for {
			select {
			case <-ch:
				return nil
			case <-deadline.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			case <-mode:
				break wait
			case <-tc:
				if b.readyNow(ctx, q) {
					return nil
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
	}
}

// readyNow reports whether q has a job ready or a lease run out (a failed
// query says no: the next poll or the caller's Fetch sees the failure).
func (b *Backend) readyNow(ctx context.Context, q string) bool {
	var ready bool
	err := b.pool.QueryRow(ctx, b.sql.readyNow, q).Scan(&ready)
	return err == nil && ready
}

// due returns how long until a scheduled job or a running lease of q
// comes due (a large value when none will). A failed query says "now":
// the caller's Fetch will see the failure.
func (b *Backend) due(ctx context.Context, q string) (time.Duration, error) {
	var secs *float64
	if err := b.pool.QueryRow(ctx, b.sql.nextDue, q).Scan(&secs); err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, nil
	}
	if secs == nil {
		return time.Duration(1<<63 - 1), nil
	}
	return time.Duration(*secs * float64(time.Second)), nil
}

// startListener starts the goroutine that LISTENs (once; Close stops it).
func (b *Backend) startListener() {
	if b.closed.Load() {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	b.wake.mu.Lock()
	b.stop, b.done = cancel, done
	b.wake.mu.Unlock()
	go func() {
		defer close(done)
		b.listen(ctx)
	}()
}

// reprobe is how long the listener waits before it tries again after a
// probe that did not come back.
const reprobe = time.Minute

// probeTimeout bounds how long the listener waits for its own probe
// notification before it concludes that notifications do not arrive.
const probeTimeout = 2 * time.Second

// listen keeps a dedicated connection LISTENing and dispatches
// notifications to waiters. After connecting it sends itself a probe
// through the pool; while the probe does not come back (PgBouncer in
// transaction mode hands LISTEN's server session to others) Wait polls,
// and the listener tries again every reprobe.
func (b *Backend) listen(ctx context.Context) {
	log := b.opts.Logger.With("schema", b.opts.Schema)
	backoff := 100 * time.Millisecond
	everHeard, down, quiet := false, false, false
	for ctx.Err() == nil {
		heard, err := b.listenOnceConn(ctx, func() {
			if down {
				log.Info("pgqueue: listening again")
			}
			everHeard, down, backoff = true, false, 100*time.Millisecond
		})
		if b.wake.listening.Load() {
			b.wake.setListening(false)
		}
		if ctx.Err() != nil {
			return
		}
		if !heard && err == nil {
			// The probe did not come back: PgBouncer in transaction mode, or
			// a server too slow to answer in time. Poll, and look again now
			// and then (a slow server recovers; PgBouncer stays).
			if !everHeard && !quiet {
				log.Warn("pgqueue: notifications do not arrive (PgBouncer in transaction mode?): Wait polls", "poll", b.opts.PollInterval)
			}
			quiet = true
			select {
			case <-ctx.Done():
				return
			case <-time.After(reprobe):
			}
			continue
		}
		if err != nil && !down { // once per outage
			down = true
			log.Warn("pgqueue: listener connection lost: Wait polls until it is back", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listenOnceConn connects, LISTENs, probes and dispatches until the
// connection fails (err) or ctx ends. heard is false (with a nil error) if
// the probe did not come back.
func (b *Backend) listenOnceConn(ctx context.Context, ok func()) (heard bool, err error) {
	cfg := b.pool.Config().ConnConfig.Copy()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+b.channel); err != nil {
		return false, err
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	probe := "ladder-probe:" + hex.EncodeToString(nonce[:])
	if _, err := b.pool.Exec(ctx, "SELECT pg_notify($1, $2)", b.channel, probe); err != nil {
		return false, err
	}
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	for !heard {
		n, err := conn.WaitForNotification(pctx)
		if err != nil {
			cancel()
			if ctx.Err() == nil && pctx.Err() != nil {
				return false, nil // the probe never came
			}
			return false, err
		}
		if n.Payload == probe {
			heard = true
		} else {
			b.wake.wake(n.Payload)
		}
	}
	cancel()
	ok()
	b.wake.setListening(true) // every Wait looks again: notifications before the LISTEN were missed
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		b.wake.wake(n.Payload)
	}
}
