package redisqueue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/ladder-go/ladder/queue"
)

// Backend is a queue.Backend on Redis. It starts no goroutine; Close is not
// needed (close the client you passed to New).
type Backend struct {
	c         redis.UniversalClient
	opts      Options
	ret       [2]any // retention bounds in ms and count, ≤ 0 none: every script's ARGV[1:2]
	malformed metric.Int64Counter
}

var _ queue.Backend = (*Backend)(nil)

// New returns a Backend on client (redis.NewClient, NewFailoverClient for
// Sentinel, NewClusterClient or NewUniversalClient). Every call's ctx bounds
// it only if the client was made with ContextTimeoutEnabled (else go-redis
// holds a call to a stalled server for its ReadTimeout and retries it, about
// 5 s with its defaults, whatever ctx says); New logs a warning for a client
// without it.
func New(client redis.UniversalClient, opts Options) (*Backend, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: client is nil", ErrInvalidOptions)
	}
	if err := opts.fill(); err != nil {
		return nil, err
	}
	mp := opts.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	malformed, err := mp.Meter("github.com/ladder-go/ladder/queue/redisqueue").Int64Counter("ladder.queue.redis.malformed",
		metric.WithUnit("{job}"), metric.WithDescription("Jobs dead-lettered because their stored form could not be decoded"))
	if err != nil {
		return nil, fmt.Errorf("redisqueue: metrics: %w", err)
	}
	if !contextTimeouts(client) {
		opts.Logger.Warn("redisqueue: the Redis client ignores context deadlines (ContextTimeoutEnabled is false): " +
			"a stalled Redis holds each queue call for the client's timeouts, not its ctx")
	}
	b := &Backend{c: client, opts: opts, malformed: malformed}
	b.ret = [2]any{max(opts.Retention.MaxAge.Milliseconds(), -1), opts.Retention.MaxCount}
	return b, nil
}

// contextTimeouts reports whether client honours ctx deadlines on its I/O
// (true when it cannot tell).
func contextTimeouts(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case interface{ Options() *redis.Options }:
		return c.Options().ContextTimeoutEnabled
	case interface{ Options() *redis.ClusterOptions }:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// key is the queue's base key; every key of the queue extends it.
func (b *Backend) key(q string) string { return "{" + b.opts.Prefix + ":" + q + "}" }

// call is one script call on one queue.
type call struct {
	queue string
	idx   []int // positions in the caller's slice
	args  []any
}

// batches groups items by queue, at most MaxBatch per call, in order.
func batches[T any](items []T, maxBatch int, queueOf func(T) string) []*call {
	var out []*call
	open := map[string]*call{}
	for i, it := range items {
		q := queueOf(it)
		c := open[q]
		if c == nil || len(c.idx) == maxBatch {
			c = &call{queue: q}
			open[q] = c
			out = append(out, c)
		}
		c.idx = append(c.idx, i)
	}
	return out
}

// exec runs s once per call, pipelined when there are several, and returns
// the replies in order; the error is the first call's that failed.
func (b *Backend) exec(ctx context.Context, s *redis.Script, calls []*call) ([]any, error) {
	out := make([]any, len(calls))
	if len(calls) == 1 {
		v, err := s.Run(ctx, b.c, []string{b.key(calls[0].queue)}, calls[0].args...).Result()
		out[0] = v
		return out, err
	}
	pipe := b.c.Pipeline()
	cmds := make([]*redis.Cmd, len(calls))
	for i, c := range calls {
		cmds[i] = s.EvalSha(ctx, pipe, []string{b.key(c.queue)}, c.args...)
	}
	_, _ = pipe.Exec(ctx)
	var first error
	for i, cmd := range cmds {
		v, err := cmd.Result()
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") { // did not run: run it again, loading the script
			v, err = s.Run(ctx, b.c, []string{b.key(calls[i].queue)}, calls[i].args...).Result()
		}
		if err != nil && first == nil {
			first = err
		}
		out[i] = v
	}
	return out, first
}

// wrap turns a Redis error into this package's, keeping ctx's errors
// recognisable.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("redisqueue: %s: %w", op, err)
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, a...)...)
}

