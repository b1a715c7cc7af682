package sessiontest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/session"
)

// writers applies one distinct key per call from each of n goroutines, perWriter calls
// each, closes midway (if not nil) once a quarter of the calls succeeded, and returns the
// keys whose Apply succeeded and how many found no session.
func writers(t *testing.T, s session.Store, key string, n, perWriter int, midway chan<- struct{}) (ok []string, failed int) {
	var once sync.Once
	signal := func() {
		if midway != nil {
			once.Do(func() { close(midway) })
		}
	}
	defer signal()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			for i := range perWriter {
				k := fmt.Sprintf("w%d-%d", w, i)
				err := s.Apply(t.Context(), key, session.Update{Set: map[string][]byte{k: []byte(k)}})
				mu.Lock()
				switch {
				case err == nil:
					ok = append(ok, k)
					if len(ok) >= n*perWriter/4 {
						signal()
					}
				case errors.Is(err, session.ErrNotFound):
					failed++
				default:
					t.Errorf("Apply: %v", err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return ok, failed
}

func testConcurrentWriters(t *testing.T, s session.Store) {
	key := Key()
	mustCreate(t, s, key, record(map[string]string{"base": "1"}, ""))
	ok, failed := writers(t, s, key, 8, 25, nil)
	if failed != 0 || len(ok) != 200 {
		t.Fatalf("%d applies succeeded, %d not found; want 200, 0", len(ok), failed)
	}
	want := map[string]string{"base": "1"}
	for _, k := range ok {
		want[k] = k
	}
	wantValues(t, mustLoad(t, s, key), want)
}

func testConcurrentDestroy(t *testing.T, s session.Store) {
	key := Key()
	mustCreate(t, s, key, record(map[string]string{"base": "1"}, ""))
	done := make(chan struct{})
	var ok []string
	var failed int
	midway := make(chan struct{})
	go func() { defer close(done); ok, failed = writers(t, s, key, 4, 50, midway) }()
	<-midway
	if err := s.Destroy(t.Context(), key, time.Minute); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	<-done
	_, err := s.Load(t.Context(), key)
	wantNotFound(t, "Load after Destroy raced with writers", err)
	t.Logf("%d applies before Destroy, %d dropped after", len(ok), failed)
	if len(ok) < 50 {
		t.Fatalf("only %d applies succeeded before Destroy; want ≥ 50", len(ok))
	}
	if err := s.Create(t.Context(), key, record(nil, "")); !errors.Is(err, session.ErrExists) {
		t.Fatalf("Create over the tombstone: err = %v, want ErrExists", err)
	}
}

func testConcurrentRenew(t *testing.T, s session.Store) {
	oldKey, newKey := Key(), Key()
	mustCreate(t, s, oldKey, record(map[string]string{"base": "1"}, ""))
	done := make(chan struct{})
	var ok []string
	var failed int
	midway := make(chan struct{})
	go func() { defer close(done); ok, failed = writers(t, s, oldKey, 4, 50, midway) }()
	<-midway
	if err := s.Renew(t.Context(), oldKey, newKey, now().Add(time.Hour), time.Minute); err != nil {
		t.Fatalf("Renew: %v", err)
	}
	<-done
	if failed != 0 {
		t.Fatalf("%d applies failed across a Renew; want every one forwarded", failed)
	}
	want := map[string]string{"base": "1"}
	for _, k := range ok {
		want[k] = k
	}
	wantValues(t, mustLoad(t, s, newKey), want)
	_, err := s.Load(t.Context(), oldKey)
	wantRenewed(t, "Load of the old key", err)
}

// testRenewUnderSustainedWrites renews a session five times in a row while writers keep
// updating it without pause: every Renew succeeds (a store must not starve renewal, which
// is a login), and every acknowledged write is in the last successor.
func testRenewUnderSustainedWrites(t *testing.T, s session.Store) {
	first := Key()
	mustCreate(t, s, first, record(map[string]string{"base": "1"}, ""))
	keys := []string{first}
	const n, maxPerWriter = 8, 2000
	stop := make(chan struct{})
	var mu sync.Mutex
	var ok []string
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			for i := 0; i < maxPerWriter; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("w%d-%d", w, i)
				err := s.Apply(t.Context(), first, session.Update{Set: map[string][]byte{k: []byte(k)}})
				if err != nil {
					t.Errorf("Apply %s: %v", k, err)
					return
				}
				mu.Lock()
				ok = append(ok, k)
				mu.Unlock()
			}
		})
	}
	written := func() int { mu.Lock(); defer mu.Unlock(); return len(ok) }
	for i := range 5 {
		// Renew only once writers are busy: 8 more writes since the last renewal.
		for want, deadline := written()+8, time.Now().Add(5*time.Second); written() < want && time.Now().Before(deadline); {
			time.Sleep(100 * time.Microsecond)
		}
		next := Key()
		err := s.Renew(t.Context(), keys[i], next, now().Add(time.Hour), time.Minute)
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("Renew %d under sustained writes: %v", i+1, err)
		}
		keys = append(keys, next)
	}
	close(stop)
	wg.Wait()
	want := map[string]string{"base": "1"}
	for _, k := range ok {
		want[k] = k
	}
	wantValues(t, mustLoad(t, s, keys[len(keys)-1]), want)
	t.Logf("%d writes across 5 renewals", len(ok))
}

func testCanceled(t *testing.T, s session.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Load(ctx, Key()); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a canceled context: err = %v, want context.Canceled", err)
	}
	if err := s.Create(ctx, Key(), record(nil, "")); !errors.Is(err, context.Canceled) {
		t.Errorf("Create with a canceled context: err = %v, want context.Canceled", err)
	}
}
