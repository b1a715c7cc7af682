package pgqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/ladder-go/ladder/queue"
)

// Defaults for a job whose producer left a field zero (queue.Client fills
// them; a Backend used directly gets the same).
const (
	defaultQueue       = "default"
	defaultMaxAttempts = 25
	defaultTimeout     = time.Minute
)

// Enqueue stores jobs all or none, in one round trip (one statement, plus
// one NOTIFY per queue with a job ready now), and returns one result per
// job in order. A job with a UniqueKey takes the key in the uniq table,
// where it stays until UniqueUntil (the producer's clock: the latest
// EnqueuedAt of the call, or this machine's time) even after the job ends.
func (b *Backend) Enqueue(ctx context.Context, jobs []*queue.Job) ([]queue.EnqueueResult, error) {
	return b.enqueue(ctx, b.pool, jobs)
}

// EnqueueTx stores jobs in the caller's transaction: they exist if and only
// if tx commits, and workers are notified at the commit. Build the jobs with
// queue.Client.NewJob. Unique keys are taken in tx too (a concurrent
// enqueue of the same key waits for tx to end).
func (b *Backend) EnqueueTx(ctx context.Context, tx pgx.Tx, jobs ...*queue.Job) ([]queue.EnqueueResult, error) {
	if tx == nil {
		return nil, fmt.Errorf("%w: tx is nil", ErrInvalidOptions)
	}
	return b.enqueue(ctx, tx, jobs)
}

// enqueueArgs are the columns of one enqueue call, as arrays.
type enqueueArgs struct {
	queues, kinds, metas, ukeys []string
	args                        [][]byte
	prios                       []int16
	maxes                       []int32
	timeouts                    []int64
	runAt, enqAt, until         []pgtype.Timestamptz
}

