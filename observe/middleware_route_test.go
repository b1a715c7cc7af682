package observe_test

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ladder-go/ladder/observe"
)

type userKey struct{}

// Middleware between Wrap and the mux usually calls r.WithContext (auth,
// timeouts): the mux then sets Pattern on a copy Wrap never sees. Route,
// around the mux, carries the pattern back.
func TestMiddlewareRouteSurvivesMiddlewareThatCopiesTheRequest(t *testing.T) {
	r := newRig(t, observe.MiddlewareOptions{})
	mux := r.mw.Route(testMux())
	auth := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mux.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), userKey{}, "user")))
	})
	do(t, r.mw.Wrap(auth), "GET", "/items/7")
	do(t, r.mw.Wrap(auth), "GET", "/nowhere")
	hist := r.collect(t)["http.server.request.duration"].Data.(metricdata.Histogram[float64])
	routes := map[string]bool{}
	for _, dp := range hist.DataPoints {
		v, _ := dp.Attributes.Value("http.route")
		routes[v.AsString()] = true
	}
	if !routes["/items/{id}"] || len(routes) != 2 {
		t.Fatalf("routes %v, want /items/{id} and the unknown one", routes)
	}
	spans := r.spans.Ended()
	if len(spans) != 2 || spans[0].Name() != "GET /items/{id}" {
		t.Errorf("span name %q, want GET /items/{id}", spans[0].Name())
	}
	// Outside Wrap, Route is a no-op.
	do(t, mux, "GET", "/items/7")
}
