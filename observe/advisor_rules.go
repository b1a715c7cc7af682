package observe

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Op compares a signal with a threshold.
type Op int

const (
	Above Op = iota // signal ≥ threshold
	Below           // signal < threshold
)

func (o Op) String() string {
	if o == Below {
		return "<"
	}
	return "≥"
}

// Condition is one comparison of a rule: Signal Op Threshold. A missing
// signal never meets a condition.
type Condition struct {
	Signal    string
	Op        Op
	Threshold float64
}

func (c Condition) met(s Signals) (Evidence, bool) {
	v, ok := s[c.Signal]
	if !ok {
		return Evidence{}, false
	}
	e := Evidence{Signal: c.Signal, Value: v, Op: c.Op, Threshold: c.Threshold}
	if c.Op == Below {
		return e, v < c.Threshold
	}
	return e, v >= c.Threshold
}

// Evidence is one number that made a rule fire.
type Evidence struct {
	Signal    string
	Value     float64
	Op        Op
	Threshold float64
}

func (e Evidence) String() string {
	return fmt.Sprintf("%s %s %s %s", e.Signal, fmtNum(e.Value), e.Op, fmtNum(e.Threshold))
}

// fmtNum formats a number for people: whole digits grouped from 1000 up,
// four significant digits below.
func fmtNum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) >= 1e15 || math.Abs(v) < 1000 {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	digits := strconv.FormatInt(int64(math.Abs(math.Round(v))), 10)
	var b strings.Builder
	if v < 0 {
		b.WriteByte('-')
	}
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Rule names a bottleneck and the next move when all of its conditions hold.
// Rules are data: copy DefaultRules and change thresholds, or add your own.
// Check, when set, replaces When with code (its panics are caught and the
// rule reported failed; the other rules still run).
type Rule struct {
	ID         string
	Bottleneck string
	Move       string
	When       []Condition
	// Check, if set, decides instead of When. It runs inside Evaluate,
	// which waits for it: it must not block (a panic is reported as a
	// failed rule and the others still run).
	Check func(Signals) (fired bool, evidence []Evidence)
}

// DefaultRules are the seed's moves, one rule per bottleneck. Every rate
// condition also carries a minimum-traffic guard so a quiet service gets no
// advice from three requests.
var DefaultRules = []Rule{
	{
		ID: "db-reads", Bottleneck: "database saturated, mostly by reads",
		Move: "add read replicas (package replica) or cache the hot reads (package cache)",
		When: []Condition{{SigDBUsage, Above, 0.8}, {SigDBReadShare, Above, 0.7}},
	},
	{
		ID: "db-reads-slow", Bottleneck: "database slow, mostly reads",
		Move: "add read replicas (package replica) or cache the hot reads (package cache)",
		When: []Condition{{SigDBP99, Above, 0.25}, {SigDBReadShare, Above, 0.7}},
	},
	{
		ID: "cache-size", Bottleneck: "cache too small: entries are evicted before they are read again",
		Move: "raise the cache store's size (or give hot keys a tier of their own)",
		When: []Condition{{SigCacheRate, Above, 1}, {SigCacheHit, Below, 0.8}, {SigCacheEvictMiss, Above, 0.5}},
	},
	{
		ID: "cache-ttl", Bottleneck: "cache entries expire before they are read again",
		Move: "raise the TTL of the hot data types (stale-while-revalidate keeps them fresh enough)",
		When: []Condition{{SigCacheRate, Above, 1}, {SigCacheHit, Below, 0.8}, {SigCacheEvictMiss, Below, 0.5}},
	},
	{
		ID: "queue-workers", Bottleneck: "queue falling behind: the oldest job keeps getting older",
		Move: "add workers (queue consumers scale apart from the web tier)",
		When: []Condition{{SigQueueAge, Above, 30}, {SigQueueAgeGrowth, Above, 0.5}},
	},
	{
		ID: "shard-hot", Bottleneck: "one shard is hot",
		Move: "split the hot shard, or isolate its hot key (shard.Hot.Suggest names it)",
		When: []Condition{{SigShardSkew, Above, 2}},
	},
	{
		ID: "web-single", Bottleneck: "the single web server is saturated",
		Move: "put lb in front and add web servers (keep sessions in a shared store first)",
		When: []Condition{{SigCPU, Above, 0.8}, {SigWebInstances, Below, 2}},
	},
	{
		ID: "web-tier", Bottleneck: "the web tier is saturated",
		Move: "add a web server to the lb pool",
		When: []Condition{{SigLBInflight, Above, 32}, {SigWebInstances, Above, 2}},
	},
	{
		ID: "replica-lag", Bottleneck: "replicas lag behind the primary",
		Move: "send fewer reads to replicas (read-your-writes on the primary) or give the replica more capacity",
		When: []Condition{{SigReplicaLag, Above, 5}},
	},
	{
		ID: "dependency-down", Bottleneck: "a dependency is down: its circuit breaker is open and requests fail",
		Move: "give it a standby that takes over (a database: a replica with failover, package replica) and run more than one of each tier behind lb",
		When: []Condition{{SigBreakersOpen, Above, 1}, {SigHTTPErrors, Above, 0.05}},
	},
	{
		// Not saturation yet: most statements of a replicated database
		// are reads, at a real rate, so the next capacity is cheapest in a
		// cache, which answers a repeated read without any database, where
		// another replica only adds a copy to read from. A majority, not
		// db-reads' 0.7: the share counts statements, and a write is often
		// several (a row and its idempotency record, an outbox entry), so a
		// service serving 80 % reads shows about 0.6.
		ID: "db-reads-replicas", Bottleneck: "most of the database's statements are reads, already spread over replicas",
		Move: "cache the hot reads (package cache; an edge cache, cache/edge, for whole pages): repeated reads then skip the database",
		When: []Condition{{SigDBReadShare, Above, 0.5}, {SigReplicaLag, Above, 0}, {SigDBRate, Above, 20}},
	},
}
