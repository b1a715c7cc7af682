package replica_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/replica"
)

// DSNs swapped by mistake (the primary's given as the replica and the
// reverse): with FailoverOff, Check reports it; in follow mode the router
// logs it and sends writes to the node that says it is the primary.
func TestSwappedDSNsAreReportedAndFollowed(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		swapped := func(o replica.Options) *replica.Router {
			r, err := replica.New(c.db("r1"), []replica.Replica{{Name: "actually-primary", DB: c.db("primary")}}, o)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			settle()
			return r
		}
		off := swapped(replica.Options{Positions: fakePositions{}, Failover: replica.FailoverOff, Logger: quiet})
		if err := off.Check(context.Background()); !errors.Is(err, replica.ErrRoleMismatch) {
			t.Fatalf("Check: %v, want ErrRoleMismatch", err)
		}
		var logs bytes.Buffer
		r := swapped(replica.Options{Positions: fakePositions{}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		set(t, context.Background(), r, "k", "v")
		if _, w := c.counts("primary"); w != 1 {
			t.Fatal("the write did not reach the node that says it is the primary")
		}
		if !strings.Contains(logs.String(), "writes moved") || !strings.Contains(logs.String(), "to=actually-primary") {
			t.Fatalf("the move is not logged: %s", logs.String())
		}
		if err := r.Check(context.Background()); err != nil {
			t.Fatalf("Check after following: %v", err)
		}
	})
}

// A hung replica (it accepts nothing and answers nothing): reads on it end
// with their context, the monitor's probe times out and takes it out, and
// reads go to the other replica.
func TestHungReplicaLeavesAfterOneProbe(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1", "r2")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, ReadYourWrites: replica.RYWOff,
			ProbeInterval: time.Second, ProbeTimeout: 200 * time.Millisecond}, "r1", "r2")
		c.do("r1", func(n *fakeNode) { n.stall = true })
		nextRound(time.Second + 200*time.Millisecond)
		if serving(r)["r1"] {
			t.Fatal("the hung replica is still in rotation after a timed-out probe")
		}
		for range 4 {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			get(t, ctx, r, "k")
			cancel()
		}
		if rr, _ := c.counts("r2"); rr != 4 {
			t.Fatalf("r2 served %d of 4 reads", rr)
		}
	})
}

// Queries are counted by role and reads sent to the primary by reason.
func TestMetricsCountQueriesAndFallbacks(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		reader := metric.NewManualReader()
		mp := metric.NewMeterProvider(metric.WithReader(reader))
		defer mp.Shutdown(context.Background())
		c := newCluster(t, "r1")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, ReadYourWrites: replica.RYWCausalWait,
			WaitTimeout: 100 * time.Millisecond, MeterProvider: mp}, "r1")
		ctx, _ := session()
		set(t, ctx, r, "k", "v")                                  // primary
		get(t, ctx, r, "k")                                       // waits, times out: primary (wait_timeout)
		get(t, context.Background(), r, "k")                      // replica
		get(t, replica.WithPrimary(context.Background()), r, "k") // primary, marked: not a fallback

		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		waits := map[string]uint64{}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				switch m.Name {
				case "ladder.replica.queries":
					for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
						v, _ := dp.Attributes.Value(replica.AttrRole)
						got["queries/"+v.AsString()] = dp.Value
					}
				case "ladder.replica.fallbacks":
					for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
						v, _ := dp.Attributes.Value(replica.AttrReason)
						got["fallbacks/"+v.AsString()] = dp.Value
					}
				case "ladder.replica.causal.wait.duration":
					for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
						v, _ := dp.Attributes.Value(replica.AttrOutcome)
						waits[v.AsString()] = dp.Count
					}
				}
			}
		}
		want := map[string]int64{"queries/primary": 3, "queries/replica": 1, "fallbacks/wait_timeout": 1,
			"fallbacks/pinned": 0, "fallbacks/no_replica": 0, "fallbacks/not_caught_up": 0, "fallbacks/wait_error": 0}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %d, want %d (all: %v)", k, got[k], v, got)
			}
		}
		if waits["timeout"] != 1 {
			t.Errorf("waits %v, want one timeout", waits)
		}
	})
}

// panicking is a Positions whose every method panics.
type panicking struct{}

func (panicking) WritePosition(context.Context, replica.Querier) (replica.Position, error) {
	panic("boom")
}
func (panicking) State(context.Context, replica.Querier) (replica.NodeState, error) { panic("boom") }
func (panicking) Reached(context.Context, replica.Querier, replica.Position) (bool, error) {
	panic("boom")
}
func (panicking) Promote(context.Context, replica.Querier) error { panic("boom") }

// A Positions that panics degrades the router, never the caller or the
// monitor: writes succeed and pin their session, reads go to the primary,
// Check reports ErrPanic, and the panic is logged once.
func TestPanickingPositionsDegradesOnly(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		var logs bytes.Buffer
		r := newRouter(t, c, replica.Options{Positions: panicking{}, Failover: replica.FailoverCoordinate,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))}, "r1")
		for range 4 {
			nextRound(time.Second)
		}
		ctx, _ := session()
		set(t, ctx, r, "k", "v")
		if got := get(t, ctx, r, "k"); got != "v" {
			t.Fatalf("read %q, want v from the primary", got)
		}
		if err := r.Check(context.Background()); !errors.Is(err, replica.ErrPanic) {
			t.Fatalf("Check: %v, want ErrPanic", err)
		}
		if n := strings.Count(logs.String(), "Positions panicked"); n != 1 {
			t.Fatalf("panic logged %d times, want once:\n%s", n, logs.String())
		}
	})
}
