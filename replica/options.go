package replica

import (
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/ladder-go/ladder/lb"
)

// ReadYourWrites selects how a read that follows a write of the same
// [Session] avoids a replica that has not replayed that write yet.
type ReadYourWrites uint8

const (
	// RYWAuto (the zero value) is RYWCausalWait when Options.Positions is
	// set and RYWTimePin otherwise.
	RYWAuto ReadYourWrites = iota
	// RYWOff reads from replicas regardless of earlier writes: the naive
	// split, which reads stale data after most writes.
	RYWOff
	// RYWTimePin sends a session's reads to the primary for Options.Pin
	// after each of its writes (Rails' multi-db default). It needs no
	// Positions and works with any database, but a replica lagging more
	// than Pin still serves stale reads, and reads after every write load
	// the primary.
	RYWTimePin
	// RYWCausalFast reads from a replica only if the monitor (or an
	// earlier wait) already knows it has replayed the session's last
	// write; otherwise from the primary. It never waits.
	RYWCausalFast
	// RYWCausalWait waits on the picked replica until it has replayed the
	// session's last write, up to Options.WaitTimeout, then reads from the
	// primary (MaxScale's causal_reads=local with a timeout).
	RYWCausalWait
	// RYWCausalGlobal is RYWCausalWait with the position of the latest
	// write of the whole process, not just the session: every read sees
	// every write this process committed before it started
	// (MaxScale's causal_reads=global).
	RYWCausalGlobal
)

var rywNames = [...]string{"auto", "off", "time_pin", "causal_fast", "causal_wait", "causal_global"}

// String returns the mode's name: "auto", "off", "time_pin", "causal_fast",
// "causal_wait" or "causal_global".
func (m ReadYourWrites) String() string {
	if int(m) < len(rywNames) {
		return rywNames[m]
	}
	return fmt.Sprintf("ReadYourWrites(%d)", uint8(m))
}

func (m ReadYourWrites) causal() bool { return m >= RYWCausalFast }

// Failover selects what the router does when the primary changes or fails.
type Failover uint8

const (
	// FailoverFollow (the zero value) follows a failover done by something
	// else (Patroni, pg_auto_failover, an operator's pg_promote()): the
	// monitor reads every node's role and timeline, and writes move to the
	// node that says it is the primary on the newest timeline.
	FailoverFollow Failover = iota
	// FailoverCoordinate follows as FailoverFollow does and, after
	// Options.FailoverAfter consecutive failed probes of the primary,
	// promotes the most caught-up replica itself. Only for a single
	// instance of the application: several routers would each promote one.
	FailoverCoordinate
	// FailoverOff never moves writes away from the configured primary.
	FailoverOff
)

var failoverNames = [...]string{"follow", "coordinate", "off"}

// String returns "follow", "coordinate" or "off".
func (f Failover) String() string {
	if int(f) < len(failoverNames) {
		return failoverNames[f]
	}
	return fmt.Sprintf("Failover(%d)", uint8(f))
}

