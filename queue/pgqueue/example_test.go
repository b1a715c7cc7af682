package pgqueue_test

import (
	"context"
	"log"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

type welcomeEmail struct {
	UserID int64 `json:"user_id"`
}

func (welcomeEmail) Kind() string { return "welcome_email" }

// A web server signs a user up and enqueues the welcome email in the same
// transaction: the job exists if and only if the user does.
func ExampleBackend_EnqueueTx() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if err := pgqueue.Migrate(ctx, pool, pgqueue.Options{}); err != nil {
		log.Fatal(err)
	}
	backend, err := pgqueue.New(pool, pgqueue.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer backend.Close()
	client, err := queue.NewClient(backend, queue.ClientOptions{})
	if err != nil {
		log.Fatal(err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO users (email) VALUES ($1) RETURNING id`, "ada@example.com").Scan(&id); err != nil {
			return err
		}
		job, err := client.NewJob(ctx, welcomeEmail{UserID: id}, queue.EnqueueOptions{Queue: "email"})
		if err != nil {
			return err
		}
		_, err = backend.EnqueueTx(ctx, tx, job)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
}

// A handler records its effect and completes its job in one transaction:
// a retry after a crash finds the job gone, so the effect happens once.
func ExampleBackend_CompleteTx() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	backend, err := pgqueue.New(pool, pgqueue.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer backend.Close()
	var h queue.Handlers
	err = queue.Handle(&h, func(ctx context.Context, job *queue.Typed[welcomeEmail]) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE users SET welcomed = true WHERE id = $1`, job.Args.UserID); err != nil {
				return err
			}
			return backend.CompleteTx(ctx, tx, job.Job) // queue.ErrLeaseLost: roll back
		})
	}, queue.HandlerOptions{})
	if err != nil {
		log.Fatal(err)
	}
	worker, err := queue.NewWorker(backend, &h, queue.WorkerOptions{
		Queues: map[string]queue.QueueOptions{"email": {Concurrency: 20}},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := worker.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
