package app

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// RunSchema is the PostgreSQL schema of one run of an example, so that its
// tables never land in the operator's database and two runs never share
// them. The run holds a session advisory lock on the schema's name for its
// lifetime (taken before the schema exists); Drop drops it at the end. A run
// killed with SIGKILL cannot drop it, but the server releases its lock with
// its connection, and the next run with the same prefix drops every schema
// of that prefix whose lock it can take: nobody owns it any more.
type RunSchema struct {
	// Name is the schema: prefix, the process ID and a nanosecond stamp.
	Name string
	db   *sql.DB
	conn *sql.Conn // holds the lock
}

// CreateRunSchema sweeps the abandoned schemas of prefix ("ladder_ex03_"),
// then creates this run's, on the server of dsn.
func CreateRunSchema(ctx context.Context, dsn, prefix, appName string) (_ *RunSchema, err error) {
	db, err := OpenPostgres(ctx, dsn, PostgresOptions{ApplicationName: appName})
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // the lock's session only
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("app: postgres: %w", err)
	}
	s := &RunSchema{Name: fmt.Sprintf("%s%d_%d", prefix, os.Getpid(), time.Now().UnixNano()%1e9), db: db, conn: conn}
	defer func() {
		if err != nil {
			conn.Close()
			db.Close()
		}
	}()
	if err := s.sweep(ctx, prefix); err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(hashtext($1))`, s.Name); err != nil {
		return nil, fmt.Errorf("app: lock schema %s: %w", s.Name, err)
	}
	if _, err := conn.ExecContext(ctx, `CREATE SCHEMA `+pgx.Identifier{s.Name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("app: create schema %s: %w", s.Name, err)
	}
	return s, nil
}

// sweep drops the schemas of prefix whose owner's lock is free.
func (s *RunSchema) sweep(ctx context.Context, prefix string) error {
	rows, err := s.conn.QueryContext(ctx, `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, prefix)
	if err != nil {
		return fmt.Errorf("app: list schemas %s*: %w", prefix, err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("app: list schemas %s*: %w", prefix, err)
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		var free bool
		if err := s.conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtext($1))`, n).Scan(&free); err != nil {
			return fmt.Errorf("app: schema %s: %w", n, err)
		}
		if !free {
			continue // its run is alive
		}
		_, err := s.conn.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{n}.Sanitize()+` CASCADE`)
		s.conn.ExecContext(ctx, `SELECT pg_advisory_unlock(hashtext($1))`, n)
		if err != nil {
			return fmt.Errorf("app: drop abandoned schema %s: %w", n, err)
		}
	}
	return nil
}

// Drop drops the schema and releases its lock (bounded by 10 s, whatever
// ctx has become). Call it once, at the end of the run.
func (s *RunSchema) Drop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	defer s.db.Close()
	defer s.conn.Close() // the lock goes with the session
	if _, err := s.conn.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{s.Name}.Sanitize()+` CASCADE`); err != nil {
		return fmt.Errorf("app: drop schema %s: %w", s.Name, err)
	}
	return nil
}

// String returns the schema's name.
func (s *RunSchema) String() string { return s.Name }
