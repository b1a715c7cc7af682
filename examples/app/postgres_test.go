package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/internal/testenv"
)

func TestSQLStoreOnPostgres(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx := context.Background()
	db, err := app.OpenPostgres(ctx, pg.DSN, app.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := app.NewSQLStore(db, nil, app.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // migrations are idempotent: every instance runs them at start
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	if err := s.CreateUser(ctx, app.User{Name: "ann", Created: now}, "h"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, app.User{Name: "ann", Created: now}, "h"); !errors.Is(err, app.ErrTaken) {
		t.Fatalf("duplicate on PostgreSQL: %v, want ErrTaken", err)
	}
	if _, _, err := s.UserByName(ctx, "bob"); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	for _, b := range []string{"one", "two", "three"} {
		if err := s.CreatePost(ctx, app.Post{Author: "ann", Body: b, Created: now}); err != nil {
			t.Fatal(err)
		}
	}
	feed, err := s.Feed(ctx, 2)
	if err != nil || len(feed) != 2 || feed[0].Body != "three" || feed[1].Body != "two" {
		t.Fatalf("feed %+v, %v", feed, err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestOpenPostgresFailsFast(t *testing.T) {
	start := time.Now()
	_, err := app.OpenPostgres(context.Background(), "postgres://nobody@127.0.0.1:1/x", app.PostgresOptions{Timeout: 2 * time.Second})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("unreachable server: %v after %v", err, time.Since(start))
	}
	if _, err := app.OpenPostgres(context.Background(), "::", app.PostgresOptions{}); err == nil {
		t.Fatal("a bad DSN opened")
	}
}
