package edge_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/cache/edge"
)

// MaxObjectSize counts the header as well as the body (as MaxBytes does):
// a response whose header alone is larger is not stored, with or without a
// body and a Content-Length; one just under the bound is.
func TestMaxObjectSizeCountsHeaders(t *testing.T) {
	cases := []struct {
		name   string
		header int
		body   string
		clen   bool
		stored bool
	}{
		{"huge header, empty body", 4 << 10, "", false, false},
		{"huge header, no write at all", 4 << 10, "-", false, false},
		{"huge header, empty body, Content-Length", 4 << 10, "", true, false},
		{"huge header, small body", 4 << 10, "x", false, false},
		{"small response", 10, "x", false, true},
		{"body at the bound", 0, strings.Repeat("b", 1<<10), false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, edge.Options{MaxObjectSize: 1 << 10})
			e.org.set(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=60")
				w.Header().Set("X-Big", strings.Repeat("h", tc.header))
				if tc.clen {
					w.Header().Set("Content-Length", "0")
				}
				if tc.body == "-" {
					w.WriteHeader(200)
					return
				}
				io.WriteString(w, tc.body)
			})
			e.get("http://example.com/o")
			w := e.get("http://example.com/o")
			if stored := e.org.n.Load() == 1; stored != tc.stored {
				t.Fatalf("stored %v, want %v (%q)", stored, tc.stored, w.Header().Get("Cache-Status"))
			}
			if w.Body.String() != strings.Trim(tc.body, "-") {
				t.Fatalf("body %d bytes", w.Body.Len())
			}
			if s := e.c.Stats(); s.StoredBytes > 1<<10 && tc.stored {
				t.Fatalf("StoredBytes %d", s.StoredBytes)
			}
		})
	}
}
