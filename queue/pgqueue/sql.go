package pgqueue

import "strings"

// statements are the backend's SQL, with {S} replaced by its schema once
// at construction. None is prepared by name: through PgBouncer in
// transaction mode a pool runs them with default_query_exec_mode=exec.
type statements struct {
	enqueue, enqueueUnique, holders, notify       string
	claim, claimLimited, lockQueue                string
	deadletter, extend, settleDone, settleOther   string
	settledState, cancel, pause, stats            string
	dead, retryDead, retryDeadAll                 string
	purgeDead, purgeDeadAll, trimAge, trimCount   string
	trimUniq, readyNow, nextDue, completeTx, jobs string
}

func newStatements(schema string) statements {
	r := strings.NewReplacer("{S}", schema, "{cols}", jobCols)
	s := statements{
		enqueue:       sqlEnqueue,
		enqueueUnique: sqlEnqueueUnique,
		holders:       `SELECT u.k, x.job_id FROM unnest($1::text[], $2::text[]) AS u(q, k) JOIN {S}.uniq x ON x.queue = u.q AND x.key = u.k`,
		notify:        `SELECT pg_notify($1, q) FROM unnest($2::text[]) AS q`,
		claim:         claimSQL(false),
		claimLimited:  claimSQL(true),
		lockQueue: `INSERT INTO {S}.queues AS q (name, tokens, refilled_at) VALUES ($1, $2, clock_timestamp())
			ON CONFLICT (name) DO UPDATE SET
			tokens = CASE WHEN $3::float8 > 0 THEN least($2::float8, coalesce(q.tokens, $2::float8) +
				greatest(0, extract(epoch FROM clock_timestamp() - coalesce(q.refilled_at, clock_timestamp())))::float8 * $3::float8)
				ELSE q.tokens END,
			refilled_at = greatest(clock_timestamp(), q.refilled_at)`,
		deadletter: `UPDATE {S}.jobs SET state = 2, died_at = now(), reason = $3, last_error = $3, lease = lease + 1,
			lease_until = NULL, settled = 0 WHERE id = $1 AND lease = $2`,
		extend: `UPDATE {S}.jobs j SET lease_until = now() + $3::bigint * interval '1 millisecond'
			FROM unnest($1::bigint[], $2::bigint[]) AS u(id, lease)
			WHERE j.id = u.id AND j.lease = u.lease AND j.state = 1 RETURNING j.id, j.lease`,
		settleDone: `DELETE FROM {S}.jobs j USING unnest($1::bigint[], $2::bigint[]) AS u(id, lease)
			WHERE j.id = u.id AND j.lease = u.lease AND j.state = 1 RETURNING j.id`,
		// kinds: 2 Retry, 3 Snooze, 4 Dead, 5 Release (queue.OutcomeKind).
		settleOther: `UPDATE {S}.jobs j SET
			state = CASE WHEN u.kind = 4 THEN 2 ELSE 0 END,
			run_at = CASE WHEN u.kind IN (2, 3) THEN u.at ELSE j.run_at END,
			attempt = CASE WHEN u.kind IN (3, 5) THEN greatest(j.attempt - 1, 0) ELSE j.attempt END,
			last_error = CASE WHEN u.kind IN (2, 4) THEN u.err ELSE j.last_error END,
			died_at = CASE WHEN u.kind = 4 THEN now() END,
			reason = CASE WHEN u.kind = 4 THEN u.err END,
			lease_until = NULL,
			settled = u.kind
			FROM unnest($1::bigint[], $2::bigint[], $3::smallint[], $4::timestamptz[], $5::text[]) AS u(id, lease, kind, at, err)
			WHERE j.id = u.id AND j.lease = u.lease AND j.state = 1 RETURNING j.id`,
		settledState: `SELECT id, lease, settled FROM {S}.jobs WHERE id = ANY($1::bigint[])`,
		cancel: `UPDATE {S}.jobs SET state = 2, died_at = now(), reason = 'cancelled', lease = lease + 1,
			lease_until = NULL, settled = 0 WHERE id = $2 AND queue = $1 AND state IN (0, 1) RETURNING id`,
		pause: `INSERT INTO {S}.queues (name, paused) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET paused = excluded.paused`,
		stats: `SELECT
			count(*) FILTER (WHERE state = 0 AND run_at <= now()),
			count(*) FILTER (WHERE state = 0 AND run_at > now()),
			count(*) FILTER (WHERE state = 1),
			count(*) FILTER (WHERE state = 2),
			min(run_at) FILTER (WHERE state = 0 AND run_at <= now()),
			coalesce((SELECT paused FROM {S}.queues WHERE name = $1), false)
			FROM {S}.jobs WHERE queue = $1`,
		dead: `SELECT {cols}, died_at, coalesce(reason, '') FROM {S}.jobs
			WHERE queue = $1 AND state = 2 AND ($2::boolean OR (died_at, id) < ($3::timestamptz, $4::bigint))
			ORDER BY died_at DESC, id DESC LIMIT $5`,
		retryDead: `UPDATE {S}.jobs SET state = 0, attempt = 0, run_at = now(), died_at = NULL, reason = NULL, settled = 0
			WHERE queue = $1 AND state = 2 AND id = ANY($2::bigint[])`,
		retryDeadAll: `UPDATE {S}.jobs SET state = 0, attempt = 0, run_at = now(), died_at = NULL, reason = NULL, settled = 0
			WHERE queue = $1 AND state = 2`,
		purgeDead:    `DELETE FROM {S}.jobs WHERE queue = $1 AND state = 2 AND id = ANY($2::bigint[])`,
		purgeDeadAll: `DELETE FROM {S}.jobs WHERE queue = $1 AND state = 2`,
		trimAge: `DELETE FROM {S}.jobs WHERE id IN (SELECT id FROM {S}.jobs
			WHERE queue = $1 AND state = 2 AND died_at < now() - $2::bigint * interval '1 millisecond' LIMIT 1000)`,
		trimCount: `DELETE FROM {S}.jobs WHERE id IN (SELECT id FROM {S}.jobs
			WHERE queue = $1 AND state = 2 ORDER BY died_at DESC, id DESC OFFSET $2 LIMIT 1000)`,
		trimUniq: `DELETE FROM {S}.uniq WHERE ctid IN (SELECT ctid FROM {S}.uniq WHERE until < $1 LIMIT 1000)`,
		readyNow: `SELECT EXISTS (SELECT 1 FROM {S}.jobs WHERE queue = $1 AND state = 0 AND run_at <= now())
			OR EXISTS (SELECT 1 FROM {S}.jobs WHERE queue = $1 AND state = 1 AND lease_until < now())`,
		// The next moment a job of the queue may become ready: the earliest
		// future run_at (one index probe per priority) or lease end.
		nextDue: `SELECT extract(epoch FROM least(
			(SELECT min(r) FROM generate_series(0, 3) AS p, LATERAL (SELECT run_at AS r FROM {S}.jobs
				WHERE queue = $1 AND state = 0 AND priority = p AND run_at > now() ORDER BY run_at LIMIT 1) x),
			(SELECT min(lease_until) FROM {S}.jobs WHERE queue = $1 AND state = 1 AND lease_until > now())) - now())::float8`,
		completeTx: `DELETE FROM {S}.jobs WHERE id = $1 AND lease = $2 AND state = 1`,
		jobs:       `SELECT DISTINCT queue FROM {S}.jobs WHERE state = 2`,
	}
	for _, p := range []*string{&s.enqueue, &s.enqueueUnique, &s.holders, &s.notify, &s.claim, &s.claimLimited,
		&s.lockQueue, &s.deadletter, &s.extend, &s.settleDone, &s.settleOther, &s.settledState, &s.cancel,
		&s.pause, &s.stats, &s.dead, &s.retryDead, &s.retryDeadAll, &s.purgeDead, &s.purgeDeadAll,
		&s.trimAge, &s.trimCount, &s.trimUniq, &s.readyNow, &s.nextDue, &s.completeTx, &s.jobs} {
		*p = r.Replace(*p)
	}
	return s
}

