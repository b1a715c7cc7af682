package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/ladder-go/ladder/session"
)

// BenchmarkHandler measures the middleware over the memory store: a request that reads a
// value and one that also writes it, with telemetry off (noop) and on (OTel SDK).
func BenchmarkHandler(b *testing.B) {
	providers := map[string]metric.MeterProvider{
		"otel-off": noop.NewMeterProvider(),
		"otel-on":  sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())),
	}
	for _, tel := range []string{"otel-off", "otel-on"} {
		for _, write := range []bool{false, true} {
			name := tel + "/read"
			if write {
				name = tel + "/write"
			}
			b.Run(name, func(b *testing.B) {
				st, err := session.NewMemoryStore(session.MemoryOptions{})
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				m, err := session.New(st, session.Options{MeterProvider: providers[tel]})
				if err != nil {
					b.Fatal(err)
				}
				h := m.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
					s := session.From(r.Context())
					n, _ := session.Get[int](s, "n")
					if write || n == 0 {
						_ = session.Put(s, "n", n+1)
					}
				}))
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
				cookie := rec.Result().Cookies()[0]
				req := httptest.NewRequest("GET", "/", nil)
				req.AddCookie(cookie)
				w := discard{h: http.Header{}}
				b.ReportAllocs()
				for b.Loop() {
					h.ServeHTTP(w, req)
				}
			})
		}
	}
}

type discard struct{ h http.Header }

func (d discard) Header() http.Header       { return d.h }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