// Enqueue implements queue.Backend. The jobs of one queue in one call are
// stored all or none, up to MaxBatch of them (a larger call is split);
// calls on several queues are pipelined, each queue's batch atomic on its
// own. An empty Queue means "default"; a zero RunAt means now; MaxAttempts 0
// means 25. The input jobs are not modified.
func (b *Backend) Enqueue(ctx context.Context, jobs []*queue.Job) ([]queue.EnqueueResult, error) {
	for i, j := range jobs {
		if err := checkJob(i, j); err != nil {
			return nil, err
		}
	}
	if len(jobs) == 0 {
		return []queue.EnqueueResult{}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	calls := batches(jobs, b.opts.MaxBatch, func(j *queue.Job) string { return queueName(j.Queue) })
	now := time.Now()
	var buf []byte
	for _, c := range calls {
		var salt [4]byte
		_, _ = rand.Read(salt[:])
		var nonce [12]byte
		_, _ = rand.Read(nonce[:])
		args := make([]any, 0, 4+7*len(c.idx))
		args = append(args, b.ret[0], b.ret[1], hex.EncodeToString(nonce[:]), hex.EncodeToString(salt[:]))
		for _, i := range c.idx {
			j := jobs[i]
			buf = encodeJob(buf[:0], j)
			runAt := j.RunAt
			if runAt.IsZero() {
				runAt = now
			}
			maxAttempts := j.MaxAttempts
			if maxAttempts == 0 {
				maxAttempts = 25
			}
			var until int64
			if j.UniqueKey != "" {
				until = j.UniqueUntil.UnixMilli()
			}
			args = append(args, string(buf), j.Priority, maxAttempts, runAt.UnixMilli(), runAt.UnixNano(), j.UniqueKey, until)
		}
		c.args = args
	}
	var replies []any
	var err error
	if b.opts.WaitReplicas > 0 {
		replies, err = b.execReplicated(ctx, calls)
	} else {
		replies, err = b.exec(ctx, enqueueScript, calls)
	}
	if err != nil && !errors.Is(err, ErrNotReplicated) {
		return nil, wrap("enqueue", err)
	}
	res := make([]queue.EnqueueResult, len(jobs))
	for ci, c := range calls {
		v, _ := replies[ci].([]any)
		if len(v) != 2*len(c.idx) {
			return nil, fmt.Errorf("redisqueue: enqueue: unexpected reply %v", replies[ci])
		}
		for k, i := range c.idx {
			id, _ := v[2*k].(string)
			dup, _ := v[2*k+1].(int64)
			res[i] = queue.EnqueueResult{ID: id, Duplicate: dup == 1}
		}
	}
	return res, err
}

// execReplicated runs each enqueue call followed by WAIT on the same
// connection, one round trip per call.
func (b *Backend) execReplicated(ctx context.Context, calls []*call) ([]any, error) {
	out := make([]any, len(calls))
	var notRepl error
	for i, c := range calls {
		key := b.key(c.queue)
		var conn redis.Cmdable = b.c
		if cc, ok := b.c.(*redis.ClusterClient); ok {
			m, err := cc.MasterForKey(ctx, key)
			if err != nil {
				return nil, err
			}
			conn = m
		}
		for try := 0; ; try++ {
			pipe := conn.Pipeline()
			ev := enqueueScript.EvalSha(ctx, pipe, []string{key}, c.args...)
			w := pipe.Do(ctx, "wait", b.opts.WaitReplicas, b.opts.WaitTimeout.Milliseconds())
			_, _ = pipe.Exec(ctx)
			v, err := ev.Result()
			if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") && try == 0 {
				if err := enqueueScript.Load(ctx, conn).Err(); err != nil {
					return nil, err
				}
				continue
			}
			if err != nil {
				return nil, err
			}
			out[i] = v
			n, err := w.Int64()
			if err != nil {
				return nil, fmt.Errorf("%w: WAIT: %v", ErrNotReplicated, err)
			}
			if n < int64(b.opts.WaitReplicas) && notRepl == nil {
				notRepl = fmt.Errorf("%w: queue %q: %d of %d replicas within %v", ErrNotReplicated, c.queue, n, b.opts.WaitReplicas, b.opts.WaitTimeout)
			}
			break
		}
	}
	return out, notRepl
}