// jobCols are the columns a job is decoded from (scanJob).
const jobCols = `id, queue, kind, args, priority, attempt, max_attempts, timeout_ms, run_at, enqueued_at,
	unique_key, unique_until, meta, last_error, lease`

const sqlEnqueue = `INSERT INTO {S}.jobs (queue, kind, args, priority, max_attempts, timeout_ms, run_at, enqueued_at, meta)
	SELECT q, k, a, p, m, t, coalesce(r, now()), coalesce(e, now()), nullif(mt, '')::jsonb
	FROM unnest($1::text[], $2::text[], $3::bytea[], $4::smallint[], $5::integer[], $6::bigint[],
		$7::timestamptz[], $8::timestamptz[], $9::text[]) AS u(q, k, a, p, m, t, r, e, mt)
	RETURNING id`

// sqlEnqueueUnique takes every job's ID first (nextval), then the unique
// keys still free (or whose window ended before $12, the producer's now),
// then stores the jobs that got their key; it returns, per input row in
// order, the ID, whether it was stored and the key's holder if visible.
const sqlEnqueueUnique = `WITH input AS (
	SELECT nextval(pg_get_serial_sequence('{S}.jobs', 'id')) AS id, u.*
	FROM unnest($1::text[], $2::text[], $3::bytea[], $4::smallint[], $5::integer[], $6::bigint[],
		$7::timestamptz[], $8::timestamptz[], $9::text[], $10::text[], $11::timestamptz[])
		WITH ORDINALITY AS u(q, k, a, p, m, t, r, e, mt, uk, uu, ord)
), held AS (
	INSERT INTO {S}.uniq AS x (queue, key, job_id, until)
	SELECT q, uk, id, uu FROM input WHERE uk <> '' ORDER BY q, uk -- one lock order: no deadlock between batches
	ON CONFLICT (queue, key) DO UPDATE SET job_id = excluded.job_id, until = excluded.until
		WHERE x.until <= $12::timestamptz
	RETURNING job_id
), ins AS (
	INSERT INTO {S}.jobs (id, queue, kind, args, priority, max_attempts, timeout_ms, run_at, enqueued_at,
		unique_key, unique_until, meta)
	SELECT id, q, k, a, p, m, t, coalesce(r, now()), coalesce(e, now()), nullif(uk, ''), CASE WHEN uk <> '' THEN uu END, nullif(mt, '')::jsonb
	FROM input WHERE uk = '' OR id IN (SELECT job_id FROM held)
	RETURNING id
)
SELECT i.id, i.id IN (SELECT id FROM ins),
	(SELECT x.job_id FROM {S}.uniq x WHERE x.queue = i.q AND x.key = i.uk)
FROM input i ORDER BY i.ord`

