package session_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/session"
)

// A response that sets the session cookie must not be stored by a shared cache with the
// cookie in it (another user would get the token).
func TestSetCookieNotCached(t *testing.T) {
	e := newEnv(t, session.Options{})
	resp, tok := e.do("", func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		w.Header().Set("Cache-Control", "public, max-age=600")
		put(t, "k", 1)(w, r, s)
	})
	if cc := strings.Join(resp.Header.Values("Cache-Control"), ", "); !strings.Contains(cc, `no-cache="Set-Cookie"`) {
		t.Errorf("Cache-Control = %q with a Set-Cookie, want no-cache=\"Set-Cookie\"", cc)
	}
	resp, _ = e.do(tok, func(w http.ResponseWriter, _ *http.Request, _ *session.Session) {
		w.Header().Set("Cache-Control", "public, max-age=600")
	})
	if cc := resp.Header.Values("Cache-Control"); len(cc) != 1 || cc[0] != "public, max-age=600" {
		t.Errorf("Cache-Control = %q without a Set-Cookie, want the handler's", cc)
	}
	resp, _ = e.do(tok, func(_ http.ResponseWriter, r *http.Request, s *session.Session) {
		if err := s.Destroy(r.Context()); err != nil {
			t.Error(err)
		}
	})
	c := resp.Cookies()
	if len(c) != 1 || c[0].MaxAge != -1 || !c[0].HttpOnly || !c[0].Secure || c[0].Path != "/" ||
		c[0].SameSite != http.SameSiteLaxMode || c[0].Domain != "" || c[0].Value != "" {
		t.Errorf("deletion cookie = %v", c)
	}
}

// When ErrorHandler replaces the response, nothing the handler set for its own response
// (encoding, caching, length) is sent with it.
func TestErrorHandlerGetsCleanHeaders(t *testing.T) {
	var logs bytes.Buffer
	e := newEnv(t, session.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	_, tok := e.do("", put(t, "k", 1))
	e.store.failApply.Store(true)
	resp, _ := e.do(tok, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		put(t, "k", 2)(w, r, s)
		h := w.Header()
		h.Set("Content-Encoding", "gzip")
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("ETag", `"v1"`)
		w.WriteHeader(http.StatusOK)
	})
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
	for _, k := range []string{"Content-Encoding", "Cache-Control", "ETag"} {
		if v := resp.Header.Get(k); v != "" {
			t.Errorf("%s: %q sent with the error response", k, v)
		}
	}
	if resp.Header.Get("Vary") != "Cookie" {
		t.Errorf("Vary = %q, want Cookie", resp.Header.Get("Vary"))
	}
	if logs.Len() == 0 || strings.Contains(logs.String(), tok) {
		t.Errorf("logs (want the failure, never the token): %s", logs.String())
	}
}
