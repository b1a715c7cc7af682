package replica

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// Database client metrics, by OTel's database semantic conventions:
// db.client.operation.duration per statement the router runs, and the
// connection pools' db.client.connection.count (idle, used) and
// db.client.connection.max, read from sql.DB.Stats at collection.
// observe's advisor reads them (database saturated, mostly by reads).
//
// The duration is sampled like queue's messaging.process.duration: a
// statement over a network costs tens of microseconds and more, but the
// router's own work (and a statement on an in-process database) costs
// about a microsecond, and an SDK Record ~300–500 ns. Every failed
// statement is recorded; successful ones at most recordRate a second on
// average, in bursts of recordBurst (a GCRA limiter decided when the
// statement starts, so the sample is unbiased by duration). Below
// that rate the histogram's count is exact; exact counts are
// ladder.replica.queries.
const (
	recordRate  = 10_000
	recordBurst = 1_000
	recordGap   = int64(time.Second / recordRate)
)

// Semconv attribute keys of the database metrics.
const (
	attrDBSystem    = attribute.Key("db.system.name")
	attrDBOperation = attribute.Key("db.operation.name")
	attrPoolName    = attribute.Key("db.client.connection.pool.name")
	attrConnState   = attribute.Key("db.client.connection.state")
	attrErrorType   = attribute.Key("error.type")
)

// operations are the db.operation.name values a statement can get: its
// first keyword when it is one of these, else none (no query text is ever
// recorded, and the set is closed, so cardinality stays bounded).
var operations = [...]string{"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "WITH", "CALL", "VALUES", "TABLE"}

const opNone = len(operations) // no db.operation.name

// operation is the index in operations of query's first keyword, skipping
// leading spaces, parentheses and SQL comments; opNone when it is none.
func operation(query string) int {
	q := query
	for {
		q = strings.TrimLeft(q, " \t\r\n(")
		switch {
		case strings.HasPrefix(q, "--"):
			i := strings.IndexByte(q, '\n')
			if i < 0 {
				return opNone
			}
			q = q[i+1:]
			continue
		case strings.HasPrefix(q, "/*"):
			i := strings.Index(q[2:], "*/")
			if i < 0 {
				return opNone
			}
			q = q[i+4:]
			continue
		}
		break
	}
	end := 0
	for end < len(q) && end < 8 && isLetter(q[end]) {
		end++
	}
	if end == len(q) || !isLetter(q[end]) && !isDigit(q[end]) && q[end] != '_' && q[end] != '$' && q[end] < 0x80 {
		w := q[:end]
		for i, op := range operations {
			if strings.EqualFold(w, op) {
				return i
			}
		}
	}
	return opNone
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// dbSystem names the database a *sql.DB talks to, from its driver's
// package (db.system.name); "" when it is not one it knows.
func dbSystem(db *sql.DB) string {
	t := reflect.TypeOf(db.Driver())
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return ""
	}
	p := strings.ToLower(t.PkgPath())
	switch {
	case strings.Contains(p, "pgx"), strings.Contains(p, "lib/pq"), strings.Contains(p, "postgres"):
		return "postgresql"
	case strings.Contains(p, "sqlite"):
		return "sqlite"
	case strings.Contains(p, "mysql"):
		return "mysql"
	}
	return ""
}

// dbMetrics is the router's database client telemetry.
type dbMetrics struct {
	duration metric.Float64Histogram
	// on: an explicit MeterProvider that is not a noop one. global: the
	// provider is OTel's global one, whose delegate records nothing until
	// an SDK is installed (checked per statement: one atomic load).
	on, global bool
	delegate   reflect.Type
	base       time.Time
	tat        atomic.Int64 // GCRA theoretical arrival time, ns since base
	_          [56]byte
	reg        metric.Registration
}

// nodeDB is one node's precomputed attribute sets.
type nodeDB struct {
	base []attribute.KeyValue               // system, node
	ok   [2][opNone + 1]metric.RecordOption // by role, operation
}

func newDBMetrics(m metric.Meter, mp metric.MeterProvider, explicit bool, nodes []*node) (*dbMetrics, error) {
	d := &dbMetrics{base: time.Now()}
	switch {
	case explicit:
		d.on = realMeterProvider(mp)
	default:
		d.global = true
		if t := reflect.TypeOf(mp); isGlobalDelegate(t) {
			d.delegate = t
		}
	}
	var err error
	d.duration, err = m.Float64Histogram("db.client.operation.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of database client operations (statements the router ran), sampled above 10k/s."),
		metric.WithExplicitBucketBoundaries(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10))
	if err != nil {
		return nil, err
	}
	count, err := m.Int64ObservableUpDownCounter("db.client.connection.count", metric.WithUnit("{connection}"),
		metric.WithDescription("Connections of each node's pool, by state (idle, used)."))
	if err != nil {
		return nil, err
	}
	maxConns, err := m.Int64ObservableUpDownCounter("db.client.connection.max", metric.WithUnit("{connection}"),
		metric.WithDescription("The most open connections each node's pool allows (pools without a limit report none)."))
	if err != nil {
		return nil, err
	}
	type poolSets struct{ idle, used, all metric.ObserveOption }
	sets := make([]poolSets, len(nodes))
	for i, n := range nodes {
		kv := []attribute.KeyValue{attrPoolName.String(n.name)}
		if sys := dbSystem(n.db); sys != "" {
			kv = append(kv, attrDBSystem.String(sys))
		}
		set := func(extra ...attribute.KeyValue) metric.ObserveOption {
			return metric.WithAttributeSet(attribute.NewSet(append(kv[:len(kv):len(kv)], extra...)...))
		}
		sets[i] = poolSets{idle: set(attrConnState.String("idle")), used: set(attrConnState.String("used")), all: set()}

		n.dbm = &nodeDB{base: []attribute.KeyValue{AttrNode.String(n.name)}}
		if sys := dbSystem(n.db); sys != "" {
			n.dbm.base = append(n.dbm.base, attrDBSystem.String(sys))
		}
		for role, rn := range [2]string{"primary", "replica"} {
			for op := range opNone + 1 {
				kv := append(n.dbm.base[:len(n.dbm.base):len(n.dbm.base)], AttrRole.String(rn))
				if op < opNone {
					kv = append(kv, attrDBOperation.String(operations[op]))
				}
				n.dbm.ok[role][op] = metric.WithAttributeSet(attribute.NewSet(kv...))
			}
		}
	}
	d.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for i, n := range nodes {
			st := n.db.Stats()
			o.ObserveInt64(count, int64(st.Idle), sets[i].idle)
			o.ObserveInt64(count, int64(st.InUse), sets[i].used)
			if st.MaxOpenConnections > 0 {
				o.ObserveInt64(maxConns, int64(st.MaxOpenConnections), sets[i].all)
			}
		}
		return nil
	}, count, maxConns)
	if err != nil {
		return nil, err
	}
	return d, nil
}

