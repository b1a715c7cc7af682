package pgqueue_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

// Through PgBouncer in transaction mode a LISTEN is lost with its server
// session: the backend finds out with its probe and Wait polls, so a
// worker still wakes on an enqueue long before its max.
func TestWaitWakesThroughPgBouncer(t *testing.T) {
	t.Parallel()
	pg := testenv.Postgres(t)
	through := testenv.PgBouncer(t, pg)
	for _, listen := range []pgqueue.Listen{pgqueue.ListenAuto, pgqueue.ListenOff} {
		pool := openPool(t, through.DSN+"&default_query_exec_mode=exec", 0)
		logs := &logRecorder{}
		worker := backendOn(t, pool, pgqueue.Options{Listen: listen, PollInterval: 20 * time.Millisecond,
			Logger: slog.New(logs)})
		producer := backendOn(t, pool, pgqueue.Options{Listen: pgqueue.ListenOff})
		if listen == pgqueue.ListenAuto {
			// The first Wait starts the listener; its probe never comes back.
			if err := worker.Wait(ctxT(t), "q", time.Millisecond); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the listener to give up", func() bool { return logs.has("notifications do not arrive") })
		}
		for round := range 3 {
			fetch(t, worker, "q", 10, time.Minute)
			woke := make(chan error, 1)
			go func() { woke <- worker.Wait(ctxT(t), "q", time.Hour) }()
			if round > 0 {
				time.Sleep(50 * time.Millisecond) // let Wait settle into polling
			}
			enqueue(t, producer, job("q"))
			select {
			case err := <-woke:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("listen=%d round %d: Wait did not wake on an enqueue through PgBouncer", listen, round)
			}
		}
	}
}

// logRecorder is a slog.Handler that keeps the messages.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if strings.Contains(m, sub) {
			return true
		}
	}
	return false
}