func queueName(q string) string {
	if q == "" {
		return "default"
	}
	return q
}

func checkJob(i int, j *queue.Job) error {
	switch {
	case j == nil:
		return invalid("job %d is nil", i)
	case j.ID != "":
		return invalid("job %d: ID %q: must be empty (the backend assigns it)", i, j.ID)
	case j.Kind == "":
		return invalid("job %d: Kind is empty", i)
	case j.Priority < 0 || j.Priority > 3:
		return invalid("job %d: Priority %d: must be 0…3", i, j.Priority)
	case j.MaxAttempts < 0:
		return invalid("job %d: MaxAttempts %d: must be ≥ 1", i, j.MaxAttempts)
	case j.Timeout < 0:
		return invalid("job %d: Timeout %v: must be > 0", i, j.Timeout)
	}
	return nil
}

// Fetch implements queue.Backend. It claims at most MaxBatch jobs per call.
// Each job's lease runs on the Redis server's clock. Before claiming, it
// makes up to 1,000 due scheduled jobs ready and ends up to 1,000 leases that
// ran out (those jobs are ready again at once, or dead-lettered once their
// attempts are used). req.Worker is not stored (a lease is a token, not a
// consumer).
func (b *Backend) Fetch(ctx context.Context, req queue.FetchRequest) ([]*queue.Job, error) {
	switch {
	case req.Queue == "":
		return nil, invalid("FetchRequest.Queue is empty")
	case req.Max < 1:
		return nil, invalid("FetchRequest.Max %d: must be ≥ 1", req.Max)
	case req.Lease <= 0:
		return nil, invalid("FetchRequest.Lease %v: must be > 0", req.Lease)
	case req.Limit < 0:
		return nil, invalid("FetchRequest.Limit %d: must be ≥ 0", req.Limit)
	case req.Rate.N < 0:
		return nil, invalid("FetchRequest.Rate.N %d: must be ≥ 0", req.Rate.N)
	case req.Rate.N > 0 && req.Rate.Per <= 0:
		return nil, invalid("FetchRequest.Rate.Per %v: must be > 0", req.Rate.Per)
	case req.Rate.Burst < 0:
		return nil, invalid("FetchRequest.Rate.Burst %d: must be ≥ 0", req.Rate.Burst)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	consumer := req.Worker
	if consumer == "" {
		consumer = "ladder"
	}
	burst := req.Rate.Burst
	if burst == 0 {
		burst = req.Rate.N
	}
	per := float64(req.Rate.Per) / float64(time.Millisecond)
	lease := max(1, (req.Lease+time.Millisecond-1)/time.Millisecond)
	v, err := fetchScript.Run(ctx, b.c, []string{b.key(req.Queue)}, b.ret[0], b.ret[1], consumer,
		min(req.Max, b.opts.MaxBatch), int64(lease), req.Limit, req.Rate.N, per, burst).Slice()
	if err != nil {
		return nil, wrap("fetch", err)
	}
	const width = 9
	jobs := make([]*queue.Job, 0, len(v)/width)
	var bad []queue.Outcome
	for i := 0; i+width <= len(v); i += width {
		j, err := parseFetched(req.Queue, v[i:i+width])
		if err != nil {
			bad = append(bad, queue.Outcome{Job: j, Kind: queue.Dead, Err: err.Error()})
			continue
		}
		jobs = append(jobs, j)
	}
	if len(bad) > 0 {
		b.deadLetterMalformed(ctx, bad)
	}
	return jobs, nil
}

// parseFetched builds a job from one claimed entry of fetchScript's reply;
// on error the job still carries the ID, queue and lease to dead-letter it.
func parseFetched(q string, f []any) (*queue.Job, error) {
	s := func(i int) string { v, _ := f[i].(string); return v }
	n := func(i int) int64 {
		switch v := f[i].(type) {
		case int64:
			return v
		case string:
			x, _ := strconv.ParseInt(v, 10, 64)
			return x
		}
		return 0
	}
	j := &queue.Job{ID: s(0), Queue: q, Attempt: int(n(2)), LastError: s(4), Lease: s(5)}
	if err := decodeJob([]byte(s(1)), j); err != nil {
		return j, err
	}
	p, m := n(6), n(7)
	if p < 0 || p > 3 || m < 1 {
		return j, fmt.Errorf("%w: priority %d, max attempts %d", errMalformed, p, m)
	}
	j.Priority, j.MaxAttempts = int(p), int(m)
	if ns, err := strconv.ParseInt(s(8), 10, 64); err == nil && s(8) != "" {
		j.RunAt = time.Unix(0, ns)
	} else {
		j.RunAt = time.UnixMilli(n(3))
	}
	return j, nil
}

// deadLetterMalformed dead-letters jobs Fetch could not decode, with the
// reason; a failure leaves them leased, and the lease's end brings them back
// to the next Fetch, which tries again.
func (b *Backend) deadLetterMalformed(ctx context.Context, bad []queue.Outcome) {
	for _, o := range bad {
		b.opts.Logger.Warn("redisqueue: dead-lettering a job that cannot be decoded", "queue", o.Job.Queue, "id", o.Job.ID, "reason", o.Err)
	}
	b.malformed.Add(ctx, int64(len(bad)))
	if _, err := b.Settle(ctx, bad); err != nil {
		b.opts.Logger.Warn("redisqueue: dead-lettering malformed jobs failed; their leases will bring them back", "err", err)
	}
}

// Extend implements queue.Backend.
func (b *Backend) Extend(ctx context.Context, jobs []*queue.Job, d time.Duration) ([]bool, error) {
	if d <= 0 {
		return nil, invalid("Extend: lease %v: must be > 0", d)
	}
	for i, j := range jobs {
		if j == nil {
			return nil, invalid("Extend: job %d is nil", i)
		}
	}
	out := make([]bool, len(jobs))
	if len(jobs) == 0 {
		return out, nil
	}
	calls := batches(jobs, b.opts.MaxBatch, func(j *queue.Job) string { return queueName(j.Queue) })
	ms := int64(max(1, (d+time.Millisecond-1)/time.Millisecond))
	for _, c := range calls {
		c.args = append(make([]any, 0, 3+2*len(c.idx)), b.ret[0], b.ret[1], ms)
		for _, i := range c.idx {
			c.args = append(c.args, jobs[i].ID, jobs[i].Lease)
		}
	}
	replies, err := b.exec(ctx, extendScript, calls)
	if err != nil {
		return nil, wrap("extend", err)
	}
	for ci, c := range calls {
		v, _ := replies[ci].([]any)
		for k, i := range c.idx {
			if k < len(v) {
				n, _ := v[k].(int64)
				out[i] = n == 1
			}
		}
	}
	return out, nil
}

// Settle implements queue.Backend. A Done outcome resent after its first run
// applied is recognised for the last 10,000 Done outcomes of the queue; the
// other kinds are recognised as long as the job exists.
func (b *Backend) Settle(ctx context.Context, outcomes []queue.Outcome) ([]error, error) {
	errs := make([]error, len(outcomes))
	var valid []int
	for i, o := range outcomes {
		switch {
		case o.Job == nil:
			errs[i] = invalid("outcome %d: Job is nil", i)
		case o.Kind < queue.Done || o.Kind > queue.Release:
			errs[i] = invalid("outcome %d: Kind %d unknown", i, o.Kind)
		default:
			valid = append(valid, i)
		}
	}
	if len(valid) == 0 {
		return errs, nil
	}
	calls := batches(valid, b.opts.MaxBatch, func(i int) string { return queueName(outcomes[i].Job.Queue) })
	now := time.Now()
	for _, c := range calls {
		c.args = append(make([]any, 0, 2+6*len(c.idx)), b.ret[0], b.ret[1])
		for k, vi := range c.idx {
			o := outcomes[valid[vi]]
			at := o.At
			if at.IsZero() {
				at = now
			}
			c.args = append(c.args, o.Job.ID, o.Job.Lease, int(o.Kind), at.UnixMilli(), at.UnixNano(), o.Err)
			c.idx[k] = valid[vi]
		}
	}
	replies, err := b.exec(ctx, settleScript, calls)
	if err != nil {
		return nil, wrap("settle", err)
	}
	for ci, c := range calls {
		v, _ := replies[ci].([]any)
		for k, i := range c.idx {
			var n int64
			if k < len(v) {
				n, _ = v[k].(int64)
			}
			if n != 1 {
				errs[i] = queue.ErrLeaseLost
			}
		}
	}
	return errs, nil
}

// Cancel implements queue.Backend.
func (b *Backend) Cancel(ctx context.Context, q, id string) error {
	if q == "" {
		return invalid("Cancel: queue is empty")
	}
	n, err := cancelScript.Run(ctx, b.c, []string{b.key(q)}, b.ret[0], b.ret[1], id).Int()
	if err != nil {
		return wrap("cancel", err)
	}
	if n == 0 {
		return fmt.Errorf("redisqueue: cancel job %q of queue %q: %w", id, q, queue.ErrNotFound)
	}
	return nil
}

// Pause implements queue.Backend.
func (b *Backend) Pause(ctx context.Context, q string, paused bool) error {
	if q == "" {
		return invalid("Pause: queue is empty")
	}
	flag := "0"
	if paused {
		flag = "1"
	}
	return wrap("pause", pauseScript.Run(ctx, b.c, []string{b.key(q)}, b.ret[0], b.ret[1], flag).Err())
}

// Stats implements queue.Backend. Ready counts scheduled jobs that are due
// but not yet moved to their stream (the next Fetch moves them), and Running
// counts leases that ran out but are not yet ended (the next Fetch ends them).
func (b *Backend) Stats(ctx context.Context, q string) (queue.BackendStats, error) {
	if q == "" {
		return queue.BackendStats{}, invalid("Stats: queue is empty")
	}
	v, err := statsScript.Run(ctx, b.c, []string{b.key(q)}, b.ret[0], b.ret[1]).Slice()
	if err != nil {
		return queue.BackendStats{}, wrap("stats", err)
	}
	if len(v) != 7 {
		return queue.BackendStats{}, fmt.Errorf("redisqueue: stats: unexpected reply %v", v)
	}
	n := func(i int) int64 { x, _ := v[i].(int64); return x }
	s := queue.BackendStats{Ready: n(0), Scheduled: n(1), Running: n(2), Dead: n(3), Paused: n(5) == 1}
	if ns, err := strconv.ParseInt(fmt.Sprint(v[6]), 10, 64); err == nil {
		s.Oldest = time.Unix(0, ns)
	} else if n(4) > 0 {
		s.Oldest = time.UnixMilli(n(4))
	}
	return s, nil
}

// waitChunk bounds one blocking read of Wait, so that a cancelled ctx ends
// Wait within it even on a client that ignores ctx during a read.
const waitChunk = 200 * time.Millisecond

// Wait implements queue.Backend: it returns at once when a job is ready or a
// lease has run out, else blocks on the queue's wake-up stream (XREAD BLOCK,
// at most 200 ms at a time, so that a cancelled ctx ends it that soon) until a
// job becomes ready (an enqueue, a release, a retry due now), the next
// scheduled job or lease deadline comes, or max has passed.
func (b *Backend) Wait(ctx context.Context, q string, maxWait time.Duration) error {
	if q == "" {
		return invalid("Wait: queue is empty")
	}
	deadline := time.Now().Add(maxWait)
	key := b.key(q)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		v, err := waitScript.Run(ctx, b.c, []string{key}, b.ret[0], b.ret[1]).Slice()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return wrap("wait", err)
		}
		if len(v) < 3 {
			return nil // ready now
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		block := min(left, waitChunk)
		if next, _ := v[1].(int64); next >= 0 {
			block = min(block, time.Duration(next)*time.Millisecond)
		}
		block = max(block, time.Millisecond)
		last, _ := v[2].(string)
		streams := []string{key + ":w", last}
		res, err := b.c.XRead(ctx, &redis.XReadArgs{Streams: streams, Count: 1, Block: block}).Result()
		switch {
		case err == nil && len(res) > 0:
			return nil
		case err == nil || errors.Is(err, redis.Nil):
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			return wrap("wait", err)
		}
	}
}

