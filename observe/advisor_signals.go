package observe

import (
	"math"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// Signals are the numbers the advisor's rules read, derived from two
// collections: rates and ratios over the interval between them, gauges as
// last seen. A signal is present only when the instruments it comes from
// reported something, so a rule never fires on a package that is not there.
type Signals map[string]float64

// Signal names, and the instruments each is derived from. Instruments are
// found by name whatever their kind (counter, observable counter, gauge,
// histogram count).
const (
	SigHTTPRate       = "http.requests.rate"       // http.server.request.duration count, per second
	SigHTTPErrors     = "http.errors.ratio"        // … share with http.response.status_code ≥ 500
	SigHTTPP99        = "http.latency.p99"         // … 99th percentile, seconds
	SigHTTPActive     = "http.active_requests"     // http.server.active_requests
	SigCPU            = "web.cpu"                  // process.cpu.time per second per go.processor.limit (or process.cpu.utilization)
	SigWebInstances   = "web.instances"            // lb backends seen, else 1 when the HTTP server reports
	SigLBRate         = "lb.requests.rate"         // ladder.lb.requests, per second
	SigLBErrors       = "lb.errors.ratio"          // ladder.lb.errors over ladder.lb.requests
	SigLBInflight     = "lb.inflight.per_backend"  // ladder.lb.inflight summed, over backends
	SigCacheRate      = "cache.requests.rate"      // ladder.cache.hits + misses, per second
	SigCacheHit       = "cache.hit_ratio"          // hits over hits + misses
	SigCacheEvictMiss = "cache.evictions.per_miss" // ladder.cache.evictions over misses
	SigDBUsage        = "db.pool.usage"            // db.client.connection.count{state=used} over db.client.connection.max
	SigDBP99          = "db.latency.p99"           // db.client.operation.duration 99th percentile, seconds
	SigDBReadShare    = "db.read_share"            // SELECTs among db operations, else reads among ladder.replica.queries
	SigDBRate         = "db.requests.rate"         // db.client.operation.duration count (else ladder.replica.queries), per second
	SigQueueAge       = "queue.oldest_age"         // ladder.queue.oldest_age, largest over queues, seconds
	SigQueueAgeGrowth = "queue.oldest_age.growth"  // its change per second (1: nothing is being taken)
	SigQueueReady     = "queue.ready"              // ladder.queue.depth{state=ready}
	SigQueueDead      = "queue.dead"               // ladder.queue.dead
	SigShardSkew      = "shard.skew"               // ladder.shard.skew, largest
	SigReplicaLag     = "replica.lag"              // ladder.replica.lag, largest, seconds
	SigBreakersOpen   = "breakers.open"            // ladder.health.breaker.state points that are open
)

// Instrument names read by signals and the page.
const (
	instHTTPDuration = "http.server.request.duration"
	instHTTPActive   = "http.server.active_requests"
	instCPUTime      = "process.cpu.time"
	instCPUUtil      = "process.cpu.utilization"
	instProcLimit    = "go.processor.limit"
	instLBRequests   = "ladder.lb.requests"
	instLBErrors     = "ladder.lb.errors"
	instLBInflight   = "ladder.lb.inflight"
	instLBEjections  = "ladder.lb.backend.ejections"
	instLBDuration   = "ladder.lb.request.duration"
	instCacheHits    = "ladder.cache.hits"
	instCacheMisses  = "ladder.cache.misses"
	instCacheEvict   = "ladder.cache.evictions"
	instCacheStale   = "ladder.cache.stale_served"
	instDBConnCount  = "db.client.connection.count"
	instDBConnMax    = "db.client.connection.max"
	instDBDuration   = "db.client.operation.duration"
	instRepQueries   = "ladder.replica.queries"
	instRepFallbacks = "ladder.replica.fallbacks"
	instRepLag       = "ladder.replica.lag"
	instRepRotation  = "ladder.replica.rotation.changes"
	instQueueDepth   = "ladder.queue.depth"
	instQueueDead    = "ladder.queue.dead"
	instQueueAge     = "ladder.queue.oldest_age"
	instShardSkew    = "ladder.shard.skew"
	instShardRate    = "ladder.shard.request.rate"
	instBreakerState = "ladder.health.breaker.state"
	instProbeStatus  = "ladder.health.probe.status"
)

// Attribute keys read from other packages' instruments (kept here, not
// imported: observe imports no sibling).
const (
	keyStatusCode = attribute.Key("http.response.status_code")
	keyErrorType  = attribute.Key("error.type")
	keyLBBackend  = attribute.Key("ladder.lb.backend")
	keyDBOp       = attribute.Key("db.operation.name")
	keyDBConnSt   = attribute.Key("db.client.connection.state")
	keyRepRole    = attribute.Key("ladder.replica.role")
	keyRepNode    = attribute.Key("ladder.replica.node")
	keyQueueState = attribute.Key("ladder.queue.state")
	keyQueueName  = attribute.Key("messaging.destination.name")
	keyShard      = attribute.Key("ladder.shard.shard")
	keyBreaker    = attribute.Key("ladder.health.breaker")
	keyProbe      = attribute.Key("ladder.health.probe")
	keyCacheName  = attribute.Key("ladder.cache.name")
)

// breakerOpen is health.BreakerOpen's value on ladder.health.breaker.state.
const breakerOpen = 2

// deriveSignals computes the signals over the interval dt between prev
// (nil: the first collection, so no rates) and cur. cpus scales CPU time.
func deriveSignals(prev, cur *Snapshot, dt time.Duration, cpus int) Signals {
	s := Signals{}
	sec := dt.Seconds()
	rated := prev != nil && sec > 0
	delta := func(name string, match ...attribute.KeyValue) float64 {
		d := cur.Sum(name, match...) - prev.Sum(name, match...)
		return max(d, 0) // a restarted process resets its counters
	}
	ratio := func(key string, num, den float64) {
		if den > 0 {
			s[key] = num / den
		}
	}

	if cur.Has(instHTTPDuration) {
		s[SigWebInstances] = 1
		if rated {
			n := delta(instHTTPDuration)
			s[SigHTTPRate] = n / sec
			// Clamped: a reset of the 5xx series alone must not make it negative.
			ratio(SigHTTPErrors, min(max(serverErrors(cur)-serverErrors(prev), 0), n), n)
			if q := quantile(prev, cur, instHTTPDuration, 0.99); !math.IsNaN(q) {
				s[SigHTTPP99] = q
			}
		}
	}
	if cur.Has(instHTTPActive) {
		s[SigHTTPActive] = cur.Sum(instHTTPActive)
	}
	switch {
	case cur.Has(instCPUUtil):
		s[SigCPU] = cur.Max(instCPUUtil)
	case cur.Has(instCPUTime) && rated && cpus > 0:
		if n := cur.Max(instProcLimit); n > 0 {
			cpus = int(n) // GOMAXPROCS, as the runtime metrics report it
		}
		s[SigCPU] = delta(instCPUTime) / sec / float64(cpus)
	}

	if cur.Has(instLBInflight) || cur.Has(instLBRequests) {
		backends := len(cur.Keys(instLBInflight, keyLBBackend))
		if backends == 0 {
			backends = len(cur.Keys(instLBRequests, keyLBBackend))
		}
		s[SigWebInstances] = float64(backends)
		if backends > 0 && cur.Has(instLBInflight) {
			s[SigLBInflight] = cur.Sum(instLBInflight) / float64(backends)
		}
		if rated {
			n := delta(instLBRequests)
			s[SigLBRate] = n / sec
			ratio(SigLBErrors, delta(instLBErrors), n)
		}
	}

	if cur.Has(instCacheHits) && rated {
		h, m := delta(instCacheHits), delta(instCacheMisses)
		s[SigCacheRate] = (h + m) / sec
		ratio(SigCacheHit, h, h+m)
		if cur.Has(instCacheEvict) {
			ratio(SigCacheEvictMiss, delta(instCacheEvict), m)
		}
	}

	if cur.Has(instDBConnCount) && cur.Has(instDBConnMax) {
		ratio(SigDBUsage, cur.Sum(instDBConnCount, keyDBConnSt.String("used")), cur.Sum(instDBConnMax))
	}
	if rated && cur.Has(instDBDuration) {
		if q := quantile(prev, cur, instDBDuration, 0.99); !math.IsNaN(q) {
			s[SigDBP99] = q
		}
		ratio(SigDBReadShare, delta(instDBDuration, keyDBOp.String("SELECT")), delta(instDBDuration))
		s[SigDBRate] = delta(instDBDuration) / sec
	} else if rated && cur.Has(instRepQueries) {
		s[SigDBRate] = delta(instRepQueries) / sec
		// Reads are what went to replicas plus reads that fell back to the primary.
		reads := delta(instRepQueries, keyRepRole.String("replica")) + delta(instRepFallbacks)
		ratio(SigDBReadShare, min(reads, delta(instRepQueries)), delta(instRepQueries))
	}

	if cur.Has(instQueueAge) {
		age := cur.Max(instQueueAge)
		s[SigQueueAge] = age
		if rated && prev.Has(instQueueAge) {
			s[SigQueueAgeGrowth] = (age - prev.Max(instQueueAge)) / sec
		}
	}
	if cur.Has(instQueueDepth) {
		s[SigQueueReady] = cur.Sum(instQueueDepth, keyQueueState.String("ready"))
	}
	if cur.Has(instQueueDead) {
		s[SigQueueDead] = cur.Sum(instQueueDead)
	}
	if cur.Has(instShardSkew) {
		s[SigShardSkew] = cur.Max(instShardSkew)
	}
	if cur.Has(instRepLag) {
		s[SigReplicaLag] = cur.Max(instRepLag)
	}
	if cur.Has(instBreakerState) {
		open := 0.0
		for _, p := range cur.Points(instBreakerState) {
			if p.Value == breakerOpen {
				open++
			}
		}
		s[SigBreakersOpen] = open
	}
	return s
}

// serverErrors counts the HTTP requests that failed: answered 5xx (the
// status code may be an int or a string attribute) or carrying error.type
// without a status (a handler that panicked: net/http dropped the
// connection, the client got no answer).
func serverErrors(s *Snapshot) float64 {
	t := 0.0
	for _, p := range s.Points(instHTTPDuration) {
		v, ok := p.Attrs.Value(keyStatusCode)
		if !ok {
			if e, ok := p.Attrs.Value(keyErrorType); ok && e.AsString() != "" {
				t += p.Value
			}
			continue
		}
		code := v.AsInt64()
		if v.Type() == attribute.STRING {
			code, _ = strconv.ParseInt(v.AsString(), 10, 64)
		}
		if code >= 500 {
			t += p.Value
		}
	}
	return t
}
