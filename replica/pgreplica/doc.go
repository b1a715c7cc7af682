// Package pgreplica tells package replica where PostgreSQL nodes stand in
// their replication: a primary's write position after a commit (an LSN),
// a standby's replay position and lag, each node's role and timeline, and
// promotion of a standby. [Positions] implements [replica.Positions] with
// one SQL statement per call, through database/sql, so it works with the
// pgx stdlib driver, lib/pq and PgBouncer in transaction mode.
//
// Through PgBouncer in transaction mode (before 1.21, which tracks prepared
// statements), open pgx with default_query_exec_mode=exec or simple_protocol:
// its default statement cache names statements per client connection, and
// the pool hands each transaction whichever server session is free. The
// tests run the conformance suite that way, through a real PgBouncer.
//
// Privileges: reading positions and roles needs none beyond connecting;
// Promote needs a superuser or EXECUTE on pg_promote; a standby reports the
// timeline it streams from pg_stat_wal_receiver, which shows it to
// superusers and members of pg_read_all_stats (others get the timeline of
// the standby's last restartpoint, which lags a promotion upstream).
//
// Stage: 3/5 (load balancer and replicas).
package pgreplica