// Dead implements queue.Backend. Cursors are the dead letters' positions in
// their index ("<died ms>:<id>"), stable while other dead letters come and go.
func (b *Backend) Dead(ctx context.Context, q string, page queue.Page) ([]queue.DeadJob, error) {
	if q == "" {
		return nil, invalid("Dead: queue is empty")
	}
	if page.Limit < 0 {
		return nil, invalid("Page.Limit %d: must be ≥ 0", page.Limit)
	}
	limit := min(page.Limit, math.MaxInt32) // the script's number must stay an exact integer
	if limit == 0 {
		limit = 100
	}
	v, err := deadListScript.Run(ctx, b.c, []string{b.key(q)}, b.ret[0], b.ret[1], page.After, limit).Slice()
	if err != nil {
		return nil, wrap("dead", err)
	}
	out := make([]queue.DeadJob, 0, len(v)/2)
	for i := 0; i+1 < len(v); i += 2 {
		member, _ := v[i].(string)
		fields, _ := v[i+1].([]any)
		out = append(out, parseDead(q, member, fields))
	}
	return out, nil
}

// parseDead builds a DeadJob from its index member and hash; what cannot be
// decoded is left zero (the reason says why the job died).
func parseDead(q, member string, fields []any) queue.DeadJob {
	h := make(map[string]string, len(fields)/2)
	for i := 0; i+1 < len(fields); i += 2 {
		k, _ := fields[i].(string)
		v, _ := fields[i+1].(string)
		h[k] = v
	}
	d := queue.DeadJob{Cursor: member, Reason: h["why"]}
	d.Job.Queue = q
	if _, id, ok := strings.Cut(member, ":"); ok {
		d.Job.ID = id
	}
	if t, err := strconv.ParseInt(h["t"], 10, 64); err == nil {
		d.DiedAt = time.UnixMilli(t)
	}
	if err := decodeJob([]byte(h["d"]), &d.Job); err != nil && h["d"] != "" {
		d.Reason += " (stored job: " + err.Error() + ")"
	}
	d.Job.Priority, _ = strconv.Atoi(h["p"])
	d.Job.MaxAttempts, _ = strconv.Atoi(h["m"])
	d.Job.Attempt, _ = strconv.Atoi(h["a"])
	d.Job.LastError = h["e"]
	if ns, err := strconv.ParseInt(h["rn"], 10, 64); err == nil {
		d.Job.RunAt = time.Unix(0, ns)
	} else if ms, err := strconv.ParseInt(h["r"], 10, 64); err == nil {
		d.Job.RunAt = time.UnixMilli(ms)
	}
	return d
}

