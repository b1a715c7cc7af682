package edge_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/ladder-go/ladder/cache/edge"
	"github.com/ladder-go/ladder/cache/edge/edgetest"
)

// TestConformancePurge checks the purge API: by URL (path or absolute,
// every Vary variant), by surrogate key, everything; a purged URL goes back
// to the origin, others stay; the surrogate-key field is not sent downstream.
func TestConformancePurge(t *testing.T) {
	var calls atomic.Int64
	origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Vary", "Accept-Language")
		switch r.URL.Path {
		case "/b":
			w.Header().Set("Surrogate-Key", "k1 k2")
		case "/c":
			w.Header().Set("Surrogate-Key", "k2")
		}
		w.Write([]byte("body " + r.URL.Path))
	})
	clock := edgetest.NewClock(edgetest.Start)
	c, err := edge.New(origin, edge.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	get := func(path, lang string) (fromOrigin bool, rec *httptest.ResponseRecorder) {
		t.Helper()
		before := calls.Load()
		rec = httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "http://example.test"+path, nil)
		if lang != "" {
			req.Header.Set("Accept-Language", lang)
		}
		c.ServeHTTP(rec, req)
		if rec.Code != 200 || rec.Body.String() != "body "+path {
			t.Fatalf("GET %s: %d %q", path, rec.Code, rec.Body.String())
		}
		return calls.Load() > before, rec
	}
	fill := func() {
		t.Helper()
		for _, p := range []struct{ path, lang string }{{"/a", "en"}, {"/a", "fr"}, {"/b", ""}, {"/c", ""}, {"/d", ""}} {
			get(p.path, p.lang)
			if fromOrigin, _ := get(p.path, p.lang); fromOrigin {
				t.Fatalf("GET %s (%s) not stored", p.path, p.lang)
			}
		}
	}
	fill()
	if _, rec := get("/b", ""); rec.Header().Get("Surrogate-Key") != "" {
		t.Errorf("Surrogate-Key sent downstream: %q", rec.Header().Get("Surrogate-Key"))
	}

	if n := c.Purge("/a"); n != 2 {
		t.Errorf("Purge(/a) = %d, want 2 (both variants)", n)
	}
	if o, _ := get("/a", "en"); !o {
		t.Error("/a (en) served from the cache after Purge")
	}
	if o, _ := get("/d", ""); o {
		t.Error("/d refetched after Purge(/a)")
	}
	if n := c.Purge("http://example.test/d"); n != 1 {
		t.Errorf("Purge(absolute /d) = %d, want 1", n)
	}
	if o, _ := get("/d", ""); !o {
		t.Error("/d served from the cache after Purge(absolute)")
	}
	if n := c.PurgeKey("k2"); n != 2 {
		t.Errorf("PurgeKey(k2) = %d, want 2", n)
	}
	if o, _ := get("/b", ""); !o {
		t.Error("/b served after PurgeKey(k2)")
	}
	if o, _ := get("/c", ""); !o {
		t.Error("/c served after PurgeKey(k2)")
	}
	if n := c.PurgeKey("none"); n != 0 {
		t.Errorf("PurgeKey(none) = %d, want 0", n)
	}
	fill()
	if n := c.PurgeAll(); n != 5 {
		t.Errorf("PurgeAll() = %d, want 5", n)
	}
	if s := c.Stats(); s.StoredObjects != 0 || s.Purges == 0 {
		t.Errorf("after PurgeAll: Stats() = %+v", s)
	}
	if o, _ := get("/c", ""); !o {
		t.Error("/c served after PurgeAll")
	}
}
