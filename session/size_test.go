package session_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ladder-go/ladder/session"
)

// Two requests that loaded one session each add a value that fits alone but not
// together: the store enforces MaxSize, so the second commit fails with ErrTooLarge and
// changes nothing.
func TestSizeLimitAcrossConcurrentRequests(t *testing.T) {
	e := newEnv(t, session.Options{MaxSize: 100})
	_, tok := e.do("", put(t, "a", 1))
	var loaded sync.WaitGroup
	loaded.Add(2)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, k := range []string{"x", "y"} {
		wg.Go(func() {
			e.do(tok, func(_ http.ResponseWriter, r *http.Request, s *session.Session) {
				loaded.Done()
				loaded.Wait()
				mu.Lock()
				defer mu.Unlock()
				if err := session.Put(s, k, strings.Repeat("v", 60)); err != nil {
					t.Errorf("Put %s: %v", k, err)
				}
				errs = append(errs, s.Commit(r.Context()))
			})
		})
	}
	wg.Wait()
	if errs[0] != nil || !errors.Is(errs[1], session.ErrTooLarge) {
		t.Fatalf("commits: %v, %v; want nil, ErrTooLarge", errs[0], errs[1])
	}
	// A request that does not grow the session still commits, even over the limit.
	e.do(tok, func(_ http.ResponseWriter, r *http.Request, s *session.Session) {
		if err := session.Put(s, "a", 2); err != nil {
			t.Error(err)
		}
		if err := s.Commit(r.Context()); err != nil {
			t.Errorf("commit of a same-size change: %v", err)
		}
	})
}

// The default ErrorHandler answers a commit over MaxSize with 500, not "store unavailable".
func TestSizeLimitAtCommitStatus(t *testing.T) {
	e := newEnv(t, session.Options{MaxSize: 100})
	_, tok := e.do("", put(t, "a", 1))
	loaded, release := make(chan struct{}), make(chan struct{})
	done := make(chan *http.Response)
	go func() {
		resp, _ := e.do(tok, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
			put(t, "x", strings.Repeat("v", 60))(w, r, s)
			close(loaded)
			<-release
		})
		done <- resp
	}()
	<-loaded
	e.do(tok, put(t, "y", strings.Repeat("v", 60)))
	close(release)
	if resp := <-done; resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}
}
