package edge_test

import (
	"testing"

	"github.com/ladder-go/ladder/cache/edge"
	"github.com/ladder-go/ladder/cache/edge/edgetest"
)

// conformanceTarget builds, per case, an edge cache in front of a scripted
// origin, both on one fake clock, with Cache-Status expectations checked.
func conformanceTarget(opts edge.Options) func(t *testing.T) edgetest.Target {
	return func(t *testing.T) edgetest.Target {
		clock := edgetest.NewClock(edgetest.Start)
		origin := edgetest.NewOrigin(clock)
		opts := opts
		opts.Now = clock.Now
		c, err := edge.New(origin, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		name := opts.Name
		if name == "" {
			name = "ladder"
		}
		return edgetest.Target{Handler: c, Origin: origin, Clock: clock, CacheStatus: name}
	}
}
