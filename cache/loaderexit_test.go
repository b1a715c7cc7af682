package cache_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/internal/testenv"
)

// A loader that ends its goroutine with runtime.Goexit (t.FailNow in a
// user's test does) must still resolve its flight: its callers get an error
// at once and the next Get of the key loads again, instead of every Get of
// the key waiting for its ctx.
func TestLoaderGoexitResolvesTheFlight(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{})
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		exit := func(context.Context, string) (int, error) {
			runtime.Goexit()
			return 0, nil
		}
		if v, err := a.Get(ctx, "k", exit); err == nil || ctx.Err() != nil || !errors.Is(err, cache.ErrGoexit) {
			t.Fatalf("Get with a loader that calls Goexit = %d, %v (ctx %v); want ErrGoexit at once", v, err, ctx.Err())
		}
		if v, err := a.Get(ctx, "k", (&source{}).load); err != nil || v != 1 {
			t.Fatalf("next Get = %d, %v; want a new load (1)", v, err)
		}
	})
}

func TestBatchLoaderGoexitResolvesTheFlights(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{})
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		exit := func(context.Context, []string) (map[string]int, error) {
			runtime.Goexit()
			return nil, nil
		}
		if got, err := a.GetMany(ctx, []string{"a", "b"}, exit); err == nil || ctx.Err() != nil || !errors.Is(err, cache.ErrGoexit) {
			t.Fatalf("GetMany with a loader that calls Goexit = %v, %v (ctx %v); want ErrGoexit at once", got, err, ctx.Err())
		}
		if v, err := a.Get(ctx, "b", (&source{}).load); err != nil || v != 1 {
			t.Fatalf("next Get = %d, %v; want a new load (1)", v, err)
		}
	})
}

// A panicking batch loader fails every key's flight with ErrPanic, including
// a Get that joined the batch, and the keys load again afterwards.
func TestBatchLoaderPanicBecomesErrorForEveryWaiter(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{})
		gate := make(chan struct{})
		boom := func(context.Context, []string) (map[string]int, error) {
			<-gate
			panic("boom")
		}
		var batchErr, getErr error
		done := make(chan struct{}, 2)
		go func() { _, batchErr = a.GetMany(t.Context(), []string{"a", "b"}, boom); done <- struct{}{} }()
		synctest.Wait()
		go func() { _, getErr = a.Get(t.Context(), "b", (&source{}).load); done <- struct{}{} }()
		synctest.Wait()
		close(gate)
		<-done
		<-done
		for name, err := range map[string]error{"GetMany": batchErr, "joined Get": getErr} {
			var pe *cache.PanicError
			if !errors.Is(err, cache.ErrPanic) || !errors.As(err, &pe) || pe.Value != "boom" {
				t.Errorf("%s: err = %v, want a PanicError(boom)", name, err)
			}
		}
		if v, err := a.Get(t.Context(), "a", (&source{}).load); err != nil || v != 1 {
			t.Fatalf("next Get = %d, %v; want a new load (1)", v, err)
		}
	})
}
