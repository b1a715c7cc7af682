package observe

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// A web tier under a load that rises, flaps at the threshold, and falls:
// the scaler adds a server only after the load held, waits out its
// cool-down, ignores flapping between the thresholds, and removes one when
// the load stays low.
func TestScalerHysteresisAndCooldown(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		ctx := context.Background()
		rd := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(rd))
		defer mp.Shutdown(ctx)
		g, _ := mp.Meter("t").Int64Gauge(instLBInflight)
		servers := 2
		set := func(perBackend int64) {
			for i := range servers {
				g.Record(ctx, perBackend, metric.WithAttributes(keyLBBackend.Int(i)))
			}
		}
		var ups, downs int
		a, err := NewAdvisor(rd, AdvisorOptions{
			Rules: []Rule{DefaultRules[7]}, // web-tier: inflight/backend ≥ 32 with ≥ 2 backends
			Scalers: []Scaler{{
				Name: "web", Rule: "web-tier", Signal: SigLBInflight, Below: 8,
				Sustain: 3, Cooldown: time.Minute,
				Up:   func(context.Context) error { ups++; servers++; return nil },
				Down: func(context.Context) error { downs++; return errors.New("pool refused") },
			}},
			Logger: discardLogger(),
		})
		if err != nil {
			t.Fatal(err)
		}
		step := func(load int64) []ActionEvent {
			t.Helper()
			set(load)
			rep, err := a.Evaluate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Second)
			return rep.Actions
		}
		// Two saturated evaluations: not sustained yet.
		for range 2 {
			if ev := step(50); len(ev) != 0 {
				t.Fatalf("acted after %d evaluations: %+v", 2, ev)
			}
		}
		ev := step(50)
		if len(ev) != 1 || ev[0].Direction != "up" || ups != 1 || len(ev[0].Evidence) == 0 {
			t.Fatalf("third saturated evaluation: %+v (ups %d)", ev, ups)
		}
		// Still saturated, but inside the cool-down (60 s = 6 steps).
		for i := range 5 {
			if ev := step(50); len(ev) != 0 {
				t.Fatalf("acted %d s into the cool-down: %+v", (i+1)*10, ev)
			}
		}
		if ev := step(50); len(ev) != 1 || ups != 2 {
			t.Fatalf("after the cool-down: %+v (ups %d)", ev, ups)
		}
		// Flapping between Below (8) and the rule's 32: neither way.
		time.Sleep(time.Minute)
		for _, l := range []int64{20, 40, 20, 40, 20, 40, 20} {
			if ev := step(l); len(ev) != 0 && ev[0].Direction == "down" {
				t.Fatalf("scaled in at load %d", l)
			}
		}
		upsBefore := ups
		for _, l := range []int64{20, 20, 20, 20} {
			step(l)
		}
		if ups != upsBefore || downs != 0 {
			t.Fatalf("load between the thresholds moved the pool: ups %d→%d downs %d", upsBefore, ups, downs)
		}
		// Low for three evaluations: down; its error is reported.
		var got []ActionEvent
		for range 3 {
			got = append(got, step(2)...)
		}
		if len(got) != 1 || got[0].Direction != "down" || got[0].Err == nil || downs != 1 {
			t.Fatalf("low load: %+v (downs %d)", got, downs)
		}
	})
}

func TestScalerPanicIsReported(t *testing.T) {
	ctx := context.Background()
	rd := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(rd))
	defer mp.Shutdown(ctx)
	g, _ := mp.Meter("t").Float64Gauge(instShardSkew)
	g.Record(ctx, 9)
	a, err := NewAdvisor(rd, AdvisorOptions{
		Rules:   []Rule{DefaultRules[5]},
		Scalers: []Scaler{{Name: "split", Rule: "shard-hot", Sustain: 1, Up: func(context.Context) error { panic("oops") }}},
		Logger:  discardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.Evaluate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Actions) != 1 || !errors.Is(rep.Actions[0].Err, ErrPanic) {
		t.Fatalf("actions %+v, want one failed with ErrPanic", rep.Actions)
	}
}

func TestAdvisorOptionsInvalid(t *testing.T) {
	up := func(context.Context) error { return nil }
	for name, o := range map[string]AdvisorOptions{
		"negative CPUs":    {CPUs: -1},
		"rule without ID":  {Rules: []Rule{{When: []Condition{{SigCPU, Above, 1}}}}},
		"duplicate rule":   {Rules: []Rule{DefaultRules[0], DefaultRules[0]}},
		"empty rule":       {Rules: []Rule{{ID: "x"}}},
		"scaler no Up":     {Scalers: []Scaler{{Name: "s", Rule: "r"}}},
		"down, no signal":  {Scalers: []Scaler{{Name: "s", Rule: "r", Up: up, Down: up}}},
		"negative sustain": {Scalers: []Scaler{{Name: "s", Rule: "r", Up: up, Sustain: -1}}},
		"negative cool":    {Scalers: []Scaler{{Name: "s", Rule: "r", Up: up, Cooldown: -1}}},
	} {
		_, err := NewAdvisor(nopCollector{}, o)
		if !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: %v, want ErrInvalidOptions", name, err)
		}
	}
}

func TestAdvisorRunEvaluatesUntilCancelled(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		rd := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(rd))
		defer mp.Shutdown(context.Background())
		a, _ := NewAdvisor(rd, AdvisorOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- a.Run(ctx, time.Second) }()
		time.Sleep(2500 * time.Millisecond)
		first := a.Last().At
		time.Sleep(time.Second)
		if !a.Last().At.After(first) {
			t.Error("Run did not evaluate every interval")
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v", err)
		}
		if err := a.Run(context.Background(), 0); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("interval 0: %v", err)
		}
	})
}
