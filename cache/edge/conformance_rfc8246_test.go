package edge_test

import (
	"testing"

	"github.com/ladder-go/ladder/cache/edge"
	"github.com/ladder-go/ladder/cache/edge/edgetest"
)

// TestConformanceRFC8246 runs the RFC 8246 (immutable) cases of edgetest
// against the edge, as subtests RFC8246/<section>/<case ID>.
func TestConformanceRFC8246(t *testing.T) {
	edgetest.Run(t, edgetest.CasesFor("8246"), conformanceTarget(edge.Options{}))
}
