package pgqueue

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/ladder-go/ladder/queue"
)

func validateFetch(req queue.FetchRequest) error {
	switch {
	case req.Queue == "":
		return fmt.Errorf("%w: FetchRequest.Queue is empty", ErrInvalidOptions)
	case req.Max < 1:
		return fmt.Errorf("%w: FetchRequest.Max %d: must be ≥ 1", ErrInvalidOptions, req.Max)
	case req.Lease <= 0:
		return fmt.Errorf("%w: FetchRequest.Lease %v: must be > 0", ErrInvalidOptions, req.Lease)
	case req.Limit < 0:
		return fmt.Errorf("%w: FetchRequest.Limit %d: must be ≥ 0", ErrInvalidOptions, req.Limit)
	case req.Rate.N < 0:
		return fmt.Errorf("%w: FetchRequest.Rate.N %d: must be ≥ 0", ErrInvalidOptions, req.Rate.N)
	case req.Rate.N > 0 && req.Rate.Per <= 0:
		return fmt.Errorf("%w: FetchRequest.Rate.Per %v: must be > 0", ErrInvalidOptions, req.Rate.Per)
	case req.Rate.Burst < 0:
		return fmt.Errorf("%w: FetchRequest.Rate.Burst %d: must be ≥ 0", ErrInvalidOptions, req.Rate.Burst)
	}
	return nil
}

// Fetch leases up to req.Max ready jobs of req.Queue in one statement (see
// claimSQL); with a Limit or Rate, in one transaction that first locks the
// queue's row (refilling its token bucket), so that fetchers of the queue
// take turns and count each other's leases. Rows that do not decode are
// dead-lettered with the reason and not returned.
func (b *Backend) Fetch(ctx context.Context, req queue.FetchRequest) ([]*queue.Job, error) {
	if err := validateFetch(req); err != nil {
		return nil, err
	}
	b.wake.fetching(req.Queue)
	leaseMs := max(req.Lease.Milliseconds(), 1)
	// The statements count in SQL integers: a Max or Limit beyond them is
	// no bound at all.
	req.Max, req.Limit = min(req.Max, math.MaxInt32), min(req.Limit, math.MaxInt32)
	var rows pgx.Rows
	var br pgx.BatchResults
	var err error
	if req.Limit > 0 || req.Rate.N > 0 {
		burst, perSec := float64(0), float64(0)
		if req.Rate.N > 0 {
			burst = float64(req.Rate.Burst)
			if burst == 0 {
				burst = float64(req.Rate.N)
			}
			perSec = float64(req.Rate.N) / req.Rate.Per.Seconds()
		}
		// One batch is one implicit transaction (a single Sync): the row
		// lock taken by the first statement is held through the claim.
		batch := &pgx.Batch{}
		batch.Queue(b.sql.lockQueue, req.Queue, burst, perSec)
		batch.Queue(b.sql.claimLimited, req.Queue, req.Max, leaseMs, req.Limit, req.Rate.N > 0)
		br = b.pool.SendBatch(ctx, batch)
		if _, err = br.Exec(); err == nil {
			rows, err = br.Query()
		}
	} else {
		rows, err = b.pool.Query(ctx, b.sql.claim, req.Queue, req.Max, leaseMs)
	}
	var jobs []*queue.Job
	var bad []malformed
	died := false
	if err == nil {
		jobs, bad, died, err = scanClaimed(rows)
	}
	if br != nil {
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return nil, wrapErr(ctx, "fetch", err)
	}
	for _, m := range bad {
		if _, err := b.pool.Exec(ctx, b.sql.deadletter, m.id, m.lease, m.reason); err != nil {
			// The lease runs out and the next Fetch tries again.
			return jobs, nil
		}
		died = true
	}
	if died {
		b.maybeTrim(ctx, req.Queue)
	}
	slices.SortFunc(jobs, func(x, y *queue.Job) int {
		if x.Priority != y.Priority {
			return x.Priority - y.Priority
		}
		if c := x.RunAt.Compare(y.RunAt); c != 0 {
			return c
		}
		xi, _ := parseID(x.ID)
		yi, _ := parseID(y.ID)
		return cmp.Compare(xi, yi)
	})
	return jobs, nil
}

