package health

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	secret := &counted{}
	secret.fail.Store(true)
	ok := &counted{}
	mk := func(checks ...Check) *Checker { return newTestChecker(t, CheckerOptions{}, checks...) }
	up := mk(Check{Name: "db", Func: ok.check})
	down := mk(Check{Name: "db", Func: ok.check}, Check{Name: "vault", Func: func(context.Context) error {
		return &testErr{"dial 10.0.0.7:8200: refused"}
	}})
	degraded := mk(Check{Name: "db", Func: ok.check}, Check{Name: "cache", Func: secret.check, NonCritical: true})
	unknown := newTestChecker(t, CheckerOptions{Interval: 1 << 40}, Check{Name: "db", Func: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }})

	for _, tc := range []struct {
		name     string
		c        *Checker
		opts     HandlerOptions
		method   string
		code     int
		body     string // substring; "" means empty body
		mustNot  string
		wantJSON bool
	}{
		{"up", up, HandlerOptions{}, "GET", 200, `{"status":"up"}`, "db", true},
		{"nil checker is live", nil, HandlerOptions{}, "GET", 200, `{"status":"up"}`, "", true},
		{"down hides detail", down, HandlerOptions{}, "GET", 503, `{"status":"down"}`, "10.0.0.7", true},
		{"down with detail", down, HandlerOptions{Detail: true}, "GET", 503, `"error":"health: check \"vault\": dial 10.0.0.7:8200: refused"`, "", true},
		{"degraded still serves", degraded, HandlerOptions{Detail: true}, "GET", 200, `"status":"degraded"`, "", true},
		{"unknown is not ready", unknown, HandlerOptions{}, "GET", 503, `{"status":"unknown"}`, "", true},
		{"HEAD has no body", down, HandlerOptions{Detail: true}, "HEAD", 503, "", "", false},
		{"POST", up, HandlerOptions{}, "POST", 405, "method not allowed", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Handler(tc.c, tc.opts).ServeHTTP(rec, httptest.NewRequest(tc.method, "/readyz", nil))
			body := rec.Body.String()
			if rec.Code != tc.code {
				t.Fatalf("code %d, want %d; body %s", rec.Code, tc.code, body)
			}
			if tc.body == "" && body != "" || !strings.Contains(body, tc.body) {
				t.Fatalf("body %q, want %q", body, tc.body)
			}
			if tc.mustNot != "" && strings.Contains(body, tc.mustNot) {
				t.Fatalf("body %q leaks %q", body, tc.mustNot)
			}
			if tc.wantJSON {
				var v map[string]any
				if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
					t.Fatalf("not JSON: %v", err)
				}
				if rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "no-store" {
					t.Fatalf("headers %v", rec.Header())
				}
			}
			if tc.code == 405 && rec.Header().Get("Allow") != "GET, HEAD" {
				t.Fatalf("Allow %q", rec.Header().Get("Allow"))
			}
		})
	}
}

type testErr struct{ s string }

func (e *testErr) Error() string { return e.s }

// Polling the endpoint hard does not multiply load on the dependency.
func TestHandlerPollingIsCached(t *testing.T) {
	db := &counted{}
	c := newTestChecker(t, CheckerOptions{CacheTTL: 1 << 40}, Check{Name: "db", Func: db.check})
	srv := httptest.NewServer(Handler(c, HandlerOptions{}))
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	for range 100 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatal(resp.Status)
		}
	}
	if n := db.runs.Load(); n != 1 {
		t.Fatalf("100 polls ran the check %d times", n)
	}
}
