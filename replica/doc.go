// Package replica sends a service's database writes to the primary and its
// reads to replicas, over database/sql, and keeps each user's reads from
// missing their own writes.
//
// Stage: 3/5 (load balancer and replicas): one database server is no longer
// enough for the reads, so replicas mirror the primary and serve them.
//
// # Routing: the method decides, never the SQL
//
// A Router offers the methods code already calls on a *sql.DB. ExecContext,
// read-write transactions (BeginTx) and Conn go to the primary. QueryContext,
// QueryRowContext and read-only transactions go to a replica picked by an
// lb.Pool (Options.Policy, Options.Zones: round robin, power of two choices,
// locality with spill-over, passive ejection of replicas that fail to
// connect). The router never parses SQL to guess:
//
//	A query that writes — INSERT … RETURNING, UPDATE … RETURNING,
//	SELECT … FOR UPDATE, SELECT nextval(…), a function with side effects —
//	sent through QueryContext or QueryRowContext must carry WithPrimary(ctx),
//	and be followed by Router.Wrote(ctx) so the session records it.
//	Unmarked, it goes to a replica, which refuses it.
//
// With no replica serving, reads go to the primary. A read-only transaction
// asking for serializable isolation runs on the primary (a PostgreSQL hot
// standby refuses it). A replica that cannot be reached during a read
// leaves the rotation at once and the read is sent once more, elsewhere;
// the monitor brings the replica back after a good probe. A replica that
// hangs (accepts connections, answers nothing) holds the reads already sent
// to it until their contexts end; it leaves the rotation when its probe
// times out (Options.ProbeTimeout), so give reads a deadline.
//
// # Read-your-writes
//
// A write committed on the primary reaches a replica a little later
// (milliseconds on a LAN, seconds under load), so a naive split reads stale
// data right after a write: on loopback PostgreSQL under write load, after 78–90 % of writes.
// A Session, carried in the context (NewContext, or Middleware for HTTP
// handlers), records the writes made in its scope, and the mode
// (Options.ReadYourWrites) decides how reads in that scope avoid replicas
// that do not have them yet:
//
//   - RYWTimePin: the primary serves the session's reads for Options.Pin
//     (2 s, as in Rails) after each write. Portable; no Positions needed.
//   - RYWCausalFast: after a write, the router reads the primary's write
//     position (one more query: with Positions from package pgreplica, the
//     LSN after COMMIT) and a read uses a replica only if the monitor
//     already knows it has replayed that position; otherwise the primary. It
//     never waits, but the monitor learns positions once per
//     Options.ProbeInterval: a read right after a write mostly goes to the
//     primary, one a few seconds later (the user's next page, carried by the
//     token) to a replica.
//   - RYWCausalWait (the default with Positions): the read waits on the
//     picked replica until it has replayed the position, up to
//     Options.WaitTimeout (1 s), then reads the primary. On loopback
//     PostgreSQL under write load: 0 stale reads, every read on the replica.
//   - RYWCausalGlobal: as RYWCausalWait with the position of the process's
//     latest write, so every read sees every write committed before it,
//     whichever session made it.
//
// Across requests, the session travels as a token (Router.Token,
// Router.SessionFromToken; Middleware sets and reads it in a cookie and a
// header): the position, an optional pin and an expiry, signed with
// HMAC-SHA256 under Options.TokenKey. A malformed, forged or expired token is
// never trusted: the request's reads go to the primary for Options.Pin and
// the rejection is counted.
//
// # Lag and health
//
// The router's monitor (one goroutine, stopped by Close) reads every node's
// role, timeline, position and replay lag each Options.ProbeInterval. A
// replica that fails its probe, or lags more than Options.MaxLag (or
// Options.MaxLagBytes), leaves the rotation and returns when it answers
// and has caught up; but at least Options.MinServing replicas keep serving,
// the least lagging first (Vitess's rule: a fleet that lags together must not
// push every read onto the primary). A replica down at start leaves at its
// first probe or failed read and joins when it answers. The lag of a
// replica that has replayed everything is zero even when the primary is idle.
//
// # Failover and fencing
//
// The router follows a failover done by something else (Patroni,
// pg_auto_failover, an operator's pg_promote()): the nodes say who is the
// primary and on which timeline (a counter PostgreSQL raises at every
// promotion), and writes move, without a restart, to the node that says it
// is the primary on the newest timeline. With Options.Failover =
// FailoverCoordinate the router also promotes, after Options.FailoverAfter
// consecutive failed probes of the primary, the replica that has replayed
// the most. Either way it fences: no write goes to a node on an older
// timeline than the newest seen, nor to a node that lost the writer role
// until it reports a newer timeline, so an old primary that comes back as a
// primary (split brain) receives no writes. Between a promotion and the
// next probe, writes still go to the old primary if it is up: the router
// learns by polling.
//
// Replication is asynchronous: a failover loses the writes the promoted
// replica had not received when the primary died (commits acknowledged to
// clients included), and the old primary's copy of them is abandoned. Use
// synchronous replication (synchronous_commit, synchronous_standby_names)
// for writes that must survive a failover. The coordinator is for a single
// instance of the application: several instances would each promote a
// replica after their own probes failed, possibly different ones. A
// deployment with several instances leaves promotion to Patroni or
// pg_auto_failover, which hold a lease in a consensus store, and runs the
// routers in follow mode.
//
// # Telemetry
//
// Metrics go through the OpenTelemetry API under the meter
// "github.com/ladder-go/ladder/replica": ladder.replica.queries by role,
// ladder.replica.fallbacks (reads sent to the primary) by reason,
// ladder.replica.causal.wait.duration by outcome, ladder.replica.lag and
// ladder.replica.lag.bytes per replica, ladder.replica.rotation.changes,
// ladder.replica.failovers, ladder.replica.tokens.rejected and
// ladder.replica.position.errors; the lb pool adds its per-replica metrics.
// Queries are counted by striped atomics read at collection, so routing
// pays no telemetry cost per query for them.
//
// Database client metrics follow OTel's semantic conventions, so that
// observe's advisor and any dashboard read them: db.client.operation.duration
// (seconds) per statement run through the router's ExecContext,
// QueryContext, QueryRowContext and Stmt (not statements inside a Tx or
// on a Conn), by ladder.replica.node, ladder.replica.role, db.system.name
// (from the driver: postgresql, mysql, sqlite), db.operation.name (the
// statement's first keyword when it is SELECT, INSERT, UPDATE, DELETE,
// MERGE, WITH, CALL, VALUES or TABLE; no query text is recorded) and
// error.type (the SQLSTATE, or timeout, canceled, unavailable, _OTHER) on
// failure. Failed statements are all recorded; successful ones up to
// 10,000 a second (an unbiased sample above that; the exact count is
// ladder.replica.queries). Nothing is timed while the MeterProvider is a
// noop one or the global one before an SDK is installed. Each node's pool
// reports db.client.connection.count by db.client.connection.state (idle,
// used) and db.client.connection.max (pools without SetMaxOpenConns report
// none), by db.client.connection.pool.name (the node's name), from
// sql.DB.Stats at collection. server.address is not recorded: a *sql.DB
// does not say where it connects.
//
// Package pgreplica implements Positions for PostgreSQL; package
// replicatest runs an in-process primary and replica for tests.
package replica
