package session_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/ladder-go/ladder/session"
)

// Two requests that both loaded a flash message pop it: exactly one of them gets it.
func TestPopTakesOnce(t *testing.T) {
	e := newEnv(t, session.Options{})
	_, tok := e.do("", put(t, "flash", "saved"))
	var loaded sync.WaitGroup
	loaded.Add(2)
	popped := make(chan error, 2)
	var mu sync.Mutex // the second pop starts after the first returned
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			e.do(tok, func(_ http.ResponseWriter, r *http.Request, s *session.Session) {
				loaded.Done()
				loaded.Wait() // both requests hold the flash in their loaded view
				mu.Lock()
				defer mu.Unlock()
				_, err := session.Pop[string](r.Context(), s, "flash")
				popped <- err
			})
		})
	}
	wg.Wait()
	close(popped)
	got := 0
	for err := range popped {
		switch {
		case err == nil:
			got++
		case !errors.Is(err, session.ErrNoValue):
			t.Errorf("Pop: %v", err)
		}
	}
	if got != 1 {
		t.Fatalf("%d requests popped the flash message, want exactly 1", got)
	}
	if _, err := get[string](t, e, tok, "flash"); !errors.Is(err, session.ErrNoValue) {
		t.Fatalf("flash after both pops: %v, want ErrNoValue", err)
	}
}

// Pop of a value this request put itself needs no store call and leaves nothing behind;
// a value put by a request that overlapped ours after the load is taken as it is now.
func TestPopLocalAndFresh(t *testing.T) {
	e := newEnv(t, session.Options{})
	_, tok := e.do("", put(t, "a", 1))
	e.do(tok, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		put(t, "local", "x")(w, r, s)
		if v, err := session.Pop[string](r.Context(), s, "local"); v != "x" || err != nil {
			t.Errorf("Pop of a local value = %q, %v", v, err)
		}
		// Another request changes "a" while this one runs.
		e.do(tok, put(t, "a", 2))
		if v, err := session.Pop[int](r.Context(), s, "a"); v != 2 || err != nil {
			t.Errorf("Pop = %v, %v; want the value as stored now (2)", v, err)
		}
		if _, err := session.Get[int](s, "a"); !errors.Is(err, session.ErrNoValue) {
			t.Errorf("Get after Pop: %v", err)
		}
	})
	for _, k := range []string{"a", "local"} {
		if _, err := get[string](t, e, tok, k); !errors.Is(err, session.ErrNoValue) {
			t.Errorf("%s after Pop: %v, want ErrNoValue", k, err)
		}
	}
}

// A Pop that takes a value must not delete what another request put under the same key
// after the take.
func TestPopThenConcurrentPutSurvives(t *testing.T) {
	e := newEnv(t, session.Options{})
	_, tok := e.do("", put(t, "flash", "one"))
	e.do(tok, func(_ http.ResponseWriter, r *http.Request, s *session.Session) {
		if v, err := session.Pop[string](r.Context(), s, "flash"); v != "one" || err != nil {
			t.Errorf("Pop = %q, %v", v, err)
		}
		e.do(tok, put(t, "flash", "two")) // a new flash, set by an overlapping request
	})
	if v, err := get[string](t, e, tok, "flash"); v != "two" || err != nil {
		t.Fatalf("flash = %q, %v; want the later value \"two\"", v, err)
	}
}
