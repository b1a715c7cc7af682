package edge_test

import (
	"testing"

	"github.com/ladder-go/ladder/cache/edge"
	"github.com/ladder-go/ladder/cache/edge/edgetest"
)

// TestConformanceRFC9211 runs the RFC 9211 (Cache-Status) cases of edgetest
// against the edge, as subtests RFC9211/<section>/<case ID>.
func TestConformanceRFC9211(t *testing.T) {
	edgetest.Run(t, edgetest.CasesFor("9211"), conformanceTarget(edge.Options{}))
}
