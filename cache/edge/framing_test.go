package edge_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/ladder-go/ladder/cache/edge"
)

// An origin handler that sends conflicting or invalid Content-Length lines
// (a framing error, RFC 9112 §6.3, and a response-splitting vector for a
// proxy in front) does not have them stored and replayed on every hit (a
// miss forwards what the handler wrote, as it would without the cache).
// Identical duplicates are folded into one line.
func TestConflictingContentLengthNotStored(t *testing.T) {
	for _, tc := range []struct {
		cl     []string
		stored bool
	}{
		{[]string{"4", "400"}, false},
		{[]string{"4, 400"}, false},
		{[]string{"-4"}, false},
		{[]string{"4", "4"}, true},
	} {
		e := newEnv(t, edge.Options{})
		e.org.set(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header()["Content-Length"] = tc.cl
			io.WriteString(w, "body")
		})
		func() {
			defer func() { recover() }() // a short or long body may be cut
			e.get("http://example.com/cl")
		}()
		w := e.get("http://example.com/cl")
		if stored := e.org.n.Load() == 1; stored != tc.stored {
			t.Fatalf("%q: stored %v, want %v", tc.cl, stored, tc.stored)
		}
		if tc.stored && len(w.Header()["Content-Length"]) != 1 {
			t.Fatalf("%q: hit with Content-Length %q", tc.cl, w.Header()["Content-Length"])
		}
	}
}
