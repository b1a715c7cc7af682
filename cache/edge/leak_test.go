package edge_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
)

// A field named by no-cache="…" must not reach any request but the one
// that fetched it without revalidation (RFC 9111 §5.2.2.4): not collapsed
// followers of the fill, not a stale response served on an origin error.
func TestNoCacheFieldNotLeaked(t *testing.T) {
	e := newEnv(t, edge.Options{})
	release := make(chan struct{})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Cache-Control", `max-age=1, stale-if-error=600, no-cache="X-Session"`)
		w.Header().Set("X-Session", "secret-of-"+r.Header.Get("X-User"))
		io.WriteString(w, "page")
	})
	var wg sync.WaitGroup
	var lead *httptest.ResponseRecorder
	wg.Go(func() { lead = e.get("http://example.com/p", "X-User", "leader") })
	for e.org.n.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	const followers = 5
	got := make([]*httptest.ResponseRecorder, followers)
	for i := range followers {
		wg.Go(func() { got[i] = e.get("http://example.com/p", "X-User", "follower") })
	}
	for e.c.Stats().Collapsed < followers {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if lead.Header().Get("X-Session") != "secret-of-leader" {
		t.Fatalf("leader lost its field: %q", lead.Header())
	}
	for _, w := range got {
		if v := w.Header().Get("X-Session"); v != "" {
			t.Fatalf("collapsed follower got the leader's no-cache field: %q (%q)", v, w.Header().Get("Cache-Status"))
		}
	}
	// Stale on an origin error: not validated either.
	e.clk.Advance(10 * time.Second)
	e.org.set(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	w := e.get("http://example.com/p", "X-User", "other")
	if w.Code != 200 || w.Header().Get("X-Session") != "" {
		t.Fatalf("stale-if-error: %d X-Session %q (%q)", w.Code, w.Header().Get("X-Session"), w.Header().Get("Cache-Status"))
	}
}

// Poisoning and leaks through the defaults, as a hostile client sees them.
func TestNoPoisoningByDefault(t *testing.T) {
	type req struct {
		url string
		hdr []string
	}
	cases := []struct {
		name    string
		resp    []string
		first   req
		second  req
		wantHit bool
		absent  string // a field the second response must not carry
	}{
		{"set-cookie without public is not shared", []string{"Cache-Control", "max-age=60", "Set-Cookie", "sid=1"},
			req{"http://example.com/a", nil}, req{"http://example.com/a", nil}, false, ""},
		{"set-cookie with public is stored without it", []string{"Cache-Control", "public, max-age=60", "Set-Cookie", "sid=1"},
			req{"http://example.com/a", nil}, req{"http://example.com/a", nil}, true, "Set-Cookie"},
		{"authorization without public is not stored", []string{"Cache-Control", "max-age=60"},
			req{"http://example.com/a", []string{"Authorization", "Bearer x"}}, req{"http://example.com/a", nil}, false, ""},
		{"private is not stored", []string{"Cache-Control", "private, max-age=60"},
			req{"http://example.com/a", nil}, req{"http://example.com/a", nil}, false, ""},
		{"private field is not stored", []string{"Cache-Control", `max-age=60, private="X-User"`, "X-User", "alice"},
			req{"http://example.com/a", nil}, req{"http://example.com/a", nil}, true, "X-User"},
		{"vary cookie keys by cookie", []string{"Cache-Control", "max-age=60", "Vary", "Cookie"},
			req{"http://example.com/a", []string{"Cookie", "sid=alice"}}, req{"http://example.com/a", []string{"Cookie", "sid=bob"}}, false, ""},
		{"vary authorization keys by it", []string{"Cache-Control", "public, max-age=60", "Vary", "Authorization"},
			req{"http://example.com/a", []string{"Authorization", "Bearer a"}}, req{"http://example.com/a", []string{"Authorization", "Bearer b"}}, false, ""},
		{"two Vary lines both count", []string{"Cache-Control", "max-age=60", "Vary", "Accept-Encoding", "Vary", "Cookie"},
			req{"http://example.com/a", []string{"Cookie", "sid=alice"}}, req{"http://example.com/a", []string{"Cookie", "sid=bob"}}, false, ""},
		{"no-store on a second Cache-Control line", []string{"Cache-Control", "max-age=60", "Cache-Control", "no-store"},
			req{"http://example.com/a", nil}, req{"http://example.com/a", nil}, false, ""},
		{"private on a second Cache-Control line", []string{"Cache-Control", "public, max-age=60", "Cache-Control", "private"},
			req{"http://example.com/a", nil}, req{"http://example.com/a", nil}, false, ""},
		{"host case and default port are one key", []string{"Cache-Control", "max-age=60"},
			req{"http://Example.COM:80/a", nil}, req{"http://example.com/a", nil}, true, ""},
		{"another host is another key", []string{"Cache-Control", "max-age=60"},
			req{"http://example.com/a", nil}, req{"http://example.org/a", nil}, false, ""},
		{"another port is another key", []string{"Cache-Control", "max-age=60"},
			req{"http://example.com/a", nil}, req{"http://example.com:8080/a", nil}, false, ""},
		{"X-Forwarded-Host is not in the key", []string{"Cache-Control", "max-age=60"},
			req{"http://example.com/a", []string{"X-Forwarded-Host", "evil.example"}}, req{"http://example.com/a", nil}, true, ""},
		{"query differs", []string{"Cache-Control", "max-age=60"},
			req{"http://example.com/a?x=1", nil}, req{"http://example.com/a?x=2", nil}, false, ""},
		{"encoded query is not the same key", []string{"Cache-Control", "max-age=60"},
			req{"http://example.com/a?x=%31", nil}, req{"http://example.com/a?x=1", nil}, false, ""},
		{"206 is not stored", []string{"Cache-Control", "max-age=60", "Content-Range", "bytes 0-1/10"},
			req{"http://example.com/a", nil}, req{"http://example.com/a", nil}, false, ""},
		{"surrogate key not sent", []string{"Cache-Control", "max-age=60", "Surrogate-Key", "a b"},
			req{"http://example.com/a", nil}, req{"http://example.com/a", nil}, true, "Surrogate-Key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, edge.Options{})
			status := 200
			if tc.name == "206 is not stored" {
				status = 206
			}
			e.org.set(func(w http.ResponseWriter, r *http.Request) {
				for i := 0; i+1 < len(tc.resp); i += 2 {
					w.Header().Add(tc.resp[i], tc.resp[i+1])
				}
				w.WriteHeader(status)
				io.WriteString(w, "body for "+r.Host+r.Header.Get("Cookie")+r.Header.Get("Authorization"))
			})
			e.get(tc.first.url, tc.first.hdr...)
			w := e.get(tc.second.url, tc.second.hdr...)
			hit := e.org.n.Load() == 1
			if hit != tc.wantHit {
				t.Fatalf("hit %v, want %v (%q)", hit, tc.wantHit, w.Header().Get("Cache-Status"))
			}
			if tc.absent != "" && w.Header().Get(tc.absent) != "" {
				t.Fatalf("%s sent: %q", tc.absent, w.Header().Get(tc.absent))
			}
		})
	}
}

// A HEAD miss is not stored, so a later GET is not answered with an empty body.
func TestHeadDoesNotPopulateGet(t *testing.T) {
	e := newEnv(t, edge.Options{})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		if r.Method == http.MethodHead {
			return
		}
		io.WriteString(w, "full")
	})
	e.do(http.MethodHead, "http://example.com/h")
	if w := e.get("http://example.com/h"); w.Body.String() != "full" {
		t.Fatalf("GET after HEAD: %q", w.Body)
	}
	if w := e.get("http://example.com/h"); w.Body.String() != "full" {
		t.Fatalf("hit: %q", w.Body)
	}
}

// A 304 to an unconditional request (a broken origin) is not stored and
// does not freshen anything.
func TestUnsolicited304NotStored(t *testing.T) {
	e := newEnv(t, edge.Options{})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.WriteHeader(http.StatusNotModified)
	})
	e.get("http://example.com/n")
	e.org.set(fixed(e.clk, "real", "Cache-Control", "max-age=60"))
	if w := e.get("http://example.com/n"); w.Code != 200 || w.Body.String() != "real" {
		t.Fatalf("%d %q", w.Code, w.Body)
	}
}