// RetryDead implements queue.Backend. A dead letter made from a stream entry
// that held no job cannot run and is skipped (PurgeDead removes it).
func (b *Backend) RetryDead(ctx context.Context, q string, ids []string) (int, error) {
	return b.moveDead(ctx, "retry", q, ids)
}

// PurgeDead implements queue.Backend.
func (b *Backend) PurgeDead(ctx context.Context, q string, ids []string) (int, error) {
	return b.moveDead(ctx, "purge", q, ids)
}

func (b *Backend) moveDead(ctx context.Context, op, q string, ids []string) (int, error) {
	if q == "" {
		return 0, invalid("%sDead: queue is empty", op)
	}
	key := []string{b.key(q)}
	total := 0
	if ids == nil {
		for {
			n, err := deadMoveScript.Run(ctx, b.c, key, b.ret[0], b.ret[1], op, "all").Int()
			if err != nil {
				return total, wrap(op+" dead", err)
			}
			total += n
			if n == 0 {
				return total, nil
			}
		}
	}
	for len(ids) > 0 {
		n := min(len(ids), b.opts.MaxBatch)
		args := append(make([]any, 0, 4+n), b.ret[0], b.ret[1], op, "ids")
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		moved, err := deadMoveScript.Run(ctx, b.c, key, args...).Int()
		if err != nil {
			return total, wrap(op+" dead", err)
		}
		total += moved
		ids = ids[n:]
	}
	return total, nil
}
