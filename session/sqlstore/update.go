package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/ladder-go/ladder/session"
)

// errForward carries the successor key of a renewed session out of a transaction.
type errForward struct{ key string }

func (e errForward) Error() string { return "sqlstore: session renewed" }

// Apply implements session.Store.
func (s *Store) Apply(ctx context.Context, key string, u session.Update) error {
	for range maxForwards {
		err := s.tx(ctx, func(tx *sql.Tx) error { return s.apply(ctx, tx, key, u) })
		var fwd errForward
		if !errors.As(err, &fwd) {
			return wrap("apply", err)
		}
		key = fwd.key
	}
	return session.ErrNotFound
}

func (s *Store) apply(ctx context.Context, tx *sql.Tx, key string, u session.Update) error {
	now := s.now().UnixMilli()
	setUser, setExp, exp := 0, 0, int64(0)
	if u.SetUser {
		setUser = 1
	}
	if !u.Expires.IsZero() {
		setExp, exp = 1, u.Expires.UnixMilli()
	}
	res, err := tx.ExecContext(ctx, s.q.touchAll, setUser, u.User, setExp, exp, key, now)
	if err := s.locked(ctx, tx, key, now, res, err); err != nil {
		return err
	}
	for name, v := range u.Set {
		if _, err := tx.ExecContext(ctx, s.q.upsertVal, key, name, nonNil(v)); err != nil {
			return err
		}
	}
	for _, name := range u.Delete {
		if _, err := tx.ExecContext(ctx, s.q.delVal, key, name); err != nil {
			return err
		}
	}
	if u.MaxSize > 0 {
		// The session row is locked: no concurrent update changes the values meanwhile.
		var size int64
		if err := tx.QueryRowContext(ctx, s.q.size, key).Scan(&size); err != nil {
			return err
		}
		if size > int64(u.MaxSize) {
			return session.ErrTooLarge // rolled back: nothing applied
		}
	}
	return nil
}

// locked checks the result of the update that locks key's live row: with no row, it
// returns the successor of a renewed session as errForward, or ErrNotFound.
func (s *Store) locked(ctx context.Context, tx *sql.Tx, key string, now int64, res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var fwd string
	err = tx.QueryRowContext(ctx, s.q.forward, key, now).Scan(&fwd)
	switch {
	case errors.Is(err, sql.ErrNoRows) || err == nil && fwd == "":
		return session.ErrNotFound
	case err != nil:
		return err
	}
	return errForward{fwd}
}

// Take implements session.Store. It locks the session's row first (as Apply does), so a
// concurrent Renew moves the values either before or after the take.
func (s *Store) Take(ctx context.Context, key, name string) ([]byte, error) {
	for range maxForwards {
		var v []byte
		err := s.tx(ctx, func(tx *sql.Tx) error {
			now := s.now().UnixMilli()
			res, err := tx.ExecContext(ctx, s.q.touch, key, now)
			if err := s.locked(ctx, tx, key, now, res, err); err != nil {
				return err
			}
			err = tx.QueryRowContext(ctx, s.q.takeVal, key, name).Scan(&v)
			if errors.Is(err, sql.ErrNoRows) {
				return session.ErrNoValue
			}
			return err
		})
		var fwd errForward
		if !errors.As(err, &fwd) {
			if err != nil {
				return nil, wrap("take", err)
			}
			return nonNil(v), nil
		}
		key = fwd.key
	}
	return nil, session.ErrNotFound
}

// Renew implements session.Store: the old row becomes a tombstone forwarding to newKey,
// and the value rows move to newKey, in one transaction.
func (s *Store) Renew(ctx context.Context, oldKey, newKey string, expires time.Time, grace time.Duration) error {
	return wrap("renew", s.tx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		var created int64
		var user string
		err := tx.QueryRowContext(ctx, s.q.renewSeal, newKey, now.Add(grace).UnixMilli(), oldKey, now.UnixMilli()).
			Scan(&created, &user)
		if errors.Is(err, sql.ErrNoRows) {
			return session.ErrNotFound
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q.renewInsert, newKey, created, expires.UnixMilli(), user, now.UnixMilli())
		if err := inserted(res, err); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q.clearVals, newKey); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q.moveVals, newKey, oldKey)
		return err
	}))
}

// Destroy implements session.Store.
func (s *Store) Destroy(ctx context.Context, key string, grace time.Duration) error {
	return wrap("destroy", s.tx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		if _, err := tx.ExecContext(ctx, s.q.destroy, key, now.UnixMilli(), now.Add(grace).UnixMilli()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q.destroyVals, key)
		return err
	}))
}

// DestroyUser implements session.Store. On PostgreSQL each pass runs at REPEATABLE READ
// and is retried on a serialization failure: at READ COMMITTED, a pass whose UPDATE waited
// for a concurrent Renew of one of the user's sessions would re-check the old row (now a
// tombstone), skip it, and not see the new one. Passes repeat until one finds nothing.
func (s *Store) DestroyUser(ctx context.Context, user string, grace time.Duration) (int, error) {
	if user == "" {
		return 0, nil // anonymous sessions have usr = ''
	}
	total := 0
	retries := 0
	for pass := 0; pass < maxForwards; {
		var n int
		err := s.txOpts(ctx, s.q.isolated, func(tx *sql.Tx) error {
			now := s.now()
			rows, err := tx.QueryContext(ctx, s.q.destroyUser, now.Add(grace).UnixMilli(), user, now.UnixMilli())
			if err != nil {
				return err
			}
			var keys []string
			for rows.Next() {
				var k string
				if err := rows.Scan(&k); err != nil {
					rows.Close()
					return err
				}
				keys = append(keys, k)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, k := range keys {
				if _, err := tx.ExecContext(ctx, s.q.destroyVals, k); err != nil {
					return err
				}
			}
			n = len(keys)
			return nil
		})
		if err != nil && retryable(err) && retries < maxRetries && ctx.Err() == nil {
			retries++
			continue
		}
		if err != nil {
			return total, wrap("destroy user", err)
		}
		total += n
		if n == 0 {
			break
		}
		pass++
	}
	return total, nil
}

// maxRetries bounds the retries of a transaction that lost a serialization conflict.
const maxRetries = 32

// retryable reports a serialization failure or a deadlock (SQLSTATE 40001, 40P01), as
// reported by drivers whose errors have a SQLState method (pgx, lib/pq).
func retryable(err error) bool {
	var e interface{ SQLState() string }
	if !errors.As(err, &e) {
		return false
	}
	code := e.SQLState()
	return code == "40001" || code == "40P01"
}
