package observe_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ladder-go/ladder/observe"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// The advisor reads what the packages already emit from an in-process
// reader and names the bottleneck with the numbers behind it.
func ExampleAdvisor() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader() // Telemetry.Reader, when Setup built the provider
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(ctx)

	// What package replica records: one replica far behind.
	lag, _ := mp.Meter("github.com/ladder-go/ladder/replica").Float64Gauge("ladder.replica.lag")
	lag.Record(ctx, 9.5, metric.WithAttributes(attribute.String("ladder.replica.node", "r1")))

	adv, _ := observe.NewAdvisor(reader, observe.AdvisorOptions{})
	rep, _ := adv.Evaluate(ctx)
	for _, a := range rep.Advice {
		fmt.Printf("%s → %s (%s)\n", a.Bottleneck, a.Move, a.Evidence[0])
	}
	// Output:
	// replicas lag behind the primary → send fewer reads to replicas (read-your-writes on the primary) or give the replica more capacity (replica.lag 9.5 ≥ 5)
}

// The same SLO evaluated in process and as Prometheus rules.
func ExampleSLO() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	slo, _ := observe.NewSLO("checkout", observe.SLOOptions{Objective: 0.999, Now: func() time.Time { return now }})
	for range 60 { // an hour at 1 000 requests a minute, 2 % failing
		slo.Add(1000, 20)
		now = now.Add(time.Minute)
	}
	st := slo.Status()
	fmt.Printf("%s: %s; 1h burn %.0f×\n", st.Name, st.Firing, st.Windows[0].LongBurn)

	rules, _ := observe.PrometheusRules(observe.PromSLO{
		Name: "checkout", Objective: 0.999,
		ErrorsQuery: `sum(rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[$window]))`,
		TotalQuery:  `sum(rate(http_server_request_duration_seconds_count[$window]))`,
	})
	fmt.Println(strings.Count(string(rules), "- alert:"), "alerts,", strings.Count(string(rules), "- record:"), "recording rules")
	// Output:
	// checkout: page; 1h burn 20×
	// 3 alerts, 10 recording rules
}

// The status page belongs on an admin listener, not the public one.
func ExampleNewPage() {
	reader := sdkmetric.NewManualReader()
	page, err := observe.NewPage(reader, observe.PageOptions{
		Title: "shop",
		// Actions need an authorisation func; without one they get 403.
		Authorize: func(r *http.Request) bool {
			_, pass, ok := r.BasicAuth()
			return ok && pass == "operator-secret" // use a real check
		},
	})
	if err != nil {
		panic(err)
	}
	_ = page.Handle(observe.ActionRetryDead, "Retry dead", func(ctx context.Context, queue string) error {
		return nil // e.g. the queue backend's admin call to requeue the dead letters
	})
	admin := http.NewServeMux()
	admin.Handle("/status", page)
	srv := &http.Server{Addr: "127.0.0.1:9090", Handler: admin} // loopback or an internal port
	_ = srv                                                     // go srv.ListenAndServe(); go page.Run(ctx)
}
