package app

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"time"

	"github.com/ladder-go/ladder/replica"
)

var _ KeyedStore = (*SQLStore)(nil)

// sqlTx is a transaction of the write handle: *sql.Tx or *replica.Tx (whose
// Commit records the write's position for read-your-writes).
type sqlTx interface {
	DB
	Commit() error
	Rollback() error
}

// begin starts a transaction on the write handle: a *sql.DB, a *sql.Conn
// or a *replica.Router. Any other handle cannot record keys.
func (s *SQLStore) begin(ctx context.Context) (sqlTx, error) {
	switch w := s.w.(type) {
	case *replica.Router:
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			return nil, wrap("begin", err)
		}
		return tx, nil
	case interface {
		BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
	}:
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			return nil, wrap("begin", err)
		}
		return tx, nil
	}
	return nil, ErrKeyUnsupported
}

// keyed runs work in a transaction together with the record of (owner,
// key) for op at at (the request's time), a record of the key older than
// IdempotencyKeyTTL counting as none. If another request recorded that key
// already (a concurrent one is waited for by the key's unique index),
// nothing is written and its record's ref is returned with replayed true,
// or ErrKeyReused if it was made for another op or payload; replay, if not
// nil, then reads what the record refers to within the transaction (on the
// primary). work returns the ref to record. With workFirst the work runs
// before the key is recorded (two statements for a post: its INSERT, then
// the key's with its ID), else after (a signup: the key first, so a repeat
// finds it before the user's name collides).
func (s *SQLStore) keyed(ctx context.Context, at time.Time, owner, key, op, fp string, workFirst bool, work func(tx sqlTx) (int64, error), replay func(tx sqlTx, ref int64) error) (ref int64, replayed bool, err error) {
	if at.IsZero() {
		at = time.Now()
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return 0, false, err
	}
	defer func() {
		if err != nil || replayed {
			tx.Rollback()
		}
	}()
	if workFirst {
		if ref, err = work(tx); err != nil {
			return 0, false, err
		}
	}
	res, err := tx.ExecContext(ctx, s.q.claimKey, owner, key, op, fp, http.StatusCreated, ref, at.UnixNano(), at.Add(-IdempotencyKeyTTL).UnixNano())
	if err != nil {
		return 0, false, wrap(op+": record key", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, false, wrap(op+": record key", err)
	} else if n == 0 {
		var gotOp, gotFP string
		if err := tx.QueryRowContext(ctx, s.q.keyRecord, owner, key).Scan(&gotOp, &gotFP, &ref); err != nil {
			return 0, false, wrap(op+": key record", err)
		}
		if gotOp != op || gotFP != fp {
			return 0, false, fmt.Errorf("%w: key %q was used for %s", ErrKeyReused, key, gotOp)
		}
		if replay != nil {
			if err := replay(tx, ref); err != nil {
				return 0, false, err
			}
		}
		return ref, true, nil // the deferred rollback undoes a work done first
	}
	if !workFirst {
		if ref, err = work(tx); err != nil {
			return 0, false, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, false, wrap(op+": commit", err)
	}
	s.sweepKeys(ctx, at)
	return ref, false, nil
}

// Sweeps of expired key records: at most one a second (by the requests'
// clock), in batches of sweepBatch rows, at most sweepBatches of them.
const (
	sweepEvery   = time.Second
	sweepBatch   = 1000
	sweepBatches = 16
)

// sweepKeys deletes key records older than IdempotencyKeyTTL, if no sweep
// ran within sweepEvery: the table stays bounded by the keys of a TTL
// (unless more than sweepBatch×sweepBatches keys a second arrive). Each
// batch is its own statement, outside the write's transaction, so no lock
// is held long; a failure is left for the next sweep.
func (s *SQLStore) sweepKeys(ctx context.Context, at time.Time) {
	now, last := at.UnixNano(), s.swept.Load()
	if now-last < int64(sweepEvery) && now >= last || !s.swept.CompareAndSwap(last, now) {
		return
	}
	before := at.Add(-IdempotencyKeyTTL).UnixNano()
	for range sweepBatches {
		res, err := s.w.ExecContext(ctx, s.q.sweepKeys, before, sweepBatch)
		if err != nil {
			return
		}
		if n, err := res.RowsAffected(); err != nil || n < sweepBatch {
			return
		}
	}
}

// CreateUserKeyed implements KeyedStore.
func (s *SQLStore) CreateUserKeyed(ctx context.Context, u User, hash, key string) (bool, error) {
	_, replayed, err := s.keyed(ctx, u.Created, u.Name, key, "signup", "", false, func(tx sqlTx) (int64, error) {
		_, err := tx.ExecContext(ctx, s.q.insertUser, u.Name, hash, u.Created.UnixNano())
		if isUniqueViolation(err) {
			return 0, fmt.Errorf("%w: %q", ErrTaken, u.Name)
		}
		return 0, wrap("create user", err)
	}, nil)
	return replayed, err
}

// CreatePostKeyed implements KeyedStore.
func (s *SQLStore) CreatePostKeyed(ctx context.Context, p Post, key string) (Post, bool, error) {
	var stored Post
	id, replayed, err := s.keyed(ctx, p.Created, p.Author, key, "post", fingerprint(p.Body), true, func(tx sqlTx) (int64, error) {
		var id int64
		err := tx.QueryRowContext(ctx, s.q.insertPostID, p.Author, p.Body, p.Created.UnixNano()).Scan(&id)
		return id, wrap("create post", err)
	}, func(tx sqlTx, id int64) error {
		var ns int64
		err := tx.QueryRowContext(ctx, s.q.postByID, id).Scan(&stored.ID, &stored.Author, &stored.Body, &ns)
		stored.Created = time.Unix(0, ns).UTC()
		return wrap("replayed post", err)
	})
	if err != nil {
		return Post{}, false, err
	}
	if !replayed {
		p.ID = id
		return p, false, nil
	}
	return stored, true, nil
}
