package app_test

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/health"
)

func TestRemoteStoreBehavesAsTheStoreItServes(t *testing.T) {
	srv := httptest.NewServer(app.NewStoreHandler(newSQLite(t)))
	defer srv.Close()
	rs, err := app.NewRemoteStore(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Unix(1700000000, 0).UTC()
	if err := rs.CreateUser(ctx, app.User{Name: "ann", Created: now}, "hash"); err != nil {
		t.Fatal(err)
	}
	if err := rs.CreateUser(ctx, app.User{Name: "ann", Created: now}, "hash"); !errors.Is(err, app.ErrTaken) {
		t.Fatalf("duplicate: %v, want ErrTaken", err)
	}
	if _, _, err := rs.UserByName(ctx, "bob"); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("unknown user: %v, want ErrNotFound", err)
	}
	u, hash, err := rs.UserByName(ctx, "ann")
	if err != nil || u.Name != "ann" || hash != "hash" || !u.Created.Equal(now) {
		t.Fatalf("user %+v %q %v", u, hash, err)
	}
	for _, b := range []string{"one", "two"} {
		if err := rs.CreatePost(ctx, app.Post{Author: "ann", Body: b, Created: now}); err != nil {
			t.Fatal(err)
		}
	}
	feed, err := rs.Feed(ctx, 10)
	if err != nil || len(feed) != 2 || feed[0].Body != "two" {
		t.Fatalf("feed %+v %v", feed, err)
	}
	if mine, err := rs.UserPosts(ctx, "ann", 1); err != nil || len(mine) != 1 {
		t.Fatalf("user posts %+v %v", mine, err)
	}
	if err := rs.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestBreakerFailsFastWhileTheStoreIsDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused
	rs, err := app.NewRemoteStore("http://"+addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := health.NewGoBreaker("db", health.GoBreakerOptions{Settings: gobreaker.Settings{Timeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	s := app.WithBreaker(rs, b)
	ctx := context.Background()
	for range 6 { // gobreaker trips after more than 5 consecutive failures
		if _, err := s.Feed(ctx, 1); !errors.Is(err, app.ErrUnavailable) {
			t.Fatalf("feed from a dead store: %v, want ErrUnavailable", err)
		}
	}
	if b.State() != health.BreakerOpen {
		t.Fatalf("breaker %v after 6 failures, want open", b.State())
	}
	_, err = s.Feed(ctx, 1)
	if !errors.Is(err, app.ErrUnavailable) || !errors.Is(err, health.ErrOpen) {
		t.Fatalf("feed through an open breaker: %v", err)
	}
	if err := s.Ping(ctx); err == nil || errors.Is(err, health.ErrOpen) {
		t.Fatalf("Ping must bypass the breaker and see the store: %v", err)
	}
}

func TestApplicationAnswersDoNotTripTheBreaker(t *testing.T) {
	b, err := health.NewGoBreaker("db", health.GoBreakerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := app.WithBreaker(newSQLite(t), b)
	for range 20 {
		if _, _, err := s.UserByName(context.Background(), "nobody"); !errors.Is(err, app.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if b.State() != health.BreakerClosed {
		t.Fatalf("breaker %v after 20 not-found answers", b.State())
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []app.Config{
		{},
		{Store: app.Count(nil), KDFIterations: 10},
		{Store: app.Count(nil), StoreTimeout: -time.Second},
	} {
		if _, err := app.New(c); !errors.Is(err, app.ErrInvalidOptions) {
			t.Errorf("%+v: %v, want ErrInvalidOptions", c, err)
		}
	}
}
