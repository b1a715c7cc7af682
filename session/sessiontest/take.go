package sessiontest

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/session"
)

func testTake(t *testing.T, s session.Store) {
	key := Key()
	mustCreate(t, s, key, record(map[string]string{"flash": "saved", "empty": "", "keep": "1"}, ""))
	v, err := s.Take(t.Context(), key, "flash")
	if err != nil || string(v) != "saved" {
		t.Fatalf("Take = %q, %v; want \"saved\"", v, err)
	}
	if v, err := s.Take(t.Context(), key, "empty"); err != nil || v == nil || len(v) != 0 {
		t.Fatalf("Take of an empty value = %q (nil %v), %v; want an empty, non-nil value", v, v == nil, err)
	}
	for _, name := range []string{"flash", "missing"} {
		if _, err := s.Take(t.Context(), key, name); !errors.Is(err, session.ErrNoValue) {
			t.Fatalf("Take %q: err = %v, want ErrNoValue", name, err)
		}
	}
	wantValues(t, mustLoad(t, s, key), map[string]string{"keep": "1"})
	_, err = s.Take(t.Context(), Key(), "keep")
	wantNotFound(t, "Take from a missing session", err)
	if err := s.Destroy(t.Context(), key, time.Minute); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	_, err = s.Take(t.Context(), key, "keep")
	wantNotFound(t, "Take from a destroyed session", err)
}

func testTakeRenewed(t *testing.T, s session.Store) {
	oldKey, newKey := Key(), Key()
	mustCreate(t, s, oldKey, record(map[string]string{"flash": "saved", "keep": "1"}, ""))
	if err := s.Renew(t.Context(), oldKey, newKey, now().Add(time.Hour), time.Minute); err != nil {
		t.Fatalf("Renew: %v", err)
	}
	if v, err := s.Take(t.Context(), oldKey, "flash"); err != nil || string(v) != "saved" {
		t.Fatalf("Take through the renewed key = %q, %v", v, err)
	}
	wantValues(t, mustLoad(t, s, newKey), map[string]string{"keep": "1"})
}

// testConcurrentTake races takers of one value, alone and across a Renew: exactly one
// gets it, and it is gone from whichever key holds the session.
func testConcurrentTake(t *testing.T, s session.Store) {
	for round := range 10 {
		oldKey, newKey := Key(), Key()
		mustCreate(t, s, oldKey, record(map[string]string{"flash": "saved", "keep": "1"}, ""))
		var got atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 6 {
			wg.Go(func() {
				<-start
				v, err := s.Take(t.Context(), oldKey, "flash")
				switch {
				case err == nil && bytes.Equal(v, []byte("saved")):
					got.Add(1)
				case err == nil:
					t.Errorf("Take = %q", v)
				case !errors.Is(err, session.ErrNoValue):
					t.Errorf("Take: %v", err)
				}
			})
		}
		renewed := round%2 == 1
		if renewed {
			wg.Go(func() {
				<-start
				if err := s.Renew(t.Context(), oldKey, newKey, now().Add(time.Hour), time.Minute); err != nil {
					t.Errorf("Renew: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := got.Load(); n != 1 {
			t.Fatalf("round %d: %d takers got the value, want exactly 1", round, n)
		}
		live := oldKey
		if renewed {
			live = newKey
		}
		wantValues(t, mustLoad(t, s, live), map[string]string{"keep": "1"})
	}
}