// Options configures a [Router]. The zero value (with a Positions for
// causal reads) is right for most users; durations and counts that are zero
// mean the documented default, and a negative one is an error unless the
// field says otherwise.
type Options struct {
	// Positions reads replication positions, roles and timelines
	// (package pgreplica for PostgreSQL). Without it the router cannot
	// read positions: ReadYourWrites may only be RYWOff or RYWTimePin,
	// Failover is FailoverOff, and the monitor only pings the nodes.
	Positions Positions
	// ReadYourWrites selects the read-your-writes mode; see RYWAuto.
	ReadYourWrites ReadYourWrites
	// Pin is how long RYWTimePin sends a session's reads to the primary
	// after a write; also the pin applied when a causal mode could not read
	// the position of a write. Zero means 2s.
	Pin time.Duration
	// WaitTimeout bounds how long RYWCausalWait and RYWCausalGlobal wait
	// for a replica before reading from the primary. Zero means 1s.
	WaitTimeout time.Duration
	// MaxLag takes a replica out of rotation while it is more than this
	// far behind in time. Zero means 30s.
	MaxLag time.Duration
	// MaxLagBytes, if positive, also takes out a replica more than this
	// many bytes of write history behind the primary. Zero means no limit
	// in bytes.
	MaxLagBytes uint64
	// MinServing keeps at least this many replicas serving reads even when
	// they are over MaxLag, the least lagging first (Vitess's
	// min_number_serving_vttablets); a replica failing its probe never
	// serves. Zero means 1; < 0 turns it off, so that reads go to the
	// primary when every replica lags. Causal reads never wait on a
	// replica kept this way: those that need a newer position than it
	// has go to the primary.
	MinServing int
	// ProbeInterval is how often the monitor reads every node's state.
	// Zero means 1s. The monitor keeps one connection of each node's pool
	// for its probes (count it in SetMaxOpenConns), so that queries holding
	// every other connection cannot make a busy node look dead.
	ProbeInterval time.Duration
	// ProbeTimeout bounds one probe of one node. Zero means 1s.
	ProbeTimeout time.Duration
	// Failover selects whether writes follow a promotion; see FailoverFollow.
	Failover Failover
	// FailoverAfter is the number of consecutive failed probes of the
	// primary after which FailoverCoordinate promotes a replica. Zero means 3.
	FailoverAfter int
	// PromoteTimeout bounds a promotion by FailoverCoordinate. Zero means 60s.
	PromoteTimeout time.Duration
	// Policy picks among the serving replicas; nil means lb.RoundRobin().
	// A query reports only its error to the policy (not its latency), so
	// latency-aware policies learn nothing from it.
	Policy lb.Policy
	// Zones lists replica localities in order of preference (lb.PoolOptions.Zones).
	Zones []string
	// TokenKey signs the tokens that carry a session across requests
	// (HMAC-SHA256); at least 16 bytes. Every instance that may receive
	// another's token must share it. Nil means a random key made by New,
	// valid only within this process: tokens from other instances are then
	// rejected and those reads go to the primary.
	TokenKey []byte
	// PreviousTokenKeys are still accepted (never used to sign), so the key
	// can be rotated without rejecting live tokens.
	PreviousTokenKeys [][]byte
	// TokenTTL is how long a token stays valid. Zero means 1 minute.
	TokenTTL time.Duration
	// Cookie is the name of the cookie Middleware reads and sets. Zero
	// means "ladder_rw"; "-" means no cookie.
	Cookie string
	// Header is the request and response header Middleware reads and sets
	// for clients that do not keep cookies. Zero means "Ladder-Read-After";
	// "-" means no header.
	Header string
	// MeterProvider records the router's metrics; nil means the global one.
	MeterProvider metric.MeterProvider
	// Logger logs role, rotation and failover changes; nil means slog.Default().
	Logger *slog.Logger
	// Now reads the clock for pins and token expiry; nil means time.Now.
	Now func() time.Time
}

// withDefaults validates o and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	bad := func(field string, v any, why string) (Options, error) {
		return o, fmt.Errorf("%w: %s %v: %s", ErrInvalidOptions, field, v, why)
	}
	if o.ReadYourWrites > RYWCausalGlobal {
		return bad("ReadYourWrites", o.ReadYourWrites, "unknown mode")
	}
	if o.Failover > FailoverOff {
		return bad("Failover", o.Failover, "unknown mode")
	}
	if o.ReadYourWrites == RYWAuto {
		o.ReadYourWrites = RYWTimePin
		if o.Positions != nil {
			o.ReadYourWrites = RYWCausalWait
		}
	}
	if o.Positions == nil {
		if o.ReadYourWrites.causal() {
			return bad("ReadYourWrites", o.ReadYourWrites, "needs Positions")
		}
		if o.Failover == FailoverCoordinate {
			return bad("Failover", o.Failover, "needs Positions")
		}
		o.Failover = FailoverOff
	}
	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"Pin", &o.Pin, 2 * time.Second},
		{"WaitTimeout", &o.WaitTimeout, time.Second},
		{"MaxLag", &o.MaxLag, 30 * time.Second},
		{"ProbeInterval", &o.ProbeInterval, time.Second},
		{"ProbeTimeout", &o.ProbeTimeout, time.Second},
		{"PromoteTimeout", &o.PromoteTimeout, time.Minute},
		{"TokenTTL", &o.TokenTTL, time.Minute},
	}
	for _, d := range durations {
		switch {
		case *d.v < 0:
			return bad(d.name, *d.v, "must be ≥ 0")
		case *d.v == 0:
			*d.v = d.def
		}
	}
	switch {
	case o.MinServing == 0:
		o.MinServing = 1
	case o.MinServing < 0:
		o.MinServing = 0
	}
	switch {
	case o.FailoverAfter < 0:
		return bad("FailoverAfter", o.FailoverAfter, "must be ≥ 0")
	case o.FailoverAfter == 0:
		o.FailoverAfter = 3
	}
	if o.TokenKey != nil && len(o.TokenKey) < 16 {
		return bad("TokenKey", fmt.Sprintf("of %d bytes", len(o.TokenKey)), "must have at least 16 bytes")
	}
	for i, k := range o.PreviousTokenKeys {
		if len(k) < 16 {
			return bad(fmt.Sprintf("PreviousTokenKeys[%d]", i), fmt.Sprintf("of %d bytes", len(k)), "must have at least 16 bytes")
		}
	}
	if o.Cookie == "" {
		o.Cookie = "ladder_rw"
	}
	if o.Header == "" {
		o.Header = "Ladder-Read-After"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}
