package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Client enqueues jobs and manages queues through a Backend. It is safe for
// concurrent use and owns no goroutines.
type Client struct {
	b       Backend
	opts    ClientOptions
	now     func() time.Time
	maxArgs int
	tel     *clientTel
}

// Request is one job of an EnqueueMany call.
type Request struct {
	Args    Kinded
	Options EnqueueOptions
}

// NewClient returns a Client enqueuing into b.
func NewClient(b Backend, opts ClientOptions) (*Client, error) {
	if b == nil {
		return nil, invalid("NewClient: nil Backend")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	c := &Client{b: b, opts: opts, now: opts.Now, maxArgs: opts.MaxArgsSize}
	if c.now == nil {
		c.now = time.Now
	}
	if c.maxArgs == 0 {
		c.maxArgs = DefaultMaxArgsSize
	}
	c.tel = newClientTel(opts.MeterProvider)
	return c, nil
}

// Enqueue stores one job running args' kind.
func (c *Client) Enqueue(ctx context.Context, args Kinded, opts EnqueueOptions) (EnqueueResult, error) {
	j, err := c.NewJob(ctx, args, opts)
	if err != nil {
		return EnqueueResult{}, err
	}
	jobs := [1]*Job{j}
	res, err := c.b.Enqueue(ctx, jobs[:])
	if err != nil {
		return EnqueueResult{}, wrapBackend("enqueue", err)
	}
	if len(res) != 1 {
		return EnqueueResult{}, fmt.Errorf("queue: enqueue: backend returned %d results for 1 job", len(res))
	}
	c.tel.sent(ctx, j.Queue, j.Kind, 1)
	return res[0], nil
}

// EnqueueMany stores jobs in one backend call (atomically where the
// backend can: see Backend.Enqueue). An invalid request fails the whole
// call, naming its index, before anything is stored.
func (c *Client) EnqueueMany(ctx context.Context, reqs []Request) ([]EnqueueResult, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	// The batch's jobs are built in place: in a few allocations (not one
	// per job), and with a Memory inside the entries it stores (no copy).
	m, mem := c.b.(*Memory)
	var jobs []*Job
	if mem {
		jobs = batchJobs(len(reqs))
	} else {
		jobs = make([]*Job, len(reqs))
		slab := make([]Job, len(reqs))
		for i := range jobs {
			jobs[i] = &slab[i]
		}
	}
	now := c.now()
	tp := traceparent(ctx)
	ar := newArgsArena()
	for i, r := range reqs {
		if err := c.fillJob(jobs[i], r.Args, r.Options, now, tp, ar); err != nil {
			return nil, withPrefix("request "+strconv.Itoa(i), err)
		}
	}
	var res []EnqueueResult
	var err error
	if mem {
		res, err = m.enqueue(ctx, jobs, true)
	} else {
		res, err = c.b.Enqueue(ctx, jobs)
	}
	if err != nil {
		return nil, wrapBackend("enqueue", err)
	}
	if len(res) != len(jobs) {
		return nil, fmt.Errorf("queue: enqueue: backend returned %d results for %d jobs", len(res), len(jobs))
	}
	c.tel.sentMany(ctx, jobs)
	return res, nil
}

// withPrefix names what an error is about after its sentinel, keeping the
// package prefix once: "queue: invalid options: request 3: Priority 9: …".
func withPrefix(what string, err error) error {
	msg := err.Error()
	for _, s := range []error{ErrInvalidOptions, ErrTooLarge} {
		if errors.Is(err, s) && strings.HasPrefix(msg, s.Error()) {
			rest := strings.TrimPrefix(strings.TrimPrefix(msg, s.Error()), ": ")
			return &prefixed{msg: s.Error() + ": " + what + ": " + rest, err: err}
		}
	}
	return &prefixed{msg: "queue: " + what + ": " + strings.TrimPrefix(msg, "queue: "), err: err}
}

type prefixed struct {
	msg string
	err error
}

func (e *prefixed) Error() string { return e.msg }
func (e *prefixed) Unwrap() error { return e.err }

// wrapBackend prefixes a backend error once.
func wrapBackend(op string, err error) error {
	if strings.HasPrefix(err.Error(), "queue: ") || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("queue: %s: %w", op, err)
}

// NewJob validates opts, encodes args and builds the Job that Enqueue
// would store, with "traceparent" set from ctx's span. Backends that
// enqueue inside a caller's transaction (pgqueue.EnqueueTx) use it.
func (c *Client) NewJob(ctx context.Context, args Kinded, opts EnqueueOptions) (*Job, error) {
	return c.newJob(args, opts, c.now(), traceparent(ctx))
}

func (c *Client) newJob(args Kinded, opts EnqueueOptions, now time.Time, tp string) (*Job, error) {
	j := new(Job)
	if err := c.fillJob(j, args, opts, now, tp, nil); err != nil {
		return nil, err
	}
	return j, nil
}

// fillJob builds j; ar (nil allowed) is the batch's arena for encoded args.
func (c *Client) fillJob(j *Job, args Kinded, opts EnqueueOptions, now time.Time, tp string, ar *argsArena) error {
	if args == nil {
		return invalid("Args: nil")
	}
	kind, err := safeKind(args)
	if err != nil {
		return err
	}
	if err := checkKind(kind); err != nil {
		return err
	}
	o := opts.merge(c.opts.Defaults)
	if err := o.validate(""); err != nil {
		return err
	}
	enc, err := encode(args, ar)
	if err != nil {
		return err
	}
	if len(enc) > c.maxArgs {
		return fmt.Errorf("%w: kind %q: args are %d bytes, the limit is %d", ErrTooLarge, kind, len(enc), c.maxArgs)
	}
	if n := metaSize(o.Meta); n > c.maxArgs {
		return fmt.Errorf("%w: kind %q: Meta is %d bytes, the limit is %d", ErrTooLarge, kind, n, c.maxArgs)
	}
	*j = Job{
		Kind:        kind,
		Queue:       o.Queue,
		Args:        enc,
		Priority:    o.Priority,
		MaxAttempts: o.MaxAttempts,
		Timeout:     o.Timeout,
		RunAt:       o.RunAt,
		EnqueuedAt:  now,
		UniqueKey:   o.UniqueKey,
		Meta:        o.Meta,
	}
	if j.Queue == "" {
		j.Queue = DefaultQueue
	}
	if j.MaxAttempts == 0 {
		j.MaxAttempts = DefaultMaxAttempts
	}
	if j.Timeout == 0 {
		j.Timeout = DefaultTimeout
	}
	if j.RunAt.IsZero() {
		j.RunAt = now.Add(o.Delay)
	}
	if o.UniqueKey != "" {
		uf := o.UniqueFor
		if uf == 0 {
			uf = DefaultUniqueFor
		}
		j.UniqueUntil = now.Add(uf)
	}
	if tp != "" {
		m := make(map[string]string, len(o.Meta)+1)
		for k, v := range o.Meta {
			m[k] = v
		}
		m[metaTraceparent] = tp
		j.Meta = m
	} else if len(o.Meta) > 0 {
		m := make(map[string]string, len(o.Meta)) // the caller may reuse its map
		for k, v := range o.Meta {
			m[k] = v
		}
		j.Meta = m
	}
	return nil
}

// metaSize is the bytes of m's keys and values.
func metaSize(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

func safeKind(args Kinded) (kind string, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = invalid("Args: %T.Kind() panicked: %v", args, v)
		}
	}()
	return args.Kind(), nil
}

