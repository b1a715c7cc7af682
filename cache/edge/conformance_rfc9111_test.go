package edge_test

import (
	"testing"

	"github.com/ladder-go/ladder/cache/edge"
	"github.com/ladder-go/ladder/cache/edge/edgetest"
)

// TestConformanceRFC9111 runs the RFC 9111 (HTTP Caching) cases of edgetest
// against the edge, as subtests RFC9111/<section>/<case ID>.
func TestConformanceRFC9111(t *testing.T) {
	edgetest.Run(t, edgetest.CasesFor("9111"), conformanceTarget(edge.Options{}))
}