func ts(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

func validateJob(i int, j *queue.Job) error {
	switch {
	case j == nil:
		return fmt.Errorf("%w: job %d is nil", ErrInvalidOptions, i)
	case j.ID != "":
		return fmt.Errorf("%w: job %d: ID %q: must be empty (the backend assigns it)", ErrInvalidOptions, i, j.ID)
	case j.Kind == "":
		return fmt.Errorf("%w: job %d: Kind is empty", ErrInvalidOptions, i)
	case j.Priority < 0 || j.Priority > 3:
		return fmt.Errorf("%w: job %d: Priority %d: want 0…3", ErrInvalidOptions, i, j.Priority)
	case j.MaxAttempts < 0:
		return fmt.Errorf("%w: job %d: MaxAttempts %d: must be ≥ 1", ErrInvalidOptions, i, j.MaxAttempts)
	case j.Timeout < 0:
		return fmt.Errorf("%w: job %d: Timeout %v: must be > 0", ErrInvalidOptions, i, j.Timeout)
	}
	// PostgreSQL text (and jsonb) holds neither NUL bytes nor invalid UTF-8.
	for _, f := range [...]struct{ name, v string }{{"Queue", j.Queue}, {"Kind", j.Kind}, {"UniqueKey", j.UniqueKey}} {
		if !storable(f.v) {
			return fmt.Errorf("%w: job %d: %s %q: must be UTF-8 without NUL bytes", ErrInvalidOptions, i, f.name, f.v)
		}
	}
	for k, v := range j.Meta {
		if !storable(k) || !storable(v) {
			return fmt.Errorf("%w: job %d: Meta[%q] = %q: must be UTF-8 without NUL bytes", ErrInvalidOptions, i, k, v)
		}
	}
	return nil
}

func storable(s string) bool { return utf8.ValidString(s) && !strings.Contains(s, "\x00") }

func (b *Backend) enqueue(ctx context.Context, q querier, jobs []*queue.Job) ([]queue.EnqueueResult, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	type ukey struct{ queue, key string }
	var (
		a       enqueueArgs
		unique  bool
		first   map[ukey]int // first job of the call holding each key
		dupOf   []int        // per job: -1, or the earlier job of the call with its key
		latest  time.Time
		wakeSet []string
	)
	now := time.Now()
	dupOf = make([]int, len(jobs))
	for i, j := range jobs {
		if err := validateJob(i, j); err != nil {
			return nil, err
		}
		dupOf[i] = -1
		qn := j.Queue
		if qn == "" {
			qn = defaultQueue
		}
		if j.UniqueKey != "" {
			unique = true
			if first == nil {
				first = map[ukey]int{}
			}
			k := ukey{qn, j.UniqueKey}
			if f, ok := first[k]; ok {
				dupOf[i] = f
				continue
			}
			first[k] = i
		}
		if j.EnqueuedAt.After(latest) {
			latest = j.EnqueuedAt
		}
		var meta string
		if len(j.Meta) > 0 {
			m, err := json.Marshal(j.Meta)
			if err != nil {
				return nil, fmt.Errorf("%w: job %d: Meta: %v", ErrInvalidOptions, i, err)
			}
			meta = string(m)
		}
		maxAtt, timeout := j.MaxAttempts, j.Timeout
		if maxAtt == 0 {
			maxAtt = defaultMaxAttempts
		}
		if timeout == 0 {
			timeout = defaultTimeout
		}
		args := j.Args
		if args == nil {
			args = []byte{}
		}
		a.queues = append(a.queues, qn)
		a.kinds = append(a.kinds, j.Kind)
		a.args = append(a.args, args)
		a.prios = append(a.prios, int16(j.Priority))
		a.maxes = append(a.maxes, int32(min(maxAtt, 1<<31-1)))
		a.timeouts = append(a.timeouts, max(timeout.Milliseconds(), 1))
		a.runAt = append(a.runAt, ts(j.RunAt))
		a.enqAt = append(a.enqAt, ts(j.EnqueuedAt))
		a.metas = append(a.metas, meta)
		a.ukeys = append(a.ukeys, j.UniqueKey)
		a.until = append(a.until, pgtype.Timestamptz{Time: j.UniqueUntil, Valid: true})
		if !j.RunAt.After(now) && !slices.Contains(wakeSet, qn) {
			wakeSet = append(wakeSet, qn)
		}
	}
	if latest.IsZero() {
		latest = now
	}
	// Rows sent: the jobs that are not a repeat of an earlier key in the call.
	ids := make([]int64, 0, len(a.queues))
	stored := make([]bool, 0, len(a.queues))
	holder := make([]int64, 0, len(a.queues))

	batch := &pgx.Batch{}
	if unique {
		batch.Queue(b.sql.enqueueUnique, a.queues, a.kinds, a.args, a.prios, a.maxes, a.timeouts,
			a.runAt, a.enqAt, a.metas, a.ukeys, a.until, latest)
	} else {
		batch.Queue(b.sql.enqueue, a.queues, a.kinds, a.args, a.prios, a.maxes, a.timeouts,
			a.runAt, a.enqAt, a.metas) // zero times go NULL: now() on the server
	}
	if len(wakeSet) > 0 {
		batch.Queue(b.sql.notify, b.channel, wakeSet)
	}
	br := q.SendBatch(ctx, batch)
	rows, err := br.Query()
	if err == nil {
		for rows.Next() {
			var id int64
			if unique {
				var ok bool
				var h *int64
				if err = rows.Scan(&id, &ok, &h); err != nil {
					break
				}
				stored = append(stored, ok)
				holder = append(holder, deref(h))
			} else {
				if err = rows.Scan(&id); err != nil {
					break
				}
				stored = append(stored, true)
				holder = append(holder, 0)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, wrapErr(ctx, "enqueue", err)
	}
	if len(ids) != len(a.queues) {
		return nil, fmt.Errorf("pgqueue: enqueue: stored %d rows for %d jobs", len(ids), len(a.queues))
	}
	if !unique {
		// INSERT … SELECT FROM unnest takes IDs from the sequence in row
		// order; RETURNING's order is not promised, so sort.
		slices.Sort(ids)
	}
	// A duplicate whose holder committed after the statement's snapshot
	// was not visible to it: look the holder up again.
	var missQ, missK []string
	for i := range ids {
		if !stored[i] && holder[i] == 0 {
			missQ, missK = append(missQ, a.queues[i]), append(missK, a.ukeys[i])
		}
	}
	if len(missQ) > 0 {
		found := map[ukey]int64{}
		rows, err := q.Query(ctx, b.sql.holders, missQ, missK)
		if err != nil {
			return nil, wrapErr(ctx, "enqueue: unique key holders", err)
		}
		for rows.Next() {
			var k string
			var id int64
			if err := rows.Scan(&k, &id); err != nil {
				rows.Close()
				return nil, wrapErr(ctx, "enqueue: unique key holders", err)
			}
			for i := range missQ {
				if missK[i] == k {
					found[ukey{missQ[i], k}] = id
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrapErr(ctx, "enqueue: unique key holders", err)
		}
		for i := range ids {
			if !stored[i] && holder[i] == 0 {
				holder[i] = found[ukey{a.queues[i], a.ukeys[i]}]
			}
		}
	}
	out := make([]queue.EnqueueResult, len(jobs))
	row := 0
	for i := range jobs {
		if f := dupOf[i]; f >= 0 {
			out[i] = queue.EnqueueResult{ID: out[f].ID, Duplicate: true}
			continue
		}
		if stored[row] {
			out[i] = queue.EnqueueResult{ID: strconv.FormatInt(ids[row], 10)}
		} else {
			out[i] = queue.EnqueueResult{ID: strconv.FormatInt(holder[row], 10), Duplicate: true}
		}
		row++
	}
	if unique {
		b.maybeTrim(ctx, "")
	}
	return out, nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