// encode is JSON (json.Marshal's bytes), surviving a MarshalJSON that
// panics. With ar the bytes are written into the batch's arena instead of
// an allocation of their own.
func encode(args Kinded, ar *argsArena) (b []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("queue: encode %T: panicked: %v", args, v)
			if ar != nil {
				ar.abort()
			}
		}
	}()
	if ar == nil {
		b, err = json.Marshal(args)
	} else {
		b, err = ar.encode(args)
	}
	if err != nil {
		return nil, fmt.Errorf("queue: encode %T as JSON: %w", args, err)
	}
	return b, nil
}

// argsArena holds the encoded args of one EnqueueMany batch: small args
// share chunks of argsChunk bytes (one allocation per chunk, not one per
// job; chunks grow from 256 bytes), each job's Args a full slice expression of its own bytes (so an
// append to it copies, never writes into a neighbour's). A job kept long
// after its batch keeps its chunk alive: ≤ argsChunk bytes. Args larger
// than argsChunk/4 get an allocation of their own.
type argsArena struct {
	enc   *json.Encoder // writes into the arena through Write
	chunk []byte        // len: bytes handed out or pending
	start int           // where the pending item starts in chunk
	own   []byte        // a large pending item, outside the chunk
	big   bool          // the pending item went to own
}

