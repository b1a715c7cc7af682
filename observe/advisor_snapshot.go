package observe

import (
	"context"
	"fmt"
	"math"
	"sort"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Collector is what the advisor and the status page read metrics from: an
// in-process reader such as sdkmetric.NewManualReader, registered on the
// MeterProvider the packages record to (Telemetry.Reader does both).
type Collector interface {
	Collect(ctx context.Context, rm *metricdata.ResourceMetrics) error
}

// Point is one series of one instrument at one collection, whatever the
// instrument's kind: a counter's or gauge's value, or a histogram's count
// and sum (Value is the count then) with its buckets.
type Point struct {
	Name   string
	Attrs  attribute.Set
	Value  float64
	Sum    float64   // histograms only
	Bounds []float64 // histograms only
	Counts []uint64  // histograms only
	Hist   bool
}

// Snapshot is one collection flattened to points, keyed by instrument name.
// Readers key on names, not kinds, so an instrument that changes kind (a
// counter made observable) keeps feeding the same signals.
type Snapshot struct {
	points map[string][]Point
}

// Collect reads c once into a snapshot.
func Collect(ctx context.Context, c Collector) (*Snapshot, error) {
	var rm metricdata.ResourceMetrics
	if err := c.Collect(ctx, &rm); err != nil {
		return nil, fmt.Errorf("observe: collect: %w", err)
	}
	return snapshotOf(&rm), nil
}

func snapshotOf(rm *metricdata.ResourceMetrics) *Snapshot {
	s := &Snapshot{points: map[string][]Point{}}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			s.add(m)
		}
	}
	return s
}

func (s *Snapshot) add(m metricdata.Metrics) {
	put := func(a attribute.Set, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return // a callback's 0/0: no signal, rule or chart may carry it
		}
		s.points[m.Name] = append(s.points[m.Name], Point{Name: m.Name, Attrs: a, Value: v})
	}
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			put(p.Attributes, float64(p.Value))
		}
	case metricdata.Sum[float64]:
		for _, p := range d.DataPoints {
			put(p.Attributes, p.Value)
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			put(p.Attributes, float64(p.Value))
		}
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			put(p.Attributes, p.Value)
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			s.points[m.Name] = append(s.points[m.Name], Point{Name: m.Name, Attrs: p.Attributes,
				Value: float64(p.Count), Sum: p.Sum, Bounds: p.Bounds, Counts: p.BucketCounts, Hist: true})
		}
	case metricdata.Histogram[int64]:
		for _, p := range d.DataPoints {
			s.points[m.Name] = append(s.points[m.Name], Point{Name: m.Name, Attrs: p.Attributes,
				Value: float64(p.Count), Sum: float64(p.Sum), Bounds: p.Bounds, Counts: p.BucketCounts, Hist: true})
		}
	}
}

// Has reports whether any instrument of that name reported a point.
func (s *Snapshot) Has(name string) bool { return s != nil && len(s.points[name]) > 0 }

// Points returns the points of one instrument.
func (s *Snapshot) Points(name string) []Point {
	if s == nil {
		return nil
	}
	return s.points[name]
}

// Sum adds the values of the points of name whose attributes include every
// one of match.
func (s *Snapshot) Sum(name string, match ...attribute.KeyValue) float64 {
	var t float64
	for _, p := range s.Points(name) {
		if matches(p.Attrs, match) {
			t += p.Value
		}
	}
	return t
}

// Max returns the largest value of name's points (0 when none).
func (s *Snapshot) Max(name string) float64 {
	m := 0.0
	for i, p := range s.Points(name) {
		if i == 0 || p.Value > m {
			m = p.Value
		}
	}
	return m
}

// By sums name's points grouped by the value of key (points without it
// group under "").
func (s *Snapshot) By(name string, key attribute.Key) map[string]float64 {
	out := map[string]float64{}
	for _, p := range s.Points(name) {
		v, _ := p.Attrs.Value(key)
		out[v.String()] += p.Value
	}
	return out
}

// Keys returns the sorted values of key among name's points.
func (s *Snapshot) Keys(name string, key attribute.Key) []string {
	m := s.By(name, key)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func matches(set attribute.Set, match []attribute.KeyValue) bool {
	for _, kv := range match {
		v, ok := set.Value(kv.Key)
		if !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// quantile estimates the q-quantile of the histogram points of name (merged)
// in the interval between prev and cur, by linear interpolation in the
// bucket that holds it; NaN when no observation fell in the interval.
func quantile(prev, cur *Snapshot, name string, q float64) float64 {
	var bounds []float64
	var counts []float64
	for _, p := range cur.Points(name) {
		if !p.Hist {
			continue
		}
		if bounds == nil {
			bounds = p.Bounds
			counts = make([]float64, len(p.Counts))
		}
		if len(p.Counts) != len(counts) {
			continue // differently bucketed series: skip rather than mix
		}
		for i, c := range p.Counts {
			counts[i] += float64(c)
		}
		for _, pp := range prev.Points(name) {
			if pp.Hist && pp.Attrs.Equals(&p.Attrs) && len(pp.Counts) == len(counts) {
				for i, c := range pp.Counts {
					counts[i] -= float64(c)
				}
			}
		}
	}
	total := 0.0
	for _, c := range counts {
		total += max(c, 0)
	}
	if total == 0 {
		return math.NaN()
	}
	rank := q * total
	seen := 0.0
	for i, c := range counts {
		c = max(c, 0)
		if seen+c >= rank && c > 0 {
			lo, hi := 0.0, 0.0
			if i > 0 {
				lo = bounds[i-1]
			}
			if i < len(bounds) {
				hi = bounds[i]
			} else {
				return lo // overflow bucket: its lower bound is all we know
			}
			return lo + (hi-lo)*(rank-seen)/c
		}
		seen += c
	}
	return bounds[len(bounds)-1]
}