// malformed is a claimed row that cannot become a queue.Job.
type malformed struct {
	id, lease int64
	reason    string
}

// rawJob is a jobs row as scanned, before it is checked.
type rawJob struct {
	id                   int64
	queue, kind          string
	args                 []byte
	priority             int16
	attempt, maxAttempts int32
	timeoutMs            int64
	runAt, enqAt, until  pgtype.Timestamptz
	uniqueKey, lastError *string
	meta                 []byte
	lease                int64
}

func (r *rawJob) dest() []any {
	return []any{&r.id, &r.queue, &r.kind, &r.args, &r.priority, &r.attempt, &r.maxAttempts, &r.timeoutMs,
		&r.runAt, &r.enqAt, &r.uniqueKey, &r.until, &r.meta, &r.lastError, &r.lease}
}

// job checks the row and returns the job, or why the row is malformed
// (a hand-edited row: impossible values, metadata that does not decode).
func (r *rawJob) job() (*queue.Job, error) {
	finite := func(t pgtype.Timestamptz) bool { return t.Valid && t.InfinityModifier == pgtype.Finite }
	switch {
	case r.kind == "":
		return nil, errors.New("kind is empty")
	case r.priority < 0 || r.priority > 3:
		return nil, fmt.Errorf("priority %d: want 0…3", r.priority)
	case r.maxAttempts < 1:
		return nil, fmt.Errorf("max_attempts %d: must be ≥ 1", r.maxAttempts)
	case r.attempt < 0:
		return nil, fmt.Errorf("attempt %d: must be ≥ 0", r.attempt)
	case r.timeoutMs <= 0:
		return nil, fmt.Errorf("timeout_ms %d: must be > 0", r.timeoutMs)
	case !finite(r.runAt):
		return nil, errors.New("run_at is not a finite time")
	case !finite(r.enqAt):
		return nil, errors.New("enqueued_at is not a finite time")
	case r.uniqueKey != nil && !finite(r.until):
		return nil, errors.New("unique_until is not a finite time")
	}
	j := &queue.Job{
		ID: strconv.FormatInt(r.id, 10), Kind: r.kind, Queue: r.queue, Args: r.args,
		Priority: int(r.priority), Attempt: int(r.attempt), MaxAttempts: int(r.maxAttempts),
		Timeout: time.Duration(r.timeoutMs) * time.Millisecond,
		RunAt:   r.runAt.Time, EnqueuedAt: r.enqAt.Time, Lease: strconv.FormatInt(r.lease, 10),
	}
	if r.uniqueKey != nil {
		j.UniqueKey, j.UniqueUntil = *r.uniqueKey, r.until.Time
	}
	if r.lastError != nil {
		j.LastError = *r.lastError
	}
	if len(r.meta) > 0 && string(r.meta) != "null" {
		if err := json.Unmarshal(r.meta, &j.Meta); err != nil {
			return nil, fmt.Errorf("meta does not decode as an object of strings: %v", err)
		}
	}
	return j, nil
}

// scanClaimed reads the claim's rows: leased jobs, malformed rows to
// dead-letter, and whether the claim dead-lettered expired jobs itself.
func scanClaimed(rows pgx.Rows) (jobs []*queue.Job, bad []malformed, died bool, err error) {
	defer rows.Close()
	for rows.Next() {
		var state int16
		var r rawJob
		if err := rows.Scan(append([]any{&state}, r.dest()...)...); err != nil {
			return nil, nil, false, err
		}
		if state != stateRunning {
			died = true
			continue
		}
		j, jerr := r.job()
		if jerr != nil {
			bad = append(bad, malformed{r.id, r.lease, pgText("malformed job: " + jerr.Error())})
			continue
		}
		jobs = append(jobs, j)
	}
	return jobs, bad, died, rows.Err()
}
