package edge_test

import (
	"testing"

	"github.com/ladder-go/ladder/cache/edge"
	"github.com/ladder-go/ladder/cache/edge/edgetest"
)

// TestConformanceRFC9213 runs the RFC 9213 (Targeted HTTP Cache Control)
// cases against the edge with its default target list (CDN-Cache-Control),
// and the targeted-field cases for a configured field placed first.
func TestConformanceRFC9213(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		edgetest.Run(t, edgetest.CasesFor("9213"), conformanceTarget(edge.Options{}))
	})
	t.Run("configured", func(t *testing.T) {
		edgetest.Run(t, edgetest.TargetedCases("Ladder-Cache-Control"),
			conformanceTarget(edge.Options{Targeted: []string{"Ladder-Cache-Control", "CDN-Cache-Control"}}))
	})
}
