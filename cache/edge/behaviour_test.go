package edge_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
)

// step is one request in a scenario: advance the clock, send, expect.
type step struct {
	advance time.Duration
	method  string
	hdr     []string
	code    int
	origin  int64  // origin requests so far, after this step
	status  string // Cache-Status must contain this
	age     string // Age must equal this, if set
	body    string // if set
}

func run(t *testing.T, opts edge.Options, resp []string, steps []step) *env {
	t.Helper()
	e := newEnv(t, opts)
	e.org.set(fixed(e.clk, "body", resp...))
	for i, s := range steps {
		e.clk.Advance(s.advance)
		m := s.method
		if m == "" {
			m = http.MethodGet
		}
		w := e.do(m, "http://example.com/x", s.hdr...)
		cs := w.Header().Get("Cache-Status")
		if s.code != 0 && w.Code != s.code {
			t.Fatalf("step %d: status %d, want %d (Cache-Status %q)", i, w.Code, s.code, cs)
		}
		if n := e.org.n.Load(); n != s.origin {
			t.Fatalf("step %d: origin requests %d, want %d (Cache-Status %q)", i, n, s.origin, cs)
		}
		if !strings.Contains(cs, s.status) {
			t.Fatalf("step %d: Cache-Status %q, want it to contain %q", i, cs, s.status)
		}
		if s.age != "" && w.Header().Get("Age") != s.age {
			t.Fatalf("step %d: Age %q, want %q", i, w.Header().Get("Age"), s.age)
		}
		if s.body != "" && w.Body.String() != s.body {
			t.Fatalf("step %d: body %q, want %q", i, w.Body, s.body)
		}
	}
	return e
}

func TestStoringRules(t *testing.T) {
	miss := step{code: 200, origin: 1, status: "fwd=uri-miss"}
	cases := []struct {
		name  string
		resp  []string
		req   []string
		store bool
	}{
		{"§3 max-age", []string{"Cache-Control", "max-age=60"}, nil, true},
		{"§3 s-maxage", []string{"Cache-Control", "s-maxage=60"}, nil, true},
		{"§3 Expires", []string{"Expires", "Fri, 02 Jan 2026 04:04:05 GMT"}, nil, true},
		{"§5.2.2.5 no-store", []string{"Cache-Control", "max-age=60, no-store"}, nil, false},
		{"§5.2.2.7 private", []string{"Cache-Control", "private, max-age=60"}, nil, false},
		{"§5.2.2.7 qualified private stores the rest", []string{"Cache-Control", `private="X-User", max-age=60`, "X-User", "bob"}, nil, true},
		{"§5.2.2.3 must-understand, known code, overrides no-store", []string{"Cache-Control", "must-understand, no-store, max-age=60"}, nil, true},
		{"§3.5 Authorization not stored", []string{"Cache-Control", "max-age=60"}, []string{"Authorization", "Bearer x"}, false},
		{"§3.5 Authorization with public", []string{"Cache-Control", "public, max-age=60"}, []string{"Authorization", "Bearer x"}, true},
		{"§3.5 Authorization with s-maxage", []string{"Cache-Control", "s-maxage=60"}, []string{"Authorization", "Bearer x"}, true},
		{"§3.5 Authorization with must-revalidate", []string{"Cache-Control", "max-age=60, must-revalidate"}, []string{"Authorization", "Bearer x"}, true},
		{"§5.2.1.5 request no-store", []string{"Cache-Control", "max-age=60"}, []string{"Cache-Control", "no-store"}, false},
		{"§4.1 Vary: * never matches", []string{"Cache-Control", "max-age=60", "Vary", "*"}, nil, false},
		{"§4.2.1 conflicting max-age is stale", []string{"Cache-Control", "max-age=60, max-age=30"}, nil, false},
		{"§4.2.1 malformed max-age is stale", []string{"Cache-Control", "max-age=6x"}, nil, false},
		{"§5.3 Expires 0 is in the past", []string{"Expires", "0"}, nil, false},
		{"Set-Cookie without public is not shared", []string{"Cache-Control", "max-age=60", "Set-Cookie", "a=b"}, nil, false},
		{"Set-Cookie with public: stored without it", []string{"Cache-Control", "public, max-age=60", "Set-Cookie", "a=b"}, nil, true},
		{"RFC 9213 CDN-Cache-Control overrides no-store", []string{"Cache-Control", "no-store", "CDN-Cache-Control", "max-age=60"}, nil, true},
		{"RFC 9213 CDN-Cache-Control no-store overrides max-age", []string{"Cache-Control", "max-age=60", "CDN-Cache-Control", "no-store"}, nil, false},
		{"RFC 9213 invalid targeted field is ignored", []string{"Cache-Control", "max-age=60", "CDN-Cache-Control", "Max-Age=0"}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hit := step{advance: time.Second, hdr: tc.req, code: 200, origin: 1, status: "hit"}
			if !tc.store {
				hit.origin, hit.status = 2, "fwd="
			}
			m := miss
			m.hdr = tc.req
			e := run(t, edge.Options{}, tc.resp, []step{m, hit})
			if tc.store {
				w := e.get("http://example.com/x")
				if w.Header().Get("X-User") != "" || w.Header().Get("Set-Cookie") != "" {
					t.Fatalf("stored a private field: %v", w.Header())
				}
			}
		})
	}
}

