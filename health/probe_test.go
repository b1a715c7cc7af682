package health

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestHTTPProbe(t *testing.T) {
	var followed atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Token") != "t" {
			w.WriteHeader(401)
		}
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/target", http.StatusFound) })
	mux.HandleFunc("/target", func(w http.ResponseWriter, r *http.Request) { followed.Add(1) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 1<<20)))
	})
	mux.HandleFunc("/head", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead {
			w.WriteHeader(405)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	hdr := http.Header{"X-Token": {"t"}}

	tests := []struct {
		path    string
		opts    HTTPProbeOptions
		wantErr error
	}{
		{"/ok", HTTPProbeOptions{Header: hdr}, nil},
		{"/ok", HTTPProbeOptions{}, ErrBadStatus},
		{"/fail", HTTPProbeOptions{}, ErrBadStatus},
		{"/fail", HTTPProbeOptions{MinStatus: 500, MaxStatus: 503}, nil},
		{"/redirect", HTTPProbeOptions{}, nil},                                                // 302 is in 200..399, judged as is
		{"/redirect", HTTPProbeOptions{MaxStatus: 299}, ErrBadStatus},                         // and never followed
		{"/redirect", HTTPProbeOptions{Client: &http.Client{}, MaxStatus: 299}, ErrBadStatus}, // not even with the caller's client
		{"/big", HTTPProbeOptions{MaxBodyBytes: 10}, nil},
		{"/head", HTTPProbeOptions{Method: http.MethodHead}, nil},
		{"/missing", HTTPProbeOptions{}, ErrBadStatus},
	}
	for _, tc := range tests {
		p, err := HTTPProbe(srv.URL+tc.path, tc.opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = p.Probe(ctx)
		cancel()
		closeIdle(p)
		if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
			t.Errorf("%s %+v: err %v, want %v", tc.path, tc.opts, err, tc.wantErr)
		}
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("redirect followed %d times", n)
	}
}

func TestHTTPProbeDeadServerAndTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	p, err := HTTPProbe(srv.URL, HTTPProbeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeIdle(p)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Probe(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hanging server: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dead, err := HTTPProbe("http://"+addr+"/", HTTPProbeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := dead.Probe(context.Background()); err == nil {
		t.Fatal("probe of a closed port succeeded")
	}
}

func TestHTTPProbeBadInput(t *testing.T) {
	for _, tc := range []struct {
		url  string
		opts HTTPProbeOptions
	}{
		{"", HTTPProbeOptions{}},
		{"localhost:8080", HTTPProbeOptions{}},
		{"ftp://127.0.0.1/", HTTPProbeOptions{}},
		{"http:///path", HTTPProbeOptions{}},
		{"http://[::1", HTTPProbeOptions{}},
		{"http://127.0.0.1/", HTTPProbeOptions{MinStatus: 99}},
		{"http://127.0.0.1/", HTTPProbeOptions{MinStatus: 300, MaxStatus: 200}},
		{"http://127.0.0.1/", HTTPProbeOptions{MaxStatus: 1000}},
		{"http://127.0.0.1/", HTTPProbeOptions{MaxBodyBytes: -1}},
		{"http://127.0.0.1/", HTTPProbeOptions{Method: "BAD METHOD"}},
	} {
		if _, err := HTTPProbe(tc.url, tc.opts); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%q %+v: %v", tc.url, tc.opts, err)
		}
	}
}

func FuzzHTTPProbe(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:1/", "https://a/b?c", "", "::", "http://%zz", "http://[::1]:80/x#y"} {
		f.Add(s, "GET")
	}
	f.Fuzz(func(t *testing.T, raw, method string) {
		p, err := HTTPProbe(raw, HTTPProbeOptions{Method: method})
		if err != nil {
			if !errors.Is(err, ErrInvalidOptions) {
				t.Fatalf("error %v does not wrap ErrInvalidOptions", err)
			}
			return
		}
		// Whatever was accepted must build a request: a cancelled probe
		// returns an error without touching the network.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := p.Probe(ctx); err == nil {
			t.Fatalf("cancelled probe of %q succeeded", raw)
		}
	})
}

