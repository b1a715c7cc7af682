// Package sqlstore keeps sessions in PostgreSQL or SQLite through database/sql: the
// store for services that already run a database and want stateless web servers without
// adding Redis ("load balancer and replicas" stage).
//
// Two tables hold the sessions: <Table> has one row per session (creation, expiry, user,
// tombstone) and <Table>_values one row per value, so a request's commit upserts and
// deletes only the values it changed, in one transaction that first locks the session's
// row and applies only if the session is still live. Renewal moves the value rows to the
// new key and turns the old row into a tombstone that forwards late updates. Expired rows
// are deleted by a cleanup goroutine that Close stops.
//
// Write to the primary: give New a *sql.DB on the primary, or on PgBouncer in transaction
// mode: every change is one transaction and the store keeps no session-level state (with
// pgx behind a PgBouncer older than 1.21, add default_query_exec_mode=exec to the DSN so
// that no prepared statement outlives a transaction).
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ladder-go/ladder/session"
)

// Options configure a Store. The zero value is valid; a zero field means its default, and
// a negative CleanupInterval is an error wrapping ErrInvalidOptions.
type Options struct {
	// Table is the sessions table name (plain identifier); values live in <Table>_values.
	// "" means "ladder_sessions".
	Table string
	// SkipSchema skips CREATE TABLE IF NOT EXISTS (for schemas managed by migrations; see
	// Schema).
	SkipSchema bool
	// CleanupInterval is how often expired sessions and tombstones are deleted; 0 means
	// 5 minutes.
	CleanupInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger logs cleanup failures; nil means slog.Default().
	Logger *slog.Logger
}

// Store is a session.Store on a SQL database. Close stops its cleanup goroutine.
type Store struct {
	db   *sql.DB
	q    queries
	now  func() time.Time
	log  *slog.Logger
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

var _ session.Store = (*Store)(nil)

const maxForwards = 8

// ErrInvalidOptions is wrapped by every configuration error of New; errors.Is also
// matches it with session.ErrInvalidOptions.
var ErrInvalidOptions error = invalidOptions{}

type invalidOptions struct{}

func (invalidOptions) Error() string        { return "sqlstore: invalid options" }
func (invalidOptions) Is(target error) bool { return target == session.ErrInvalidOptions }

// Schema returns the statements that create the tables, for migration tools.
func Schema(d Dialect, table string) []string { return newQueries(d, table).schema }

// New returns a Store on db, creates its tables unless opts.SkipSchema, and starts the
// cleanup goroutine.
func New(ctx context.Context, db *sql.DB, d Dialect, opts Options) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: db is nil", ErrInvalidOptions)
	}
	if d != Postgres && d != SQLite {
		return nil, fmt.Errorf("%w: dialect %v: want Postgres or SQLite", ErrInvalidOptions, d)
	}
	if opts.Table == "" {
		opts.Table = "ladder_sessions"
	}
	if !validTable(opts.Table) {
		return nil, fmt.Errorf("%w: Table %q: want letters, digits and '_'", ErrInvalidOptions, opts.Table)
	}
	if opts.CleanupInterval < 0 {
		return nil, fmt.Errorf("%w: CleanupInterval %v: must be ≥ 0", ErrInvalidOptions, opts.CleanupInterval)
	}
	if opts.CleanupInterval == 0 {
		opts.CleanupInterval = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Store{db: db, q: newQueries(d, opts.Table), now: opts.Now, log: opts.Logger,
		stop: make(chan struct{}), done: make(chan struct{})}
	if !opts.SkipSchema {
		for _, stmt := range s.q.schema {
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				return nil, fmt.Errorf("sqlstore: creating schema: %w", err)
			}
		}
	}
	go s.cleanup(opts.CleanupInterval)
	return s, nil
}

// Close stops the cleanup goroutine and waits for it; it does not close the *sql.DB.
func (s *Store) Close() error {
	s.once.Do(func() { close(s.stop) })
	<-s.done
	return nil
}

func (s *Store) cleanup(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // cancel a sweep in progress when Close is called
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("sqlstore: deleting expired sessions", "error", err)
			}
		}
	}
}

// Sweep deletes expired sessions and tombstones now and returns how many rows of the
// sessions table it deleted. The cleanup goroutine calls it every CleanupInterval.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := s.now().UnixMilli()
		if _, err := tx.ExecContext(ctx, s.q.sweepVals, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q.sweep, now)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, wrap("sweep", err)
}

func wrap(op string, err error) error {
	if err == nil || errors.Is(err, session.ErrNotFound) || errors.Is(err, session.ErrRenewed) || errors.Is(err, session.ErrExists) ||
		errors.Is(err, session.ErrNoValue) || errors.Is(err, session.ErrTooLarge) {
		return err
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// tx runs fn in a transaction, committing if it returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.txOpts(ctx, nil, fn)
}

// txOpts runs fn in a transaction with opts, committing if it returns nil.
func (s *Store) txOpts(ctx context.Context, opts *sql.TxOptions, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Load implements session.Store.
func (s *Store) Load(ctx context.Context, key string) (session.Record, error) {
	rows, err := s.db.QueryContext(ctx, s.q.load, key, s.now().UnixMilli())
	if err != nil {
		return session.Record{}, wrap("load", err)
	}
	defer rows.Close()
	var rec session.Record
	found := false
	for rows.Next() {
		var created, expires int64
		var name sql.NullString
		var val []byte
		if err := rows.Scan(&created, &expires, &rec.User, &name, &val); err != nil {
			return session.Record{}, wrap("load", err)
		}
		if !found {
			found = true
			rec.Created, rec.Expires = time.UnixMilli(created), time.UnixMilli(expires)
			rec.Values = make(map[string][]byte)
		}
		if name.Valid {
			if val == nil {
				val = []byte{}
			}
			rec.Values[name.String] = val
		}
	}
	if err := rows.Err(); err != nil {
		return session.Record{}, wrap("load", err)
	}
	if !found {
		return session.Record{}, s.notFound(ctx, key)
	}
	return rec, nil
}

// notFound tells a key renewed away (ErrRenewed) from one without a session; it costs a
// second query only on this path, never on a load that finds the session.
func (s *Store) notFound(ctx context.Context, key string) error {
	var fwd string
	err := s.db.QueryRowContext(ctx, s.q.forward, key, s.now().UnixMilli()).Scan(&fwd)
	switch {
	case err == nil && fwd != "":
		return session.ErrRenewed
	case err == nil || errors.Is(err, sql.ErrNoRows):
		return session.ErrNotFound
	}
	return wrap("load", err)
}

// Create implements session.Store.
func (s *Store) Create(ctx context.Context, key string, rec session.Record) error {
	return wrap("create", s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q.create, key, rec.Created.UnixMilli(), rec.Expires.UnixMilli(),
			rec.User, s.now().UnixMilli())
		if err := inserted(res, err); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q.clearVals, key); err != nil {
			return err // values of an expired session that held this key
		}
		for name, v := range rec.Values {
			if _, err := tx.ExecContext(ctx, s.q.upsertVal, key, name, nonNil(v)); err != nil {
				return err
			}
		}
		return nil
	}))
}

// inserted turns an upsert that touched no row into ErrExists.
func inserted(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return session.ErrExists
	}
	return nil
}

func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}