func TestFreshness(t *testing.T) {
	t.Run("§4.2.1 s-maxage over max-age", func(t *testing.T) {
		run(t, edge.Options{}, []string{"Cache-Control", "max-age=10, s-maxage=100"}, []step{
			{origin: 1}, {advance: 50 * time.Second, origin: 1, status: "hit", age: "50"},
		})
	})
	t.Run("§4.2.1 max-age over Expires", func(t *testing.T) {
		run(t, edge.Options{}, []string{"Cache-Control", "max-age=100", "Expires", "Fri, 02 Jan 2026 03:04:15 GMT"}, []step{
			{origin: 1}, {advance: 50 * time.Second, origin: 1, status: "hit"},
		})
	})
	t.Run("§4.2.1 Expires minus Date", func(t *testing.T) {
		run(t, edge.Options{}, []string{"Expires", "Fri, 02 Jan 2026 03:04:15 GMT"}, []step{
			{origin: 1}, {advance: 5 * time.Second, origin: 1, status: "hit"}, {advance: 6 * time.Second, origin: 2, status: "fwd=stale"},
		})
	})
	t.Run("§4.2.2 heuristic from Last-Modified", func(t *testing.T) {
		// Last-Modified 1000s before Date: 10 % → 100 s fresh.
		run(t, edge.Options{}, []string{"Last-Modified", "Fri, 02 Jan 2026 02:47:25 GMT"}, []step{
			{origin: 1}, {advance: 90 * time.Second, origin: 1, status: "hit"}, {advance: 20 * time.Second, origin: 2},
		})
	})
	t.Run("§4.2.2 heuristics off", func(t *testing.T) {
		run(t, edge.Options{Heuristic: -1}, []string{"Last-Modified", "Fri, 02 Jan 2026 02:47:25 GMT"}, []step{
			{origin: 1}, {advance: time.Second, origin: 2},
		})
	})
	t.Run("§4.2.3 received Age counts", func(t *testing.T) {
		run(t, edge.Options{}, []string{"Cache-Control", "max-age=60", "Age", "50"}, []step{
			{origin: 1}, {advance: 5 * time.Second, origin: 1, status: "hit", age: "55"}, {advance: 6 * time.Second, origin: 2},
		})
	})
	t.Run("§5.1 invalid Age is ignored", func(t *testing.T) {
		run(t, edge.Options{}, []string{"Cache-Control", "max-age=60", "Age", "-5"}, []step{
			{origin: 1}, {advance: 5 * time.Second, origin: 1, status: "hit", age: "5"},
		})
	})
	t.Run("RFC 9213 targeted max-age", func(t *testing.T) {
		run(t, edge.Options{}, []string{"Cache-Control", "max-age=5", "CDN-Cache-Control", "max-age=100"}, []step{
			{origin: 1}, {advance: 50 * time.Second, origin: 1, status: "hit"},
		})
	})
	t.Run("RFC 9213 configured targeted field first", func(t *testing.T) {
		run(t, edge.Options{Targeted: []string{"Ladder-Cache-Control", "CDN-Cache-Control"}},
			[]string{"CDN-Cache-Control", "max-age=5", "Ladder-Cache-Control", "max-age=100"}, []step{
				{origin: 1}, {advance: 50 * time.Second, origin: 1, status: "hit"},
			})
	})
}