// FuzzHTTPProbeHidesPassword puts a password where a user:password@ part
// goes, after any scheme-like prefix (with or without "//", as typos make
// it), and checks that no error shows it.
func FuzzHTTPProbeHidesPassword(f *testing.F) {
	const secret = "s3cretTOKEN"
	for _, s := range [][2]string{{"http://", "h/"}, {"", "h:80/health"}, {"http:", "h/"}, {"HTTP:", "h"},
		{"http:/", "h/"}, {"//", "h"}, {"ftp://", "h/"}, {"http://", "h:port/"}, {"http://", "[::1/"},
		{"http://", ""}, {"http://", "h@x/"}, {"http://", "h/\x7f"}, {"http://", "%zz/"}} {
		f.Add(s[0], s[1])
	}
	prefix := regexp.MustCompile(`^[A-Za-z0-9+.-]*:?/{0,2}$`)
	f.Fuzz(func(t *testing.T, pre, post string) {
		if !prefix.MatchString(pre) || strings.Contains(post, secret) {
			t.Skip()
		}
		raw := pre + "u:" + secret + "@" + post
		p, err := HTTPProbe(raw, HTTPProbeOptions{})
		if err == nil {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			err = p.Probe(ctx)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Fatalf("%q: error shows the password: %v", raw, err)
		}
	})
}

func TestTCPProbe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if err := TCPProbe(addr).Probe(context.Background()); err != nil {
		t.Fatalf("listening: %v", err)
	}
	ln.Close()
	if err := TCPProbe(addr).Probe(context.Background()); err == nil {
		t.Fatal("closed port: success")
	}
	if err := TCPProbe("not an address").Probe(context.Background()); err == nil {
		t.Fatal("bad address: success")
	}
}

// An HTTP target behind a real prober: down when the server stops, up again
// when it comes back.
func TestProberHTTPEndToEnd(t *testing.T) {
	var healthy atomic.Bool
	healthy.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(503)
		}
	}))
	defer srv.Close()
	p := newTestProber(t, ProberOptions{Interval: 5 * time.Millisecond, Rise: 1, Fall: 1})
	defer p.Close()
	ch, unsub := p.Subscribe(8)
	defer unsub()
	probe, err := HTTPProbe(srv.URL, HTTPProbeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Add("web", probe); err != nil {
		t.Fatal(err)
	}
	next := func() Transition {
		select {
		case tr := <-ch:
			return tr
		case <-time.After(30 * time.Second):
			t.Fatal("no transition")
		}
		return Transition{}
	}
	if tr := next(); tr.To != StatusUp {
		t.Fatalf("%+v", tr)
	}
	healthy.Store(false)
	if tr := next(); tr.To != StatusDown || !errors.Is(tr.Err, ErrBadStatus) {
		t.Fatalf("%+v", tr)
	}
	healthy.Store(true)
	if tr := next(); tr.To != StatusUp {
		t.Fatalf("%+v", tr)
	}
}

// Removing a target whose probe is in flight leaves no keep-alive connection
// (and its goroutines) behind.
func TestProberRemoveLeavesNoConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
	}))
	defer srv.Close()
	ignore := goleak.IgnoreCurrent()
	p := newTestProber(t, ProberOptions{Interval: time.Millisecond})
	defer p.Close()
	ch, unsub := p.Subscribe(4)
	defer unsub()
	probe, err := HTTPProbe(srv.URL, HTTPProbeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Add("a", probe); err != nil {
		t.Fatal(err)
	}
	<-ch
	time.Sleep(5 * time.Millisecond) // the second probe is in flight
	p.Remove("a")
	unsub()
	goleak.VerifyNone(t, ignore, goleak.IgnoreTopFunction("github.com/ladder-go/ladder/health.(*Prober).Close"))
}

func TestHTTPProbeErrorsHidePassword(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "probe" || p != "s3cret" {
			w.WriteHeader(401)
			return
		}
		w.WriteHeader(503)
	}))
	defer srv.Close()
	withPass := strings.Replace(srv.URL, "http://", "http://probe:s3cret@", 1)
	p, err := HTTPProbe(withPass, HTTPProbeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Probe(context.Background())
	closeIdle(p)
	if !errors.Is(err, ErrBadStatus) || !strings.Contains(err.Error(), "503") { // credentials were sent
		t.Fatalf("%v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err2 := p.Probe(ctx)
	for _, e := range []error{err, err2} {
		if e == nil || strings.Contains(e.Error(), "s3cret") {
			t.Fatalf("error leaks the password: %v", e)
		}
	}
	if !errors.Is(err2, context.Canceled) {
		t.Fatalf("cancelled: %v", err2)
	}
	for _, bad := range []string{"ftp://u:s3cret@h/", "http://u:s3cret@h:port/", "http://u:s3cret@[::1/", "http://u:s3cret@h/\x7f"} {
		if _, err := HTTPProbe(bad, HTTPProbeOptions{}); err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("bad-input error leaks the password: %v", err)
		}
	}
}
