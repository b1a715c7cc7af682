package pgqueue

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Job states in the jobs table.
const (
	stateReady   = 0 // waiting for run_at (ready now or scheduled)
	stateRunning = 1 // leased until lease_until
	stateDead    = 2 // a dead letter
)

// SchemaSQL returns the DDL that creates the backend's tables in schema
// ("" means the default, "ladder_queue"), for a migration tool; every
// statement is idempotent (IF NOT EXISTS). Migrate runs it.
//
// jobs holds every job: ready and scheduled (state 0), leased (1) and dead
// letters (2), each state with its own partial index so that a claim reads
// only the head of the ready index. queues holds a queue's pause flag and
// its shared rate bucket; uniq holds unique keys until their window ends,
// whatever happens to the job that took them.
func SchemaSQL(schema string) (string, error) {
	if schema == "" {
		schema = defaultSchema
	}
	if !validIdent(schema) {
		return "", fmt.Errorf("%w: Schema %q: want lower-case letters, digits and '_', not starting with a digit, at most 40 bytes", ErrInvalidOptions, schema)
	}
	return strings.ReplaceAll(schemaSQL, "{S}", schema), nil
}

const schemaSQL = `CREATE SCHEMA IF NOT EXISTS {S};
CREATE TABLE IF NOT EXISTS {S}.jobs (
	id           bigserial PRIMARY KEY,
	queue        text        NOT NULL,
	state        smallint    NOT NULL DEFAULT 0,
	priority     smallint    NOT NULL DEFAULT 0,
	run_at       timestamptz NOT NULL,
	kind         text        NOT NULL,
	args         bytea       NOT NULL,
	attempt      integer     NOT NULL DEFAULT 0,
	max_attempts integer     NOT NULL,
	timeout_ms   bigint      NOT NULL,
	enqueued_at  timestamptz NOT NULL,
	unique_key   text,
	unique_until timestamptz,
	meta         jsonb,
	last_error   text,
	lease        bigint      NOT NULL DEFAULT 0,
	lease_until  timestamptz,
	settled      smallint    NOT NULL DEFAULT 0,
	died_at      timestamptz,
	reason       text
);
CREATE INDEX IF NOT EXISTS jobs_ready ON {S}.jobs (queue, priority, run_at, id) WHERE state = 0;
CREATE INDEX IF NOT EXISTS jobs_running ON {S}.jobs (queue, lease_until) WHERE state = 1;
CREATE INDEX IF NOT EXISTS jobs_dead ON {S}.jobs (queue, died_at DESC, id DESC) WHERE state = 2;
CREATE TABLE IF NOT EXISTS {S}.queues (
	name        text PRIMARY KEY,
	paused      boolean NOT NULL DEFAULT false,
	tokens      double precision,
	refilled_at timestamptz
);
CREATE TABLE IF NOT EXISTS {S}.uniq (
	queue  text        NOT NULL,
	key    text        NOT NULL,
	job_id bigint      NOT NULL,
	until  timestamptz NOT NULL,
	PRIMARY KEY (queue, key)
);
CREATE INDEX IF NOT EXISTS uniq_until ON {S}.uniq (until);
`

// Migrate creates the backend's tables in opts.Schema if they do not exist
// (SchemaSQL), under an advisory lock so that instances starting together
// do not race.
func Migrate(ctx context.Context, pool *pgxpool.Pool, opts Options) error {
	if pool == nil {
		return fmt.Errorf("%w: pool is nil", ErrInvalidOptions)
	}
	if err := opts.Validate(); err != nil {
		return err
	}
	ddl, err := SchemaSQL(opts.Schema)
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgqueue: migrate: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // after Commit, a no-op
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('ladder_queue_migrate'))"); err != nil {
		return fmt.Errorf("pgqueue: migrate: %w", err)
	}
	for _, stmt := range strings.Split(ddl, ";\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("pgqueue: migrate: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgqueue: migrate: %w", err)
	}
	return nil
}
