package edge_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
	"github.com/ladder-go/ladder/cache/edge/edgetest"
)

func validAge(s string) bool {
	if s == "" {
		return true
	}
	n, err := strconv.ParseInt(s, 10, 32)
	return err == nil && n >= 0
}

// FuzzConformanceInvariants drives random header combinations from the origin
// (and the client) through the edge and checks what must hold whatever the
// input: no panic; every response has Cache-Status (but a 504 the cache
// generates itself); Age on a hit (and on any
// response when the origin's Age was valid) is one non-negative integer; a response marked private or no-store (in
// Cache-Control, with no targeted field overriding it) is never served to a
// second request; stored bytes never exceed MaxBytes.
func FuzzConformanceInvariants(f *testing.F) {
	f.Add("max-age=60", "", "", "", "", uint8(0), uint8(0), uint8(10), "", uint16(3))
	f.Add("s-maxage=1, stale-while-revalidate=5", "{{date:10}}", "5", "Accept", `"a"`, uint8(1), uint8(1), uint8(200), "max-stale", uint16(2))
	f.Add("max-age=abc, max-age=10", "0", "-1", "*", `W/"x"`, uint8(2), uint8(2), uint8(255), "no-cache", uint16(0))
	f.Add(`no-cache="X-A", x="unterminated`, "Thu, 01 Jan 1970 00:00:00 GMT", "99999999999999999999", "Accept-Language, ,", "v1", uint8(3), uint8(3), uint8(40), "only-if-cached", uint16(65535))
	f.Add("stale-if-error=60, max-age=1, must-revalidate", "", "1, 2", "", "", uint8(4), uint8(4), uint8(5), "max-age=0, min-fresh=5", uint16(9))
	statuses := []int{200, 203, 204, 206, 299, 301, 302, 304, 404, 410, 500, 503}
	f.Fuzz(func(t *testing.T, cc, expires, age, vary, etag string, flags, status, size uint8, reqCC string, pause uint16) {
		mark := ""
		switch flags % 3 {
		case 1:
			mark = "private"
		case 2:
			mark = "no-store"
		}
		// Quotes could hide the mark inside a quoted argument; a mark must
		// stand as its own directive for the invariant to apply.
		if mark != "" {
			cc = strings.ReplaceAll(cc, `"`, "")
		}
		code := statuses[int(status)%len(statuses)]
		body := strings.Repeat("x", int(size)*16) // up to ~4 KiB: some exceed MaxObjectSize
		clock := edgetest.NewClock(edgetest.Start)
		var calls atomic.Int64
		origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			h := w.Header()
			h.Set("Date", clock.Now().UTC().Format(http.TimeFormat))
			h.Add("Cache-Control", cc)
			if mark != "" {
				h.Add("Cache-Control", mark)
			} else if flags&4 != 0 {
				h.Set("CDN-Cache-Control", cc)
			}
			for name, v := range map[string]string{"Expires": expires, "Age": age, "Vary": vary, "ETag": etag} {
				if v != "" {
					h.Set(name, strings.ReplaceAll(v, "{{date:10}}", clock.Now().Add(10*time.Second).UTC().Format(http.TimeFormat)))
				}
			}
			if flags&8 != 0 {
				h.Set("Last-Modified", clock.Now().Add(-time.Hour).UTC().Format(http.TimeFormat))
			}
			w.WriteHeader(code)
			if code != 204 && code != 304 && r.Method != http.MethodHead {
				w.Write([]byte(body))
			}
		})
		const maxBytes = 2048
		c, err := edge.New(origin, edge.Options{Now: clock.Now, MaxBytes: maxBytes, MaxObjectSize: 1024})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		serve := func(path string, hdr ...string) *httptest.ResponseRecorder {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, "http://example.test"+path, nil)
			for i := 0; i+1 < len(hdr); i += 2 {
				if hdr[i+1] != "" {
					req.Header.Set(hdr[i], hdr[i+1])
				}
			}
			before := calls.Load()
			c.ServeHTTP(rec, req)
			// Every response carries Cache-Status but one the cache generates
			// itself without a stored response (RFC 9211 §2: "An intermediary
			// SHOULD NOT append a Cache-Status member to responses that it
			// generates locally"): here, the only-if-cached 504.
			local := rec.Code == http.StatusGatewayTimeout && calls.Load() == before
			if rec.Header().Get("Cache-Status") == "" && !local {
				t.Errorf("GET %s: no Cache-Status (status %d)", path, rec.Code)
			}
			// A hit's Age is the cache's own (RFC 9111 §4: "a cache MUST
			// generate an Age header field … replacing any present"); a
			// forwarded response may carry the origin's Age as received, so it
			// is checked only when the origin's was valid.
			hit := strings.Contains(rec.Header().Get("Cache-Status"), "; hit")
			if a := rec.Header().Values("Age"); len(a) > 0 && (hit || validAge(age)) {
				if n, err := strconv.ParseInt(a[0], 10, 64); err != nil || n < 0 || len(a) > 1 {
					t.Errorf("GET %s: Age %q is not one non-negative integer", path, a)
				}
			}
			return rec
		}
		serve("/a", "Cache-Control", reqCC, "Accept", "text/html")
		clock.Advance(time.Duration(pause%4000) * time.Second / 10)
		before := calls.Load()
		serve("/a", "Accept", "text/html")
		if mark != "" && calls.Load() == before {
			t.Errorf("a %s response (Cache-Control %q) was served to a second request", mark, cc)
		}
		for _, p := range []string{"/b", "/c", "/d", "/e"} { // fill past MaxBytes
			serve(p)
		}
		if s := c.Stats(); s.StoredBytes > maxBytes {
			t.Errorf("StoredBytes %d > MaxBytes %d", s.StoredBytes, maxBytes)
		}
	})
}
