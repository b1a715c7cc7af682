package edge_test

import (
	"bufio"
	"context"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
)

// records keeps what a logger was given.
type records struct {
	mu  sync.Mutex
	got []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, r)
	return nil
}
func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }

func (h *records) at(l slog.Level) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.got {
		if r.Level == l {
			out = append(out, r.Message)
		}
	}
	return out
}

// A client that leaves in the middle of an uncacheable streamed response
// from a reverse proxy: the edge stops the fetch nobody reads, the proxy
// aborts (panic(http.ErrAbortHandler), as net/http/httputil does when its
// copy is cancelled), and that is no error: nothing is logged at ERROR, and
// nothing calls it a panic.
func TestAbandonedFetchAbortIsNotLoggedAsPanic(t *testing.T) {
	release := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("first part\n"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer backend.Close()
	defer close(release)
	u, _ := url.Parse(backend.URL)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0)
	rec := &records{}
	c, err := edge.New(rp, edge.Options{Logger: slog.New(rec)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv := httptest.NewServer(c)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "first part\n" {
		t.Fatalf("first part: %q, %v", line, err)
	}
	resp.Body.Close() // the client leaves mid-body
	// Wait (bounded) for the edge to finish the abandoned fetch.
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if len(rec.at(slog.LevelDebug))+len(rec.at(slog.LevelWarn))+len(rec.at(slog.LevelError)) > 0 {
			break
		}
	}
	time.Sleep(50 * time.Millisecond)
	if errs := rec.at(slog.LevelError); len(errs) > 0 {
		t.Fatalf("an abandoned fetch was logged at ERROR: %q", errs)
	}
	for _, l := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn} {
		for _, m := range rec.at(l) {
			if strings.Contains(m, "panic") {
				t.Fatalf("an abort called a panic: %q", m)
			}
		}
	}
}

// An origin that aborts its response on its own (a proxy whose backend
// died mid-body): the clients get a cut body, and the edge logs a warning
// naming the abort, not a panic.
func TestOriginAbortIsAWarningNotAPanic(t *testing.T) {
	rec := &records{}
	c, err := edge.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("part"))
		panic(http.ErrAbortHandler)
	}), edge.Options{Logger: slog.New(rec)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, aborted := serve(c, "http://example.com/cut"); !aborted {
		t.Fatal("an aborted origin response was sent as complete")
	}
	if errs := rec.at(slog.LevelError); len(errs) > 0 {
		t.Fatalf("an origin abort logged at ERROR: %q", errs)
	}
	warns := rec.at(slog.LevelWarn)
	if len(warns) != 1 || strings.Contains(warns[0], "panic") || !strings.Contains(warns[0], "abort") {
		t.Fatalf("want one warning naming the abort, got %q", warns)
	}
}
