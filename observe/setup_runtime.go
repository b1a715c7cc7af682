package observe

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// scope is the instrumentation scope of everything observe records.
const scope = "github.com/ladder-go/ladder/observe"

var (
	attrCPUUser   = metric.WithAttributeSet(attribute.NewSet(attribute.String("cpu.mode", "user")))
	attrCPUSystem = metric.WithAttributeSet(attribute.NewSet(attribute.String("cpu.mode", "system")))
)

// RegisterRuntimeMetrics adds the saturation signals of one process to mp,
// read at collection time (nothing runs between collections), under the
// semantic-convention names: go.goroutine.count, go.memory.used,
// go.memory.gc.goal, go.processor.limit and process.cpu.time (by cpu.mode,
// where the platform reports it). [Setup] calls it when
// SetupOptions.RuntimeMetrics is set; Unregister the result to stop.
func RegisterRuntimeMetrics(mp metric.MeterProvider) (metric.Registration, error) {
	m := mp.Meter(scope)
	gor, err1 := m.Int64ObservableUpDownCounter("go.goroutine.count", metric.WithUnit("{goroutine}"),
		metric.WithDescription("Count of live goroutines."))
	mem, err2 := m.Int64ObservableUpDownCounter("go.memory.used", metric.WithUnit("By"),
		metric.WithDescription("Memory used by the Go runtime."))
	goal, err3 := m.Int64ObservableUpDownCounter("go.memory.gc.goal", metric.WithUnit("By"),
		metric.WithDescription("Heap size target for the end of the GC cycle."))
	procs, err4 := m.Int64ObservableUpDownCounter("go.processor.limit", metric.WithUnit("{thread}"),
		metric.WithDescription("The number of OS threads that can execute user-level Go code simultaneously (GOMAXPROCS)."))
	cpu, err5 := m.Float64ObservableCounter("process.cpu.time", metric.WithUnit("s"),
		metric.WithDescription("Total CPU seconds broken down by different CPU modes."))
	for _, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			return nil, fmt.Errorf("observe: runtime metrics: %w", err)
		}
	}
	samples := []metrics.Sample{
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/gc/gogc:percent"}, // read to know whether a goal exists
		{Name: "/gc/heap/goal:bytes"},
	}
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		metrics.Read(samples)
		o.ObserveInt64(gor, int64(runtime.NumGoroutine()))
		if samples[0].Value.Kind() == metrics.KindUint64 && samples[1].Value.Kind() == metrics.KindUint64 {
			o.ObserveInt64(mem, int64(samples[0].Value.Uint64()-samples[1].Value.Uint64()))
		}
		if samples[3].Value.Kind() == metrics.KindUint64 {
			o.ObserveInt64(goal, int64(samples[3].Value.Uint64()))
		}
		o.ObserveInt64(procs, int64(runtime.GOMAXPROCS(0)))
		if user, sys, ok := cpuTime(); ok {
			o.ObserveFloat64(cpu, user, attrCPUUser)
			o.ObserveFloat64(cpu, sys, attrCPUSystem)
		}
		return nil
	}, gor, mem, goal, procs, cpu)
	if err != nil {
		return nil, fmt.Errorf("observe: runtime metrics: %w", err)
	}
	return reg, nil
}
