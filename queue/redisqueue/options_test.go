package redisqueue_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/redisqueue"
)

func TestNewRejectsBadOptions(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer c.Close()
	for _, tc := range []struct {
		opts redisqueue.Options
		want string
	}{
		{redisqueue.Options{Prefix: "a{b"}, "Prefix"},
		{redisqueue.Options{MaxBatch: -1}, "MaxBatch -1"},
		{redisqueue.Options{MaxBatch: 5001}, "MaxBatch 5001"},
		{redisqueue.Options{WaitReplicas: -1}, "WaitReplicas -1"},
		{redisqueue.Options{WaitTimeout: -time.Second}, "WaitTimeout -1s"},
		{redisqueue.Options{Retention: queue.Retention{MaxAge: time.Microsecond}}, "Retention.MaxAge 1µs"},
	} {
		_, err := redisqueue.New(c, tc.opts)
		if !errors.Is(err, redisqueue.ErrInvalidOptions) || !errors.Is(err, queue.ErrInvalidOptions) {
			t.Errorf("%+v: %v, want ErrInvalidOptions", tc.opts, err)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "redisqueue: invalid options: ") || !strings.Contains(msg, tc.want) || strings.Count(msg, "redisqueue") != 1 {
			t.Errorf("%+v: message %q, want the prefix once and %q", tc.opts, msg, tc.want)
		}
	}
	if _, err := redisqueue.New(nil, redisqueue.Options{}); !errors.Is(err, redisqueue.ErrInvalidOptions) {
		t.Errorf("nil client: %v", err)
	}
	// Negative retention bounds turn them off.
	if _, err := redisqueue.New(c, redisqueue.Options{Retention: queue.Retention{MaxAge: -1, MaxCount: -1}}); err != nil {
		t.Errorf("retention off: %v", err)
	}
}

// Every call's ctx bounds it only with ContextTimeoutEnabled (else a stalled
// Redis holds a call for go-redis's timeouts and retries); New warns, once,
// for a client without it.
func TestClientIgnoringContextDeadlinesWarns(t *testing.T) {
	for _, tc := range []struct {
		client redis.UniversalClient
		warn   bool
	}{
		{redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), true},
		{redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true}), false},
		{redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}}), true},
		{redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true}), false},
	} {
		var logs bytes.Buffer
		_, err := redisqueue.New(tc.client, redisqueue.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		tc.client.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(logs.String(), "ContextTimeoutEnabled"); got != map[bool]int{true: 1, false: 0}[tc.warn] {
			t.Errorf("%T: warned %d times, want warn=%v; log %q", tc.client, got, tc.warn, logs.String())
		}
	}
}

// Bad arguments are errors wrapping ErrInvalidOptions, named, never panics.
func TestBadArguments(t *testing.T) {
	b := newBackend(t, redisqueue.Options{})
	ctx := ctxT(t)
	for name, err := range map[string]error{
		"priority 4": func() error {
			_, err := b.Enqueue(ctx, []*queue.Job{job("x", func(j *queue.Job) { j.Priority = 4 })})
			return err
		}(),
		"empty kind": func() error { _, err := b.Enqueue(ctx, []*queue.Job{job("")}); return err }(),
		"negative tries": func() error {
			_, err := b.Enqueue(ctx, []*queue.Job{job("x", func(j *queue.Job) { j.MaxAttempts = -1 })})
			return err
		}(),
		"extend 0": func() error { _, err := b.Extend(ctx, nil, 0); return err }(),
		"rate burst -1": func() error {
			_, err := b.Fetch(ctx, queue.FetchRequest{Queue: "q", Max: 1, Lease: time.Second, Rate: queue.Rate{N: 1, Per: time.Second, Burst: -1}})
			return err
		}(),
		"settle kind 99": func() error { errs, _ := b.Settle(ctx, []queue.Outcome{{Job: job("x"), Kind: 99}}); return errs[0] }(),
	} {
		if !errors.Is(err, queue.ErrInvalidOptions) || !strings.HasPrefix(err.Error(), "redisqueue: invalid options: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
