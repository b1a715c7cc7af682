package queue

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// messaging.process.duration samples a done attempt when it starts, so
// slow jobs are kept as often as fast ones: a sample decided when the job
// ends (by its start time) refuses every job that started before the
// limiter filled up meanwhile, which above recordRate is every job slower
// than the burst, and the histogram's tail goes missing.
func TestProcessDurationSampledAtStart(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		defer mp.Shutdown(context.Background())
		m, _ := NewMemory(MemoryOptions{})
		c, _ := NewClient(m, ClientOptions{})
		running, release := make(chan struct{}), make(chan struct{})
		h := &Handlers{}
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
			close(running)
			<-release
			return nil
		}, HandlerOptions{})
		r := start(t, m, h, WorkerOptions{MeterProvider: mp})
		enqueue(t, c, argsA{}, EnqueueOptions{})
		<-running
		// While the slow job runs, other jobs fill the limiter.
		q := r.w.queues[0]
		for q.tel.sample(r.w.mono()) {
		}
		time.Sleep(time.Minute) // the job takes a minute
		close(release)
		synctest.Wait()
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		var n uint64
		for _, sm := range rm.ScopeMetrics {
			for _, met := range sm.Metrics {
				if h, ok := met.Data.(metricdata.Histogram[float64]); ok && met.Name == "messaging.process.duration" {
					for _, p := range h.DataPoints {
						n += p.Count
					}
				}
			}
		}
		if n != 1 {
			t.Errorf("messaging.process.duration counted %d attempts, want the slow one (sampled when it started)", n)
		}
	})
}
