package app_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/cache/rediscache"
	"github.com/ladder-go/ladder/examples/app"
)

// Both caches a stage may put in front of the feed satisfy app.FeedCache.
var (
	_ app.FeedCache = (*cache.Aside[string, []app.Post])(nil)
	_ app.FeedCache = (*rediscache.Cache[[]app.Post])(nil)
)

// With a feed cache, a hundred concurrent feed reads cost the store one
// query, not a hundred.
func TestFeedCacheSparesTheStore(t *testing.T) {
	store := app.Count(newSQLite(t))
	lru, err := cache.NewLRU[string, []app.Post](16, cache.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	feed, err := cache.New[string, []app.Post](lru, cache.Options{TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	_, srv := newServer(t, app.Config{Store: store, FeedCache: feed})
	before := store.Counts().Reads
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			resp, err := http.Get(srv.URL + "/api/feed")
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- &statusErr{resp.StatusCode}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := store.Counts().Reads - before; n != 1 {
		t.Fatalf("%d store reads for 100 feed requests through the cache, want 1", n)
	}
	http.DefaultClient.CloseIdleConnections()
}

type statusErr struct{ code int }

func (e *statusErr) Error() string { return http.StatusText(e.code) }
