package session_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/session"
)

// A server whose requests may run longer than Grace is told so once, at its first request
// (a request overlapping a login past Grace loses its changes).
func TestGraceBelowWriteTimeoutWarns(t *testing.T) {
	for _, c := range []struct {
		grace, writeTimeout time.Duration
		warn                bool
	}{
		{0, time.Minute, false},           // the default covers a 1-minute WriteTimeout
		{0, 10 * time.Minute, true},       // but not a 10-minute one
		{20 * time.Millisecond, 0, false}, // no WriteTimeout: nothing known to compare
		{time.Second, time.Second, true},  // equal is not enough
		{2 * time.Second, time.Second, false},
	} {
		var logs bytes.Buffer
		m, err := session.New(newMemory(t), session.Options{Grace: c.grace,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewUnstartedServer(m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
		srv.Config.WriteTimeout = c.writeTimeout
		srv.Start()
		for range 3 {
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		srv.Close()
		if n := strings.Count(logs.String(), "Grace must exceed"); n != map[bool]int{true: 1}[c.warn] {
			t.Errorf("Grace %v, WriteTimeout %v: %d warnings, want warn=%v; log:\n%s", c.grace, c.writeTimeout, n, c.warn, logs.String())
		}
	}
}

// One Manager behind two servers (public and admin, or HTTP and HTTPS): each server is
// checked at its own first request, so a second server whose WriteTimeout is not below
// Grace is told too, once.
func TestGraceCheckedForEveryServer(t *testing.T) {
	var logs bytes.Buffer
	m, err := session.New(newMemory(t), session.Options{Grace: time.Minute,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, wt := range []time.Duration{30 * time.Second, 2 * time.Minute} {
		srv := httptest.NewUnstartedServer(h)
		srv.Config.WriteTimeout = wt
		srv.Start()
		for range 3 {
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		srv.Close()
	}
	if n := strings.Count(logs.String(), "Grace must exceed"); n != 1 || !strings.Contains(logs.String(), "write_timeout=2m0s") {
		t.Errorf("%d warnings, want 1 for the second server (WriteTimeout 2m > Grace 1m); log:\n%s", n, logs.String())
	}
}
