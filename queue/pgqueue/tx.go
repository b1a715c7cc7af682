package pgqueue

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ladder-go/ladder/queue"
)

// CompleteTx marks job done inside the handler's own transaction tx, if
// its lease is still held: the handler's database effects and the
// completion commit together, or neither does (effectively once). When the
// lease is lost (it ran out and the job was fetched again, or it was
// cancelled) it returns an error wrapping queue.ErrLeaseLost, and the
// caller must roll tx back. After tx commits, the worker's own Settle of
// the job (Done) succeeds and changes nothing.
//
// It deletes the row and so takes its lock until tx ends: a tx that stays
// open past the lease keeps another fetcher from reclaiming the job (the
// claim skips locked rows) until it ends.
func (b *Backend) CompleteTx(ctx context.Context, tx pgx.Tx, job *queue.Job) error {
	if tx == nil || job == nil {
		return fmt.Errorf("%w: CompleteTx needs a tx and a job", ErrInvalidOptions)
	}
	id, ok1 := parseID(job.ID)
	l, ok2 := parseLease(job.Lease)
	if !ok1 || !ok2 {
		return fmt.Errorf("pgqueue: complete job %q: %w", job.ID, queue.ErrLeaseLost)
	}
	tag, err := tx.Exec(ctx, b.sql.completeTx, id, l)
	if err != nil {
		return wrapErr(ctx, "complete", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgqueue: complete job %s: %w", job.ID, queue.ErrLeaseLost)
	}
	return nil
}
