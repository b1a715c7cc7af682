package queue

import (
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Defaults and bounds of the options below.
const (
	DefaultQueue       = "default"
	DefaultMaxAttempts = 25
	DefaultTimeout     = time.Minute
	DefaultUniqueFor   = 24 * time.Hour
	DefaultMaxArgsSize = 1 << 20
	DefaultConcurrency = 10
	DefaultLease       = 30 * time.Second
	DefaultPoll        = time.Second
	DefaultShutdown    = 30 * time.Second

	// MaxKindLen and MaxQueueLen bound a kind's and a queue's name in bytes.
	MaxKindLen  = 128
	MaxQueueLen = 128
	// MaxPriority is the lowest priority (runs last); 0 runs first.
	MaxPriority = 3
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
}

// EnqueueOptions shape one job. A zero field takes the Client's
// ClientOptions.Defaults value, then the default documented here.
type EnqueueOptions struct {
	// Queue names the queue; "" means "default". At most MaxQueueLen bytes.
	Queue string
	// Priority: 0 (the default) runs first … 3 runs last.
	Priority int
	// MaxAttempts bounds the attempts before the job is dead-lettered;
	// 0 means 25. 1 means no retry.
	MaxAttempts int
	// Timeout bounds one attempt: the handler's ctx is cancelled then, and
	// a handler that ignores it is abandoned shortly after (the job is
	// retried). 0 means 1 minute.
	Timeout time.Duration
	// Delay runs the job no earlier than Delay from now. Not with RunAt.
	Delay time.Duration
	// RunAt runs the job no earlier than this time. Not with Delay.
	RunAt time.Time
	// UniqueKey, when set, makes the enqueue a no-op (EnqueueResult.Duplicate)
	// while another job of the same queue holds the key: from its enqueue
	// until UniqueFor later, whatever happens to it meanwhile.
	UniqueKey string
	// UniqueFor is how long UniqueKey is held; 0 with a key means 24 hours.
	// Setting it without a UniqueKey is an error.
	UniqueFor time.Duration
	// Meta is user metadata stored with the job (the Client adds
	// "traceparent"). Keys starting with "ladder." are reserved.
	Meta map[string]string
}

// merge fills o's zero fields from d.
func (o EnqueueOptions) merge(d EnqueueOptions) EnqueueOptions {
	if o.Queue == "" {
		o.Queue = d.Queue
	}
	if o.Priority == 0 {
		o.Priority = d.Priority
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = d.MaxAttempts
	}
	if o.Timeout == 0 {
		o.Timeout = d.Timeout
	}
	if o.Delay == 0 && o.RunAt.IsZero() {
		o.Delay, o.RunAt = d.Delay, d.RunAt
	}
	if o.UniqueFor == 0 && o.UniqueKey != "" {
		o.UniqueFor = d.UniqueFor
	}
	if o.Meta == nil {
		o.Meta = d.Meta
	}
	return o
}

// validate checks o after merge; path prefixes field names ("Defaults.").
func (o EnqueueOptions) validate(path string) error {
	switch {
	case len(o.Queue) > MaxQueueLen:
		return invalid("%sQueue %q: longer than %d bytes", path, trunc(o.Queue), MaxQueueLen)
	case o.Priority < 0 || o.Priority > MaxPriority:
		return invalid("%sPriority %d: must be in 0..%d", path, o.Priority, MaxPriority)
	case o.MaxAttempts < 0:
		return invalid("%sMaxAttempts %d: must be ≥ 0", path, o.MaxAttempts)
	case o.Timeout < 0:
		return invalid("%sTimeout %v: must be ≥ 0", path, o.Timeout)
	case o.Delay < 0:
		return invalid("%sDelay %v: must be ≥ 0", path, o.Delay)
	case o.Delay != 0 && !o.RunAt.IsZero():
		return invalid("%sDelay %v and RunAt %v: set one, not both", path, o.Delay, o.RunAt.Format(time.RFC3339Nano))
	case o.UniqueFor < 0:
		return invalid("%sUniqueFor %v: must be ≥ 0", path, o.UniqueFor)
	case o.UniqueFor != 0 && o.UniqueKey == "":
		return invalid("%sUniqueFor %v: set without a UniqueKey", path, o.UniqueFor)
	}
	return nil
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// ClientOptions configure a Client. The zero value is ready to use.
type ClientOptions struct {
	// MaxArgsSize bounds a job's encoded arguments in bytes, and on its own
	// the bytes of its Meta keys and values; larger ones fail with
	// ErrTooLarge. 0 means 1 MiB.
	MaxArgsSize int
	// Defaults fill the fields an enqueue leaves zero.
	Defaults EnqueueOptions
	// Now is the clock for Delay, UniqueFor and EnqueuedAt; nil means time.Now.
	Now func() time.Time
	// MeterProvider and TracerProvider; nil means the global ones.
	MeterProvider  metric.MeterProvider
	TracerProvider trace.TracerProvider
}

// Validate reports the first bad field.
func (o ClientOptions) Validate() error {
	if o.MaxArgsSize < 0 {
		return invalid("MaxArgsSize %d: must be ≥ 0", o.MaxArgsSize)
	}
	return o.Defaults.validate("Defaults.")
}

// HandlerOptions configure the handler of one kind.
type HandlerOptions struct {
	// Timeout, when > 0, bounds every attempt of this kind; a job's own
	// (enqueued) Timeout still applies: the shorter one wins.
	Timeout time.Duration
	// Backoff gives the delay before retry number attempt (1 after the
	// first failure). nil means 1s·2^(attempt-1) capped at 1 h. A jitter of
	// ±20% is applied to either. A negative result counts as 0.
	Backoff func(attempt int) time.Duration
}

func (o HandlerOptions) validate() error {
	if o.Timeout < 0 {
		return invalid("Timeout %v: must be ≥ 0", o.Timeout)
	}
	return nil
}

// QueueOptions configure how a Worker works one queue.
type QueueOptions struct {
	// Concurrency bounds the handlers of this queue running at once in this
	// Worker (one goroutine each, started by Run); 0 means 10. At most
	// 1,000,000.
	Concurrency int
	// Limit, when > 0, bounds the jobs of this queue running at once across
	// every Worker of every instance (FetchRequest.Limit). 0: no limit.
	Limit int
	// Rate bounds the starts of this queue's jobs across every Worker of
	// every instance (FetchRequest.Rate). Zero: no limit.
	Rate Rate
	// FetchBatch bounds the jobs one Fetch asks for; 0 means
	// min(Concurrency, 100).
	FetchBatch int
}

func (o QueueOptions) validate(name string) error {
	p := fmt.Sprintf("Queues[%q].", trunc(name))
	switch {
	case name == "":
		return invalid("Queues: empty queue name")
	case len(name) > MaxQueueLen:
		return invalid("Queues[%q]: longer than %d bytes", trunc(name), MaxQueueLen)
	case o.Concurrency < 0 || o.Concurrency > maxConcurrency:
		return invalid("%sConcurrency %d: must be in 0..%d", p, o.Concurrency, maxConcurrency)
	case o.Limit < 0:
		return invalid("%sLimit %d: must be ≥ 0", p, o.Limit)
	case o.FetchBatch < 0:
		return invalid("%sFetchBatch %d: must be ≥ 0", p, o.FetchBatch)
	case o.Rate.N < 0:
		return invalid("%sRate.N %d: must be ≥ 0", p, o.Rate.N)
	case o.Rate.Burst < 0:
		return invalid("%sRate.Burst %d: must be ≥ 0", p, o.Rate.Burst)
	case o.Rate.Per < 0:
		return invalid("%sRate.Per %v: must be ≥ 0", p, o.Rate.Per)
	case o.Rate.N > 0 && o.Rate.Per == 0:
		return invalid("%sRate.Per 0: must be > 0 when Rate.N is %d", p, o.Rate.N)
	case o.Rate.N == 0 && (o.Rate.Per != 0 || o.Rate.Burst != 0):
		return invalid("%sRate.N 0 with Per %v, Burst %d: set N to limit the rate", p, o.Rate.Per, o.Rate.Burst)
	}
	return nil
}

// WorkerOptions configure a Worker. The zero value works the "default"
// queue with 10 handlers.
type WorkerOptions struct {
	// Queues to work and how; empty means {"default": {}}.
	Queues map[string]QueueOptions
	// ID names this worker to the backend (diagnostics, a Redis consumer
	// name); "" means hostname-pid-random.
	ID string
	// Lease is the visibility timeout of a fetched job, renewed every
	// Lease/3 while its handler runs; a crashed worker's jobs run again
	// elsewhere after at most Lease. 0 means 30 s; at least 30 ms.
	Lease time.Duration
	// PollInterval bounds how long an idle queue waits before fetching
	// again on a backend without push; 0 means 1 s.
	PollInterval time.Duration
	// ShutdownTimeout is how long in-flight jobs may go on after Run's ctx
	// ends before their ctx is cancelled and their leases released; 0
	// means 30 s. It cannot be turned off: a handler that ignores its ctx
	// does not hold Run forever.
	ShutdownTimeout time.Duration
	// Periodic jobs this Worker schedules (see Periodic).
	Periodic []Periodic
	// Now and Rand drive time (deadlines, retry times, schedules) and
	// jitter; nil means time.Now and math/rand/v2.
	Now  func() time.Time
	Rand func() uint64
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// MeterProvider and TracerProvider; nil means the global ones.
	MeterProvider  metric.MeterProvider
	TracerProvider trace.TracerProvider
}

// maxConcurrency bounds QueueOptions.Concurrency: each is a goroutine.
const maxConcurrency = 1_000_000

// minLease keeps the heartbeat (Lease/3) above 10 ms.
const minLease = 30 * time.Millisecond

// Validate reports the first bad field.
func (o WorkerOptions) Validate() error {
	switch {
	case o.Lease < 0:
		return invalid("Lease %v: must be ≥ 0", o.Lease)
	case o.Lease > 0 && o.Lease < minLease:
		return invalid("Lease %v: must be ≥ %v", o.Lease, minLease)
	case o.PollInterval < 0:
		return invalid("PollInterval %v: must be ≥ 0", o.PollInterval)
	case o.ShutdownTimeout < 0:
		return invalid("ShutdownTimeout %v: must be ≥ 0", o.ShutdownTimeout)
	}
	for name, q := range o.Queues {
		if err := q.validate(name); err != nil {
			return err
		}
	}
	seen := make(map[string]bool, len(o.Periodic))
	for i, p := range o.Periodic {
		if err := p.validate(i); err != nil {
			return err
		}
		if seen[p.Name] {
			return invalid("Periodic[%d].Name %q: used twice", i, trunc(p.Name))
		}
		seen[p.Name] = true
	}
	return nil
}
