package redisqueue_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/redisqueue"
)

// testPrefix returns a Prefix that belongs to one test; cleanup removes its
// keys (which begin with "{" + prefix, the hash tag) from every server of c.
func testPrefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "ladder-test-q:" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		del := func(ctx context.Context, n *redis.Client) error {
			iter := n.Scan(ctx, 0, "{"+prefix+"*", 1000).Iterator()
			for iter.Next(ctx) {
				n.Del(ctx, iter.Val())
			}
			return iter.Err()
		}
		var err error
		switch c := c.(type) {
		case *redis.ClusterClient:
			err = c.ForEachMaster(ctx, del)
		case *redis.Client:
			err = del(ctx, c)
		}
		if err != nil {
			t.Logf("cleaning keys of %s: %v", prefix, err)
		}
	})
	return prefix
}

// newClient returns a client of the shared redis-server, honouring ctx deadlines.
func newClient(t testing.TB) *redis.Client {
	t.Helper()
	s := testenv.Redis(t)
	c := redis.NewClient(&redis.Options{Addr: s.Addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newBackend returns a Backend of its own on the shared redis-server.
func newBackend(t testing.TB, opts redisqueue.Options) *redisqueue.Backend {
	t.Helper()
	c := newClient(t)
	if opts.Prefix == "" {
		opts.Prefix = testPrefix(t, c)
	}
	b, err := redisqueue.New(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func job(kind string, opts ...func(*queue.Job)) *queue.Job {
	j := &queue.Job{Kind: kind, Queue: "q", Args: []byte(`{"n":1}`), MaxAttempts: 3, Timeout: time.Minute,
		EnqueuedAt: time.Now(), RunAt: time.Now()}
	for _, o := range opts {
		o(j)
	}
	return j
}

func enqueue(t testing.TB, b queue.Backend, jobs ...*queue.Job) []queue.EnqueueResult {
	t.Helper()
	res, err := b.Enqueue(ctxT(t), jobs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func fetch(t testing.TB, b queue.Backend, max int, lease time.Duration) []*queue.Job {
	t.Helper()
	jobs, err := b.Fetch(ctxT(t), queue.FetchRequest{Queue: "q", Max: max, Lease: lease, Worker: "w"})
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

func settle(t testing.TB, b queue.Backend, os ...queue.Outcome) []error {
	t.Helper()
	errs, err := b.Settle(ctxT(t), os)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

var quietLog = slog.New(slog.DiscardHandler)