// claimSQL is Fetch's statement: it reclaims jobs whose lease ran out,
// then ready jobs in order, all under FOR UPDATE SKIP LOCKED, and leases
// them in one UPDATE: a reclaimed job that already used its last attempt
// is dead-lettered instead (returned with state 2). Parameters: $1 queue,
// $2 max, $3 lease in ms; limited adds $4 limit and $5 whether a rate
// applies, and takes the rate's tokens (the queue's row is locked by the
// statement before it in the same transaction).
func claimSQL(limited bool) string {
	n := "$2::integer"
	head := "WITH "
	tail := ""
	if limited {
		head = `WITH cap AS (SELECT greatest(0, least($2::integer,
			CASE WHEN $4::integer > 0 THEN $4::integer - (SELECT count(*) FROM {S}.jobs
				WHERE queue = $1 AND state = 1 AND lease_until >= now())::integer ELSE $2::integer END,
			CASE WHEN $5::boolean THEN floor(least(coalesce((SELECT tokens FROM {S}.queues WHERE name = $1), 0), $2::integer))::integer
				ELSE $2::integer END)) AS n), `
		n = "(SELECT n FROM cap)"
		tail = `, tok AS (UPDATE {S}.queues SET tokens = tokens - (SELECT count(*) FROM upd WHERE state = 1)
			WHERE name = $1 AND $5::boolean)`
	}
	return head + `paused AS (SELECT EXISTS (SELECT 1 FROM {S}.queues WHERE name = $1 AND paused) AS p),
exp AS (SELECT id FROM {S}.jobs WHERE queue = $1 AND state = 1 AND lease_until < now()
	AND NOT (SELECT p FROM paused) ORDER BY lease_until LIMIT ` + n + ` FOR UPDATE SKIP LOCKED),
rdy AS (SELECT id FROM {S}.jobs WHERE queue = $1 AND state = 0 AND run_at <= now()
	AND NOT (SELECT p FROM paused) ORDER BY priority, run_at, id LIMIT ` + n + ` FOR UPDATE SKIP LOCKED),
pick AS ((SELECT id FROM exp) UNION ALL (SELECT id FROM rdy) LIMIT ` + n + `),
upd AS (UPDATE {S}.jobs j SET
	state = CASE WHEN j.state = 1 AND j.attempt >= j.max_attempts THEN 2 ELSE 1 END,
	attempt = CASE WHEN j.state = 1 AND j.attempt >= j.max_attempts THEN j.attempt ELSE j.attempt + 1 END,
	died_at = CASE WHEN j.state = 1 AND j.attempt >= j.max_attempts THEN now() END,
	reason = CASE WHEN j.state = 1 AND j.attempt >= j.max_attempts THEN 'lease expired on attempt ' || j.attempt END,
	last_error = CASE WHEN j.state = 1 THEN 'lease expired on attempt ' || j.attempt ELSE j.last_error END,
	lease = j.lease + 1,
	lease_until = CASE WHEN j.state = 1 AND j.attempt >= j.max_attempts THEN NULL
		ELSE now() + $3::bigint * interval '1 millisecond' END,
	settled = 0
	FROM pick WHERE j.id = pick.id
	RETURNING j.state, j.id, j.queue, j.kind, j.args, j.priority, j.attempt, j.max_attempts, j.timeout_ms, j.run_at,
		j.enqueued_at, j.unique_key, j.unique_until, j.meta, j.last_error, j.lease)` + tail + `
SELECT * FROM upd`
}
