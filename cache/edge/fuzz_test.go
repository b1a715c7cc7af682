package edge_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
)

// FuzzHandler sends arbitrary response and request header values through
// the cache three times: it must never panic, and every response but one
// the cache generates itself carries Cache-Status.
func FuzzHandler(f *testing.F) {
	f.Add("max-age=60", "Sun, 06 Nov 1994 08:49:37 GMT", "5", "Accept-Encoding", `"a"`, "no-cache", `W/"a"`)
	f.Add(`private="x", s-maxage=1`, "0", "-1", "*", "junk", "max-stale", "*")
	f.Add("stale-while-revalidate=9", "", "x", "", "", "only-if-cached", "")
	f.Fuzz(func(t *testing.T, cc, expires, age, vary, etag, reqCC, inm string) {
		clk := newClock()
		origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			for k, v := range map[string]string{"Cache-Control": cc, "Expires": expires, "Age": age, "Vary": vary, "ETag": etag, "CDN-Cache-Control": cc, "Surrogate-Key": etag} {
				if v != "" && !strings.ContainsAny(v, "\r\n\x00") {
					h.Set(k, v)
				}
			}
			io.WriteString(w, "x")
		})
		c, err := edge.New(origin, edge.Options{Now: clk.Now, OriginTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for range 3 {
			r := httptest.NewRequest(http.MethodGet, "http://example.com/f", nil)
			if !strings.ContainsAny(reqCC+inm, "\r\n\x00") {
				r.Header.Set("Cache-Control", reqCC)
				r.Header.Set("If-None-Match", inm)
				r.Header.Set("Accept-Encoding", inm)
			}
			w := httptest.NewRecorder()
			c.ServeHTTP(w, r)
			if w.Header().Get("Cache-Status") == "" && w.Code != http.StatusGatewayTimeout { // a generated 504 carries none (RFC 9211 §2)
				t.Fatalf("no Cache-Status: %d %v", w.Code, w.Header())
			}
			clk.Advance(7 * time.Second)
		}
		c.PurgeKey(etag)
		c.Purge("/f")
	})
}
