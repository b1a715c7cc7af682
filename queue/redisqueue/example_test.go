package redisqueue_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/redisqueue"
)

type welcome struct{ User string }

func (welcome) Kind() string { return "welcome" }

// A web server enqueues a job and returns; a worker, in another process on
// another machine, runs it. (miniredis stands in for redis-server here; use
// redis.NewUniversalClient for a server, Sentinel or Cluster.)
func Example() {
	mr := miniredis.NewMiniRedis()
	if err := mr.StartAddr("127.0.0.1:0"); err != nil {
		fmt.Println(err)
		return
	}
	defer mr.Close()
	rc := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	defer rc.Close()
	backend, err := redisqueue.New(rc, redisqueue.Options{Prefix: "myapp:queue"})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The web server's side.
	client, _ := queue.NewClient(backend, queue.ClientOptions{})
	if _, err := client.Enqueue(context.Background(), welcome{User: "ada"}, queue.EnqueueOptions{}); err != nil {
		fmt.Println(err)
		return
	}

	// The worker's side.
	var h queue.Handlers
	ctx, stop := context.WithCancel(context.Background())
	_ = queue.Handle(&h, func(ctx context.Context, j *queue.Typed[welcome]) error {
		fmt.Println("welcome,", j.Args.User)
		stop() // one job is enough for the example
		return nil
	}, queue.HandlerOptions{})
	w, _ := queue.NewWorker(backend, &h, queue.WorkerOptions{PollInterval: 10 * time.Millisecond})
	_ = w.Run(ctx)
	// Output: welcome, ada
}