func TestRequestDirectives(t *testing.T) {
	resp := []string{"Cache-Control", "max-age=100", "ETag", `"v1"`}
	cases := []struct {
		name   string
		adv    time.Duration
		hdr    []string
		origin int64
		code   int
		status string
	}{
		{"§5.2.1.4 no-cache revalidates", 10 * time.Second, []string{"Cache-Control", "no-cache"}, 2, 200, "fwd=request"},
		{"§5.4 Pragma no-cache without Cache-Control", 10 * time.Second, []string{"Pragma", "no-cache"}, 2, 200, "fwd=request"},
		{"§5.4 Pragma ignored with Cache-Control", 10 * time.Second, []string{"Pragma", "no-cache", "Cache-Control", "max-stale"}, 1, 200, "hit"},
		{"§5.2.1.1 max-age exceeded", 10 * time.Second, []string{"Cache-Control", "max-age=5"}, 2, 200, "fwd=request"},
		{"§5.2.1.1 max-age within", 10 * time.Second, []string{"Cache-Control", "max-age=50"}, 1, 200, "hit"},
		{"§5.2.1.3 min-fresh not met", 90 * time.Second, []string{"Cache-Control", "min-fresh=20"}, 2, 200, "fwd=request"},
		{"§5.2.1.2 max-stale accepts stale", 110 * time.Second, []string{"Cache-Control", "max-stale=20"}, 1, 200, "hit"},
		{"§5.2.1.2 max-stale too little", 130 * time.Second, []string{"Cache-Control", "max-stale=20"}, 2, 200, "fwd=stale"},
		{"§5.2.1.7 only-if-cached hit", 10 * time.Second, []string{"Cache-Control", "only-if-cached"}, 1, 200, "hit"},
		{"§5.2.1.7 only-if-cached stale → 504 (RFC 9211 §2: generated, no member)", 110 * time.Second, []string{"Cache-Control", "only-if-cached"}, 1, 504, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run(t, edge.Options{}, resp, []step{{origin: 1}, {advance: tc.adv, hdr: tc.hdr, origin: tc.origin, code: tc.code, status: tc.status}})
		})
	}
	t.Run("§5.2.1.7 only-if-cached miss → 504", func(t *testing.T) {
		e := run(t, edge.Options{}, resp, []step{{hdr: []string{"Cache-Control", "only-if-cached"}, code: 504, origin: 0}})
		if w := e.get("http://example.com/other", "Cache-Control", "only-if-cached"); w.Header().Get("Cache-Status") != "" {
			t.Fatalf("RFC 9211 §2: a generated 504 carries Cache-Status %q", w.Header().Get("Cache-Status"))
		}
	})
}

