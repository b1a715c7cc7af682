package cache_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/internal/testenv"
)

func joinedEvents(s sdktrace.ReadOnlySpan) int {
	n := 0
	for _, e := range s.Events() {
		if e.Name == "cache.load.joined" {
			n++
		}
	}
	return n
}

func linksTo(s sdktrace.ReadOnlySpan, sc trace.SpanContext) bool {
	for _, l := range s.Links() {
		if l.SpanContext.TraceID() == sc.TraceID() && l.SpanContext.SpanID() == sc.SpanID() {
			return true
		}
	}
	return false
}

// A caller that joins a load another caller started gets a
// "cache.load.joined" event and a link to the loading caller's span, by Get
// and by GetMany; the loading caller and a later hit get neither.
func TestJoinedLoadLinksTheLeadersSpan(t *testing.T) {
	for _, many := range []bool{false, true} {
		name := "Get"
		if many {
			name = "GetMany"
		}
		t.Run(name, func(t *testing.T) {
			testenv.Bubble(t, func(t *testing.T) {
				rec := tracetest.NewSpanRecorder()
				tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
				defer tp.Shutdown(context.Background())
				tr := tp.Tracer("test")
				a := newAside(t, cache.Options{TTL: time.Minute, Name: "users"})
				src := &source{gate: make(chan struct{})}

				lctx, leader := tr.Start(context.Background(), "leader")
				fctx, follower := tr.Start(context.Background(), "follower")
				hctx, hit := tr.Start(context.Background(), "hit")
				var wg sync.WaitGroup
				wg.Go(func() {
					if _, err := a.Get(lctx, "k", src.load); err != nil {
						t.Error(err)
					}
				})
				synctest.Wait() // the leader's load runs
				wg.Go(func() {
					var err error
					if many {
						_, err = a.GetMany(fctx, []string{"k"}, func(ctx context.Context, keys []string) (map[string]int, error) {
							t.Error("GetMany loaded a key whose load was in flight")
							return nil, nil
						})
					} else {
						_, err = a.Get(fctx, "k", src.load)
					}
					if err != nil {
						t.Error(err)
					}
				})
				synctest.Wait() // the follower waits for the load
				close(src.gate)
				wg.Wait()
				if _, err := a.Get(hctx, "k", src.load); err != nil {
					t.Fatal(err)
				}
				leader.End()
				follower.End()
				hit.End()

				spans := map[string]sdktrace.ReadOnlySpan{}
				for _, s := range rec.Ended() {
					spans[s.Name()] = s
				}
				f := spans["follower"]
				if joinedEvents(f) != 1 || !linksTo(f, leader.SpanContext()) {
					t.Errorf("follower: %d cache.load.joined events, link to the leader %v; want 1 and true (links %v)",
						joinedEvents(f), linksTo(f, leader.SpanContext()), f.Links())
				}
				for _, n := range []string{"leader", "hit"} {
					if s := spans[n]; joinedEvents(s) != 0 || len(s.Links()) != 0 {
						t.Errorf("%s: %d joined events and %d links, want none", n, joinedEvents(s), len(s.Links()))
					}
				}
			})
		})
	}
}