const argsChunk = 4096

func newArgsArena() *argsArena {
	ar := &argsArena{}
	ar.enc = json.NewEncoder(ar)
	return ar
}

// Write appends encoder output to the pending item.
func (ar *argsArena) Write(p []byte) (int, error) {
	if ar.big {
		ar.own = append(ar.own, p...)
		return len(p), nil
	}
	pending := len(ar.chunk) - ar.start
	if len(ar.chunk)+len(p) > cap(ar.chunk) {
		need := pending + len(p)
		if need > argsChunk/4 {
			ar.own = append(make([]byte, 0, need), ar.chunk[ar.start:]...)
			ar.own = append(ar.own, p...)
			ar.chunk, ar.big = ar.chunk[:ar.start], true
			return len(p), nil
		}
		// Chunks grow from 256 bytes to argsChunk: a batch of small args
		// allocates about what it uses.
		size := min(argsChunk, max(256, 2*cap(ar.chunk), 2*need))
		c := append(make([]byte, 0, size), ar.chunk[ar.start:]...)
		ar.chunk, ar.start = c, 0
	}
	ar.chunk = append(ar.chunk, p...)
	return len(p), nil
}

// encode encodes v as json.Marshal does and returns its bytes.
func (ar *argsArena) encode(v any) ([]byte, error) {
	if err := ar.enc.Encode(v); err != nil {
		ar.abort()
		return nil, err
	}
	var b []byte
	if ar.big {
		b, ar.own, ar.big = ar.own, nil, false
	} else {
		b = ar.chunk[ar.start:len(ar.chunk):len(ar.chunk)]
		ar.start = len(ar.chunk)
	}
	if n := len(b); n > 0 && b[n-1] == '\n' { // Encode ends each value with a newline
		b = b[: n-1 : n-1]
	}
	return b, nil
}

// abort drops a pending item.
func (ar *argsArena) abort() {
	ar.chunk = ar.chunk[:ar.start]
	ar.own, ar.big = nil, false
}

// Stats reports queue's depth as the backend sees it.
func (c *Client) Stats(ctx context.Context, queue string) (BackendStats, error) {
	s, err := c.b.Stats(ctx, orDefault(queue))
	if err != nil {
		return s, wrapBackend("stats", err)
	}
	return s, nil
}

// Cancel ends job id of queue: a waiting job is dead-lettered at once, a
// running one's handler sees its ctx cancelled (at the next heartbeat).
func (c *Client) Cancel(ctx context.Context, queue, id string) error {
	if err := c.b.Cancel(ctx, orDefault(queue), id); err != nil {
		return wrapBackend("cancel", err)
	}
	return nil
}

// Pause stops every Worker of every instance from starting jobs of queue.
func (c *Client) Pause(ctx context.Context, queue string) error {
	if err := c.b.Pause(ctx, orDefault(queue), true); err != nil {
		return wrapBackend("pause", err)
	}
	return nil
}

// Resume undoes Pause.
func (c *Client) Resume(ctx context.Context, queue string) error {
	if err := c.b.Pause(ctx, orDefault(queue), false); err != nil {
		return wrapBackend("resume", err)
	}
	return nil
}

// Dead lists queue's dead letters, newest first, a page at a time.
func (c *Client) Dead(ctx context.Context, queue string, p Page) ([]DeadJob, error) {
	if p.Limit < 0 {
		return nil, invalid("Page.Limit %d: must be ≥ 0", p.Limit)
	}
	d, err := c.b.Dead(ctx, orDefault(queue), p)
	if err != nil {
		return nil, wrapBackend("dead", err)
	}
	return d, nil
}

// RetryDead moves dead letters of queue (all with ids nil) back to ready.
func (c *Client) RetryDead(ctx context.Context, queue string, ids []string) (int, error) {
	n, err := c.b.RetryDead(ctx, orDefault(queue), ids)
	if err != nil {
		return n, wrapBackend("retry dead", err)
	}
	return n, nil
}

// PurgeDead deletes dead letters of queue (all with ids nil).
func (c *Client) PurgeDead(ctx context.Context, queue string, ids []string) (int, error) {
	n, err := c.b.PurgeDead(ctx, orDefault(queue), ids)
	if err != nil {
		return n, wrapBackend("purge dead", err)
	}
	return n, nil
}

func orDefault(q string) string {
	if q == "" {
		return DefaultQueue
	}
	return q
}