func realMeterProvider(mp metric.MeterProvider) bool {
	switch mp.(type) {
	case noop.MeterProvider, *noop.MeterProvider:
		return false
	}
	return !isGlobalDelegate(reflect.TypeOf(mp))
}

func isGlobalDelegate(t reflect.Type) bool {
	if t == nil {
		return false
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath() == "go.opentelemetry.io/otel/internal/global"
}

// start returns the token of a statement starting now (see decide), or -1
// when no SDK would record it.
func (d *dbMetrics) start() int64 {
	if d == nil {
		return -1
	}
	if d.global {
		if d.delegate != nil && reflect.TypeOf(otel.GetMeterProvider()) == d.delegate {
			return -1
		}
	} else if !d.on {
		return -1
	}
	return d.decide(int64(time.Since(d.base)))
}

// decide returns the token of a statement starting at now (ns since base):
// now when a success would be recorded, -now-2 when only a failure would.
// The sample is decided here, in order of start: decided when statements
// end, a slow one's start lies too far behind the limiter's clock for it
// ever to be kept once the limiter is full, and the histogram loses its
// tail.
func (d *dbMetrics) decide(now int64) int64 {
	if d.sample(now) {
		return now
	}
	return -now - 2
}

// keep reports whether a successful statement of token tok is recorded.
func (d *dbMetrics) keep(tok int64) bool { return tok >= 0 }

// started is the start time (ns since base) of token tok (≥ 0 or ≤ -2).
func started(tok int64) int64 {
	if tok < 0 {
		return -tok - 2
	}
	return tok
}

// sample reports whether a successful statement started at start is
// recorded (GCRA, see recordRate).
func (d *dbMetrics) sample(start int64) bool {
	for {
		tat := d.tat.Load()
		if tat-start > recordBurst*recordGap {
			return false
		}
		if d.tat.CompareAndSwap(tat, max(tat, start)+recordGap) {
			return true
		}
	}
}

// done records a statement of operation op on n, of token tok (from
// start; -1: not metering).
func (d *dbMetrics) done(ctx context.Context, n *node, op int, tok int64, err error) {
	if tok == -1 || err == nil && !d.keep(tok) {
		return
	}
	sec := time.Duration(int64(time.Since(d.base)) - started(tok)).Seconds()
	role := roleReplica
	if Role(n.role.Load()) == RolePrimary {
		role = rolePrimary
	}
	if err == nil {
		d.duration.Record(ctx, sec, n.dbm.ok[role][op])
		return
	}
	kv := append(n.dbm.base[:len(n.dbm.base):len(n.dbm.base)], AttrRole.String([2]string{"primary", "replica"}[role]), attrErrorType.String(errorType(err)))
	if op < opNone {
		kv = append(kv, attrDBOperation.String(operations[op]))
	}
	d.duration.Record(ctx, sec, metric.WithAttributeSet(attribute.NewSet(kv...)))
}

// errorType is error.type for a statement's error: the SQLSTATE when the
// driver gives one (a closed set of five characters), else a name.
func errorType(err error) string {
	var st interface{ SQLState() string }
	switch {
	case errors.As(err, &st) && len(st.SQLState()) == 5:
		return st.SQLState()
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case unavailable(err):
		return "unavailable"
	}
	return "_OTHER"
}
