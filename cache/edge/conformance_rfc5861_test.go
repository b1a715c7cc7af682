package edge_test

import (
	"testing"

	"github.com/ladder-go/ladder/cache/edge"
	"github.com/ladder-go/ladder/cache/edge/edgetest"
)

// TestConformanceRFC5861 runs the RFC 5861 (stale-while-revalidate and stale-if-error) cases of edgetest
// against the edge, as subtests RFC5861/<section>/<case ID>.
func TestConformanceRFC5861(t *testing.T) {
	edgetest.Run(t, edgetest.CasesFor("5861"), conformanceTarget(edge.Options{}))
}
