package replica_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/replica"
)

var key = bytes.Repeat([]byte("0123456789abcdef"), 2)

// A user's write in one request is read back in the next, which carries
// the cookie the first set, even on another instance sharing the key.
func TestMiddlewareCarriesWritesAcrossRequests(t *testing.T) {
	for _, carrier := range []string{"cookie", "header"} {
		t.Run(carrier, func(t *testing.T) {
			testenv.Bubble(t, func(t *testing.T) {
				c := newCluster(t, "r1")
				opts := replica.Options{Positions: fakePositions{}, ReadYourWrites: replica.RYWCausalFast, TokenKey: key}
				a := newRouter(t, c, opts, "r1")
				b := newRouter(t, c, opts, "r1") // another instance
				write := a.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
					if _, err := a.ExecContext(req.Context(), "SET", "k", "v"); err != nil {
						t.Error(err)
					}
					w.WriteHeader(http.StatusNoContent)
				}))
				var read string
				readH := b.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
					read = get(t, req.Context(), b, "k")
				}))
				rec := httptest.NewRecorder()
				write.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
				req := httptest.NewRequest("GET", "/", nil)
				if carrier == "cookie" {
					cookies := rec.Result().Cookies()
					if len(cookies) != 1 || !cookies[0].HttpOnly {
						t.Fatalf("cookies %v, want one HttpOnly token", cookies)
					}
					req.AddCookie(cookies[0])
				} else {
					req.Header.Set("Ladder-Read-After", rec.Header().Get("Ladder-Read-After"))
				}
				readH.ServeHTTP(httptest.NewRecorder(), req)
				if read != "v" {
					t.Fatalf("next request read %q, want v", read)
				}
				// Without the token the same read is stale: the fake replica lags.
				readH.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
				if read != "" {
					t.Fatalf("read %q without the token; the replica should be stale", read)
				}
			})
		})
	}
}

// A request that wrote nothing gets no token.
func TestMiddlewareSetsNoTokenWithoutWrites(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, TokenKey: key}, "r1")
		rec := httptest.NewRecorder()
		r.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			get(t, req.Context(), r, "k")
			_, _ = w.Write([]byte("ok"))
		})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if h := rec.Header(); h.Get("Set-Cookie") != "" || h.Get("Ladder-Read-After") != "" {
			t.Fatalf("token set without a write: %v", h)
		}
	})
}

// A malformed, forged or expired token is never trusted: the read goes to
// the primary and the rejection is counted by reason.
func TestBadTokensReadThePrimary(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		reader := metric.NewManualReader()
		mp := metric.NewMeterProvider(metric.WithReader(reader))
		defer mp.Shutdown(context.Background())
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, ReadYourWrites: replica.RYWCausalFast, TokenKey: key, TokenTTL: time.Minute, MeterProvider: mp}, "r1")
		other := newRouter(t, c, replica.Options{Positions: fakePositions{}, TokenKey: bytes.Repeat([]byte("x"), 16)}, "r1")

		s := new(replica.Session)
		set(t, replica.NewContext(context.Background(), s), r, "k", "v")
		good := r.Token(s)
		s2 := new(replica.Session)
		set(t, replica.NewContext(context.Background(), s2), other, "k", "v")
		forged := other.Token(s2)
		time.Sleep(time.Minute)
		expired := good

		for _, tok := range []string{"garbage", forged, expired} {
			pr0, _ := c.counts("primary")
			get(t, replica.NewContext(context.Background(), r.SessionFromToken(tok)), r, "k")
			if pr, _ := c.counts("primary"); pr != pr0+1 {
				t.Errorf("read with token %q did not go to the primary", tok)
			}
		}
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if m.Name != "ladder.replica.tokens.rejected" {
					continue
				}
				for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
					v, _ := dp.Attributes.Value("ladder.replica.reason")
					got[v.AsString()] = dp.Value
				}
			}
		}
		if got["malformed"] != 1 || got["forged"] != 1 || got["expired"] != 1 {
			t.Fatalf("rejections counted %v, want one of each", got)
		}
	})
}

// FuzzSessionFromToken: any token a client sends is safe to parse, and a
// session from a token that is not one of ours reads from the primary.
func FuzzSessionFromToken(f *testing.F) {
	c := newCluster(f, "r1")
	r, err := replica.New(c.db("primary"), c.replicas("r1"), replica.Options{Positions: fakePositions{}, TokenKey: key, Logger: quiet, ProbeInterval: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = r.Close() })
	s := new(replica.Session)
	set2(f, replica.NewContext(context.Background(), s), r)
	f.Add(r.Token(s))
	f.Add("x")
	f.Fuzz(func(t *testing.T, tok string) {
		s := r.SessionFromToken(tok)
		if tok == "" || s.Position() != 0 {
			return // empty, or a genuine token of ours
		}
		pr0, _ := c.counts("primary")
		var v string
		_ = r.QueryRowContext(replica.NewContext(context.Background(), s), "GET", "k").Scan(&v)
		if pr, _ := c.counts("primary"); pr != pr0+1 {
			t.Fatalf("token %q not trusted, but the read did not go to the primary", tok)
		}
	})
}

func set2(t testing.TB, ctx context.Context, r *replica.Router) {
	if _, err := r.ExecContext(ctx, "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
}

// A rejected token's cookie is cleared, so a client does not send it on
// every request; a valid pin without a new write is left alone.
func TestMiddlewareClearsARejectedCookieOnly(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		r := newRouter(t, c, replica.Options{ReadYourWrites: replica.RYWTimePin, TokenKey: key}, "r1")
		h := r.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {}))
		s := new(replica.Session)
		set(t, replica.NewContext(context.Background(), s), r, "k", "v")
		for _, tc := range []struct {
			tok     string
			cleared bool
		}{{"forged", true}, {r.Token(s), false}} {
			req := httptest.NewRequest("GET", "/", nil)
			req.AddCookie(&http.Cookie{Name: "ladder_rw", Value: tc.tok})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			cleared := len(rec.Result().Cookies()) == 1 && rec.Result().Cookies()[0].MaxAge < 0
			if cleared != tc.cleared {
				t.Errorf("token %q: cleared %v, want %v (%v)", tc.tok, cleared, tc.cleared, rec.Result().Cookies())
			}
		}
	})
}
