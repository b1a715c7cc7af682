package edge_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
)

// A Date centuries in the past (more than time.Duration can hold before
// now) makes the response very old, never fresh: the age must not wrap
// around to a negative duration and keep the response fresh forever.
func TestAncientDateNeverFresh(t *testing.T) {
	for _, hdr := range [][]string{
		{"Date", "Sat, 01 Jan 1600 00:00:00 GMT", "Cache-Control", "max-age=60"},
		{"Date", "Mon, 01 Jan 0001 00:00:00 GMT", "Cache-Control", "max-age=60"},
		{"Age", "99999999999999999999", "Cache-Control", "max-age=60"},
	} {
		e := newEnv(t, edge.Options{})
		e.org.set(func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i+1 < len(hdr); i += 2 {
				w.Header().Set(hdr[i], hdr[i+1])
			}
			w.Write([]byte("x"))
		})
		e.get("http://example.com/old")
		for _, d := range []time.Duration{time.Second, time.Hour, 24 * 365 * time.Hour} {
			e.clk.Advance(d)
			w := e.get("http://example.com/old")
			if n := e.org.n.Load(); n < 2 {
				t.Fatalf("%v after %v: served from storage as fresh: Age %q, %q", hdr, d, w.Header().Get("Age"), w.Header().Get("Cache-Status"))
			}
			if a := w.Header().Get("Age"); a != "" {
				// A miss forwards the origin's own Age; ours is never negative.
				if v, err := strconv.ParseInt(a, 10, 64); err == nil && v < 0 {
					t.Fatalf("%v: Age %q", hdr, a)
				}
			}
		}
	}
}
