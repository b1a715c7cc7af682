package load_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/examples/app/load"
)

type keyRecorder struct {
	mu   sync.Mutex
	keys map[string]int // key → requests carrying it
	post int            // POSTs seen
	bad  []string       // GETs with a key, POSTs without
}

func (k *keyRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	key := r.Header.Get(app.IdempotencyKeyHeader)
	k.mu.Lock()
	switch {
	case r.Method == http.MethodPost && key == "", r.Method != http.MethodPost && key != "":
		k.bad = append(k.bad, r.Method+" "+r.URL.Path+" key "+key)
	case key != "":
		k.post++
		k.keys[key]++
	}
	k.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// Every logical POST carries a fresh Idempotency-Key (so a balancer may
// resend it and the app does it once); reads carry none.
func TestEveryPostCarriesAFreshIdempotencyKey(t *testing.T) {
	url := server(t)
	rec := &keyRecorder{keys: map[string]int{}}
	res, err := load.Run(context.Background(), load.Options{
		BaseURL: url, Users: 3, Transport: rec,
		Steps: []load.Step{{Workers: 3, Duration: 5 * time.Second, MaxRequests: 60}},
		Mix:   load.Mix{Signup: 1, Login: 1, Post: 2, Feed: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total().Errors != 0 {
		t.Fatalf("errors %+v", res.Steps)
	}
	if len(rec.bad) > 0 {
		t.Errorf("requests with a wrong key: %v", rec.bad)
	}
	if rec.post < 20 || len(rec.keys) != rec.post {
		t.Errorf("%d POSTs, %d distinct keys: want a fresh key each", rec.post, len(rec.keys))
	}
	for k := range rec.keys {
		if _, err := app.ParseIdempotencyKey(k); err != nil {
			t.Errorf("key %q: %v", k, err)
		}
	}
}
