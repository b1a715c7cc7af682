// Package edgeh builds ladder's edge cache (cache/edge) for the benchmarks
// in bench/: BenchmarkEdge, BenchmarkTelemetry's edge-hit path,
// cmd/edgebench and cmd/cacheconf all get it from New, so each measures
// the same configuration (the defaults).
package edgeh

import (
	"net/http"

	"github.com/ladder-go/ladder/cache/edge"
	"go.opentelemetry.io/otel/metric"
)

// Name is what the benchmark tables call the cache New builds.
const Name = "cache/edge with default Options"

// Closer is what New returns beside the handler (*edge.Cache).
type Closer interface{ Close() error }

// New returns ladder's edge cache in front of origin, recording through mp.
func New(origin http.Handler, mp metric.MeterProvider) (http.Handler, Closer, error) {
	c, err := edge.New(origin, edge.Options{MeterProvider: mp})
	if err != nil {
		return nil, nil, err
	}
	return c, c, nil
}