func TestResponseNoCacheAndRevalidate(t *testing.T) {
	t.Run("§5.2.2.4 no-cache validates every time", func(t *testing.T) {
		e := newEnv(t, edge.Options{})
		e.org.set(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-cache, max-age=100")
			w.Header().Set("ETag", `"v1"`)
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(304)
				return
			}
			io.WriteString(w, "body")
		})
		e.get("http://example.com/x")
		w := e.get("http://example.com/x")
		if w.Code != 200 || w.Body.String() != "body" || e.org.n.Load() != 2 {
			t.Fatalf("%d %q origin %d", w.Code, w.Body, e.org.n.Load())
		}
		if cs := w.Header().Get("Cache-Status"); !strings.Contains(cs, "fwd-status=304") {
			t.Fatalf("Cache-Status %q", cs)
		}
	})
	t.Run("§5.2.2.4 qualified no-cache omits the field on hits", func(t *testing.T) {
		e := run(t, edge.Options{}, []string{"Cache-Control", `no-cache="X-Secret", max-age=100`, "X-Secret", "s"}, []step{{origin: 1}})
		w := e.get("http://example.com/x")
		if w.Header().Get("X-Secret") != "" || e.org.n.Load() != 1 {
			t.Fatalf("X-Secret %q, origin %d", w.Header().Get("X-Secret"), e.org.n.Load())
		}
	})
	t.Run("§4.3.4 304 updates stored headers and freshens", func(t *testing.T) {
		e := newEnv(t, edge.Options{})
		e.org.set(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", e.clk.Now().UTC().Format(http.TimeFormat))
			w.Header().Set("Cache-Control", "max-age=10")
			w.Header().Set("ETag", `"v1"`)
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.Header().Set("X-Version", "2")
				w.WriteHeader(304)
				return
			}
			w.Header().Set("X-Version", "1")
			io.WriteString(w, "body")
		})
		e.get("http://example.com/x")
		e.clk.Advance(20 * time.Second)
		w := e.get("http://example.com/x")
		if w.Code != 200 || w.Body.String() != "body" || w.Header().Get("X-Version") != "2" {
			t.Fatalf("%d %q %v", w.Code, w.Body, w.Header())
		}
		if inm := e.org.lastReq().Header.Get("If-None-Match"); inm != `"v1"` {
			t.Fatalf("If-None-Match to origin %q", inm)
		}
		e.clk.Advance(5 * time.Second)
		w = e.get("http://example.com/x")
		if !strings.Contains(w.Header().Get("Cache-Status"), "hit") || w.Header().Get("X-Version") != "2" || e.org.n.Load() != 2 {
			t.Fatalf("after 304: %v origin %d", w.Header(), e.org.n.Load())
		}
	})
	t.Run("§4.2.4 must-revalidate forbids stale-if-error", func(t *testing.T) {
		e := run(t, edge.Options{StaleIfError: time.Hour}, []string{"Cache-Control", "max-age=10, must-revalidate"}, []step{{origin: 1}})
		e.org.set(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
		e.clk.Advance(20 * time.Second)
		if w := e.get("http://example.com/x"); w.Code != 503 {
			t.Fatalf("status %d, want the origin's 503", w.Code)
		}
	})
}

func TestStaleExtensions(t *testing.T) {
	t.Run("RFC 5861 stale-if-error on 503", func(t *testing.T) {
		e := run(t, edge.Options{}, []string{"Cache-Control", "max-age=10, stale-if-error=60"}, []step{{origin: 1}})
		e.org.set(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
		e.clk.Advance(20 * time.Second)
		w := e.get("http://example.com/x")
		cs := w.Header().Get("Cache-Status")
		if w.Code != 200 || w.Body.String() != "body" || !strings.Contains(cs, "fwd-status=503") || !strings.Contains(cs, "detail=origin-error") {
			t.Fatalf("%d %q %q", w.Code, w.Body, cs)
		}
		e.clk.Advance(60 * time.Second)
		if w := e.get("http://example.com/x"); w.Code != 503 {
			t.Fatalf("past the window: %d", w.Code)
		}
	})
	t.Run("Options.StaleIfError default window", func(t *testing.T) {
		e := run(t, edge.Options{StaleIfError: time.Minute}, []string{"Cache-Control", "max-age=10"}, []step{{origin: 1}})
		e.org.set(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(502) })
		e.clk.Advance(20 * time.Second)
		if w := e.get("http://example.com/x"); w.Code != 200 {
			t.Fatalf("%d", w.Code)
		}
	})
	t.Run("RFC 5861 stale-while-revalidate serves at once and refreshes once", func(t *testing.T) {
		e := run(t, edge.Options{}, []string{"Cache-Control", "max-age=10, stale-while-revalidate=60"}, []step{{origin: 1}})
		e.clk.Advance(20 * time.Second)
		for range 5 {
			w := e.get("http://example.com/x")
			if w.Code != 200 || !strings.Contains(w.Header().Get("Cache-Status"), "hit") {
				t.Fatalf("%d %q", w.Code, w.Header().Get("Cache-Status"))
			}
		}
		e.c.Close() // waits for the background refresh
		if n := e.org.n.Load(); n != 2 {
			t.Fatalf("origin requests %d, want 2 (one refresh)", n)
		}
	})
	t.Run("RFC 8246 immutable: a reload is served fresh, a force reload is not", func(t *testing.T) {
		run(t, edge.Options{}, []string{"Cache-Control", "max-age=100, immutable"}, []step{
			{origin: 1},
			{advance: 10 * time.Second, hdr: []string{"Cache-Control", "max-age=0"}, origin: 1, status: "hit"},
			{hdr: []string{"Cache-Control", "no-cache"}, origin: 2, status: "fwd=request"},
		})
	})
}

