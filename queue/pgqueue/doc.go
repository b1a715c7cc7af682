// Package pgqueue is the PostgreSQL backend of package queue, for the stage
// where a service already runs PostgreSQL and wants its background jobs in
// the same database: enqueued in the caller's own transaction (a job exists
// if and only if the transaction commits, EnqueueTx) and completed in the
// handler's own transaction (its database effects and the completion commit
// together, CompleteTx), with no second store to operate.
//
// Jobs live in one table under a configurable schema (SchemaSQL gives the
// DDL for a migration tool; Migrate runs it). Fetch claims a batch of jobs
// in one statement (UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED
// LIMIT n)), Settle applies a batch of outcomes in one round trip, and
// leases are measured on the server's clock and fenced by a token that
// every claim and cancel increments. The same claim reclaims jobs whose
// lease ran out, and dead-letters those that used their last attempt.
// A global Limit and a shared Rate are enforced under a lock of the queue's
// row, taken in the claim's own transaction.
//
// Wait wakes on LISTEN/NOTIFY (one coalesced notification per enqueue call
// and queue), and polls when notifications cannot arrive: through PgBouncer
// in transaction mode a LISTEN is lost, which the backend detects with a
// probe notification and falls back to polling (Options.Listen, ListenOff).
// Through PgBouncer older than 1.21 open the pool with
// default_query_exec_mode=exec (or simple_protocol): the backend prepares no
// statement of its own.
//
// Give the pool room for the Worker's own calls beside its handlers'
// transactions (CompleteTx holds a connection for the handler's
// transaction): MaxConns ≥ the handlers that open transactions at once
// plus 3 (fetch, settle, heartbeat). Wait's listener uses a connection of
// its own, outside the pool.
//
// A Done outcome settled after the job's row is gone (CompleteTx deleted
// it, or an earlier Done) succeeds without changing anything: the backend
// keeps no record of finished jobs, so it cannot tell those cases from a
// stale lease whose job another worker has since finished.
//
// The tables are logged (durable): an unlogged table would be emptied by a
// crash of the server, which loses acknowledged jobs. Claims and
// settlements change a job's state, which its partial indexes key on, so
// they are not HOT updates and the table keeps the default fillfactor;
// autovacuum keeps the ready index's head short (on a busy queue lower
// the table's autovacuum_vacuum_scale_factor).
package pgqueue
