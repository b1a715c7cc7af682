// Package redisqueue is a queue.Backend on Redis, for the stage where web
// servers drop jobs onto a queue and workers on other machines work them off:
// every instance of the service shares the queue through one Redis (a single
// server, Sentinel, or a Redis Cluster: New takes a redis.UniversalClient).
//
// # Layout
//
// A queue's keys all begin with one hash tag, "{<Prefix>:<queue>}", so each
// queue lives in one slot of a Redis Cluster and every operation on it is one
// Lua script run atomically on the master that owns the slot (EVALSHA of a
// script cached by go-redis's redis.Script; no MULTI, no cross-slot call).
// Different queues spread over the slots. scripts.go lists the keys.
//
// A job is three fields of the queue's job hashes: its encoded immutable
// part (a compact binary form of queue.Job), its state (attempt, RunAt,
// lease token, …, one short string) and its last error; per-queue hashes
// rather than a hash per job let a script read or write a whole batch's jobs
// in one command (this halved the server time per job). Waiting jobs, ready and scheduled alike, sit in one sorted set per
// priority scored by RunAt; equal scores sort by ID, which begins with the
// enqueue time and a per-queue sequence. Fetch takes the due jobs of priority
// 0 first, then 1, 2, 3, each in RunAt then enqueue order: the exact order
// queue.Backend promises, whatever order the jobs were enqueued in, and a
// delayed, retried or snoozed job needs no mover: it is ready when the clock
// passes its score.
//
// Why not a Redis Stream per priority (XADD, XREADGROUP, XACK), as issue 12
// first proposed: a stream only appends, so a job enqueued with an earlier
// RunAt than jobs already waiting (a backfill, a due retry moved in after
// them) would run after them, and queuetest's FetchOrderPriorityRunAtEnqueue
// fails; and a consumer group's pending list measures a lease by idle time
// from one reader's point of view (XAUTOCLAIM's min-idle), not per job with
// the length each Fetch and Extend asks for. Streams serve one purpose here:
// a small capped stream per queue carries wake-ups (an entry whenever a job
// becomes ready now), on which Wait blocks with XREAD BLOCK, so an idle
// worker starts a new job within a round trip instead of a poll interval.
//
// # Leases
//
// Fetch leases each job it returns: the job's ID goes into a lease set scored
// by its deadline on the Redis server's clock (TIME), and the job gets a new
// lease token (the fencing token in queue.Job.Lease). Workers' clocks never
// shorten a lease. Extend (the worker's heartbeat) moves the deadline to d
// from now for a job whose token is still current. Every Fetch first ends
// up to 1,000 leases that ran out: the job is ready again at once (at its old
// RunAt, so ahead of later jobs), and its next Fetch counts another attempt;
// a job whose attempts are used is dead-lettered with "lease expired on
// attempt N". A crashed worker's jobs thus run again within one lease.
//
// Limit and Rate are enforced inside the claim script, so they hold across
// every worker of every instance: Limit counts the lease set; Rate is a token
// bucket kept in the queue's hash and refilled on the server's clock.
//
// # Resent calls
//
// go-redis resends a command whose reply timed out, so a script may run twice.
// Enqueue keeps its reply for two minutes under a random nonce of the call,
// and a resent call returns the same IDs instead of storing the jobs twice.
// Settle recognises its own earlier run: the job keeps the token and kind of
// its last outcome, a dead letter keeps them too, and the lease tokens of the
// queue's last 10,000 Done outcomes are kept, so a resent or repeated Settle
// with the same lease and kind reports success (the queue.Backend promise);
// a Done older than that reports ErrLeaseLost, which a Worker only logs.
// A Fetch that runs twice leases a second batch that nobody receives; those
// jobs run again when their leases run out (no loss, an attempt counted).
//
// # Durability
//
// A job is acknowledged (Enqueue returns nil) once the master has it. What
// survives a crash is what the server's persistence keeps: with the AOF and
// appendfsync always, every acknowledged write survives a restart (tested:
// crash and restart under load, nothing acknowledged lost); with the default
// everysec, up to a second of writes may go; without persistence a restart
// loses everything the server held: waiting, scheduled and running jobs,
// dead letters and unique keys.
//
// Redis replicates asynchronously. When Sentinel fails over after the master
// crashes, the writes the old master acknowledged but had not yet sent to the
// replica are lost: an enqueue lost that way is a job lost (its producer was
// told it was stored); an outcome lost that way (a Done, a Retry) makes the
// job run again, a duplicate; a lost lease or Extend makes a running job look
// unleased, so it may run twice as well; a lost Cancel or Pause is undone.
// Options.WaitReplicas closes the first hole: an Enqueue then returns only
// after WAIT has seen that many replicas receive the jobs (or fails with
// ErrNotReplicated after Options.WaitTimeout, the jobs stored on the master
// but not confirmed), so an acknowledged enqueue survives a failover to a
// replica that had it (tested with a real failover under load; without
// WaitReplicas, the test logs how many acknowledged enqueues were lost).
// WAIT does not make Redis strongly consistent: a replica that received a
// write may still not be the one promoted if several exist.
//
// # Dead letters
//
// A dead job's hash is renamed next to the queue's dead-letter index, a sorted
// set of "<died ms>:<id>" listed newest first by ZREVRANGEBYLEX; a page's
// cursor is the last entry, stable while others come and go. Options.Retention
// bounds the index by age and count, trimmed whenever a job dies (at most 100
// removals per death, so trimming never stalls Redis). A job the backend
// cannot decode (a hand edit, a corrupted field) is dead-lettered by the
// Fetch that meets it with the reason "malformed job: …", never returned, never
// retried, and never fails the Fetch.
//
// # Cost
//
// Each script holds Redis's single thread while it runs, a few microseconds
// per job: Options.MaxBatch (500) bounds one call. Enqueue, Fetch, Extend and
// Settle take one round trip per queue per batch; a Worker batches all four.
// BenchmarkEnqueueFetchSettle measures the backend alone, batches of 100.
package redisqueue