func TestVary(t *testing.T) {
	e := newEnv(t, edge.Options{})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=100")
		w.Header().Set("Vary", "accept-encoding, Accept-Language")
		fmt.Fprintf(w, "enc=%s lang=%s", r.Header.Get("Accept-Encoding"), r.Header.Get("Accept-Language"))
	})
	e.get("http://example.com/v", "Accept-Encoding", "gzip, br")
	for _, h := range [][]string{
		{"Accept-Encoding", "GZIP,br"},
		{"Accept-Encoding", "gzip", "Accept-Encoding", "br"},
		{"Accept-Encoding", " gzip ,  br "},
	} {
		w := e.get("http://example.com/v", h...)
		if !strings.Contains(w.Header().Get("Cache-Status"), "hit") {
			t.Fatalf("%q: %q", h, w.Header().Get("Cache-Status"))
		}
	}
	w := e.get("http://example.com/v", "Accept-Encoding", "identity")
	if cs := w.Header().Get("Cache-Status"); !strings.Contains(cs, "fwd=vary-miss") {
		t.Fatalf("other variant: %q", cs)
	}
	w = e.get("http://example.com/v", "Accept-Encoding", "identity")
	if w.Body.String() != "enc=identity lang=" || !strings.Contains(w.Header().Get("Cache-Status"), "hit") {
		t.Fatalf("second variant: %q %q", w.Body, w.Header().Get("Cache-Status"))
	}
	if n := e.c.Purge("http://example.com/v"); n != 2 {
		t.Fatalf("Purge removed %d, want 2", n)
	}
}

func TestHeadAndConditional(t *testing.T) {
	e := run(t, edge.Options{}, []string{"Cache-Control", "max-age=100", "ETag", `W/"v1"`, "Last-Modified", "Thu, 01 Jan 2026 00:00:00 GMT"}, []step{{origin: 1}})
	w := e.do(http.MethodHead, "http://example.com/x")
	if w.Code != 200 || w.Body.Len() != 0 || e.org.n.Load() != 1 || w.Header().Get("Age") == "" {
		t.Fatalf("HEAD: %d %q origin %d", w.Code, w.Body, e.org.n.Load())
	}
	for _, h := range [][]string{
		{"If-None-Match", `"x", "v1"`},
		{"If-None-Match", `*`},
		{"If-Modified-Since", "Thu, 01 Jan 2026 00:00:00 GMT"},
	} {
		w := e.get("http://example.com/x", h...)
		if w.Code != 304 || w.Body.Len() != 0 || w.Header().Get("Etag") == "" {
			t.Fatalf("%q: %d %q", h, w.Code, w.Body)
		}
	}
	if w := e.get("http://example.com/x", "If-None-Match", `"v2"`); w.Code != 200 {
		t.Fatalf("non-matching: %d", w.Code)
	}
}

