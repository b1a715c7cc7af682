package replicatest_test

import (
	"testing"

	"github.com/ladder-go/ladder/replica/replicatest"
)

// newTarget is a fresh Pair, closed when the test ends.
func newTarget(t *testing.T) replicatest.Target {
	p := newPair(t, replicatest.Options{})
	return replicatest.Target{Positions: p, Primary: p.Primary(), Replica: p.Replica(),
		Pause: func(testing.TB) { p.Pause() }, Resume: func(testing.TB) { p.Resume() }}
}

func newPair(t testing.TB, opts replicatest.Options) *replicatest.Pair {
	t.Helper()
	p, err := replicatest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

func TestPairConformance(t *testing.T) { replicatest.RunPositions(t, newTarget) }

func TestPairPromoteConformance(t *testing.T) { replicatest.RunPromote(t, newTarget) }
