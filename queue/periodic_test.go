package queue

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
)

type tick struct{}

func (tick) Kind() string { return "tick" }

// Two Workers with the same Periodic enqueue it at every boundary, and it
// runs exactly once per period, at the boundary.
func TestPeriodicRunsOncePerPeriodWithTwoWorkers(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		m, _ := NewMemory(MemoryOptions{})
		h := &Handlers{}
		var mu sync.Mutex
		var runs []time.Time
		var keys []string
		mustHandle(t, h, func(ctx context.Context, j *Typed[tick]) error {
			mu.Lock()
			defer mu.Unlock()
			runs = append(runs, time.Now())
			keys = append(keys, j.UniqueKey)
			return nil
		}, HandlerOptions{})
		p := []Periodic{{Name: "tick", Schedule: Every(time.Minute), Args: tick{}}}
		start(t, m, h, WorkerOptions{Periodic: p, ID: "a"})
		start(t, m, h, WorkerOptions{Periodic: p, ID: "b"})
		t0 := time.Now()
		time.Sleep(10*time.Minute + 30*time.Second)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if len(runs) != 10 {
			t.Fatalf("%d runs in 10.5 periods, want 10: %v", len(runs), keys)
		}
		seen := map[string]bool{}
		for i, at := range runs {
			want := t0.Truncate(time.Minute).Add(time.Duration(i+1) * time.Minute)
			if at.Before(want) || at.Sub(want) > 2*time.Second {
				t.Errorf("run %d at %v, want at %v", i, at, want)
			}
			if seen[keys[i]] {
				t.Errorf("key %q twice", keys[i])
			}
			seen[keys[i]] = true
		}
	})
}

// A cron schedule drives a periodic job the same way.
func TestPeriodicWithCron(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		m, _ := NewMemory(MemoryOptions{})
		h := &Handlers{}
		var mu sync.Mutex
		var runs []time.Time
		mustHandle(t, h, func(ctx context.Context, j *Typed[tick]) error {
			mu.Lock()
			defer mu.Unlock()
			runs = append(runs, time.Now())
			return nil
		}, HandlerOptions{})
		s, err := ParseCron("*/15 * * * *")
		if err != nil {
			t.Fatal(err)
		}
		start(t, m, h, WorkerOptions{Periodic: []Periodic{{Name: "q", Schedule: s, Args: tick{}}}})
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if len(runs) != 8 {
			t.Fatalf("%d runs in 2 h, want 8", len(runs))
		}
		for _, at := range runs {
			if at.Minute()%15 != 0 || at.Second() > 2 {
				t.Errorf("run at %v, want on a quarter hour", at)
			}
		}
	})
}

func TestEveryIsAlignedToTheEpoch(t *testing.T) {
	e := Every(time.Hour)
	at := time.Date(2026, 3, 1, 10, 20, 0, 0, time.UTC)
	if got, want := e.Next(at), time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("Next(%v) = %v, want %v", at, got, want)
	}
	if got := e.Next(time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("Next on a boundary = %v, want the next one", got)
	}
	if !Every(0).Next(at).IsZero() || !Every(-time.Second).Next(at).IsZero() {
		t.Fatal("Every(≤0).Next should be zero")
	}
	if got := Every(time.Hour).Next(time.Unix(-1800, 0)); got.Unix() != 0 {
		t.Fatalf("before the epoch: %v", got.Unix())
	}
}