func TestInvalidation(t *testing.T) {
	e := newEnv(t, edge.Options{})
	e.get("http://example.com/a")
	e.get("http://example.com/b")
	e.get("http://example.com/c")
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/b")
		w.Header().Set("Content-Location", "http://other.example/c")
		w.WriteHeader(201)
	})
	w := e.do(http.MethodPost, "http://example.com/a")
	if w.Code != 201 || !strings.Contains(w.Header().Get("Cache-Status"), "fwd=method") {
		t.Fatalf("POST: %d %q", w.Code, w.Header().Get("Cache-Status"))
	}
	e.org.set(fixed(e.clk, "new", "Cache-Control", "max-age=60"))
	n := e.org.n.Load()
	e.get("http://example.com/a")
	e.get("http://example.com/b")
	e.get("http://example.com/c")
	if got := e.org.n.Load() - n; got != 2 {
		t.Fatalf("origin requests after POST %d, want 2 (/a and /b invalidated, /c another origin's)", got)
	}
	// An error response invalidates nothing.
	e.org.set(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	e.do(http.MethodDelete, "http://example.com/a")
	e.org.set(fixed(e.clk, "new", "Cache-Control", "max-age=60"))
	n = e.org.n.Load()
	e.get("http://example.com/a")
	if e.org.n.Load() != n {
		t.Fatal("a 500 to DELETE invalidated /a")
	}
}

func TestPurge(t *testing.T) {
	e := newEnv(t, edge.Options{})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=100")
		w.Header().Set("Surrogate-Key", "all "+strings.TrimPrefix(r.URL.Path, "/"))
		io.WriteString(w, r.URL.Path)
	})
	for _, p := range []string{"/a", "/b", "/c"} {
		if w := e.get("http://example.com" + p); w.Header().Get("Surrogate-Key") != "" {
			t.Fatal("Surrogate-Key sent downstream")
		}
	}
	if n := e.c.PurgeKey("b"); n != 1 {
		t.Fatalf("PurgeKey(b) = %d", n)
	}
	if n := e.c.Purge("/a"); n != 1 {
		t.Fatalf("Purge(/a) = %d", n)
	}
	if n := e.c.PurgeAll(); n != 1 {
		t.Fatalf("PurgeAll = %d", n)
	}
	if st := e.c.Stats(); st.StoredObjects != 0 || st.StoredBytes != 0 || st.Purges != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []edge.Options{{MaxBytes: -1}, {MaxObjectSize: -1}, {OriginTimeout: -1}, {StaleIfError: -1}, {MaxHeuristic: -1}, {Targeted: []string{"bad field"}}} {
		_, err := edge.New(http.NotFoundHandler(), o)
		if err == nil || !strings.HasPrefix(err.Error(), "edge: invalid options: ") || strings.Count(err.Error(), "edge:") != 1 {
			t.Fatalf("%+v: %v", o, err)
		}
	}
	if _, err := edge.New(nil, edge.Options{}); err == nil {
		t.Fatal("nil origin accepted")
	}
}

func TestClientConditionalOnMiss(t *testing.T) {
	e := run(t, edge.Options{}, []string{"Cache-Control", "max-age=100", "ETag", `"v1"`}, nil)
	w := e.get("http://example.com/x", "If-None-Match", `"v1"`)
	if w.Code != 304 || w.Body.Len() != 0 {
		t.Fatalf("§4.3.2 conditional miss: %d %q", w.Code, w.Body)
	}
	if inm := e.org.lastReq().Header.Get("If-None-Match"); inm != "" {
		t.Fatalf("the client's validator reached the origin: %q (the cache must fetch the whole response to store it)", inm)
	}
	if w := e.get("http://example.com/x"); w.Code != 200 || w.Body.String() != "body" || e.org.n.Load() != 1 {
		t.Fatalf("after: %d %q origin %d %q", w.Code, w.Body, e.org.n.Load(), w.Header().Get("Cache-Status"))
	}
}
