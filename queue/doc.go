// Package queue is ladder's job queue, for the stage where web servers drop
// work onto a queue and return at once, and workers process it whenever they
// are free: a signup flood queues up and is worked off at a sustainable rate,
// and web servers and workers scale independently.
//
// A [Client] enqueues jobs: arguments of a type implementing [Kinded],
// encoded as JSON, with [EnqueueOptions] (queue, priority, delay or run-at,
// attempts, timeout, a unique key with a window, metadata). Bad input is an
// error at enqueue ([ErrInvalidOptions] naming the field, [ErrTooLarge]),
// never a job that fails later.
//
// A [Worker] runs them through [Handlers], registered per kind with
// [Handle]: per queue a fetch loop leases jobs in batches for the free
// slots of a fixed pool of handler goroutines (QueueOptions.Concurrency;
// Limit and Rate hold across every instance, enforced by the backend). One
// heartbeat per Worker renews every running lease in one call every
// Lease/3 and cancels the ctx of a job whose lease is lost; one sweeper
// enforces each attempt's Timeout, and abandons (retries the job, frees
// the slot, counts in [WorkerStats]) a handler that ignores its ctx past a
// grace; one settler applies outcomes in batches without holding any back.
// A handler's returned error decides the outcome: nil is done, [SnoozeFor]
// runs it again later without using an attempt, [Cancel] dead-letters it,
// any other error retries it with exponential backoff and jitter until
// MaxAttempts, then dead-letters it. A panic is a failure carrying
// [ErrPanic] and the stack; the worker lives. An unknown kind or
// undecodable arguments are dead-lettered at once with the reason.
//
// When Run's ctx ends the Worker stops fetching, lets running jobs finish
// for up to ShutdownTimeout, then cancels them and releases their leases so
// they run again at once elsewhere, applies every outcome, and returns.
// A backend outage neither crashes nor spins a Worker: calls are retried
// with bounded backoff and logged once per outage, and an outcome is kept
// until it is applied or its lease has run out (then the job runs again:
// delivery is at least once).
//
// [Periodic] jobs run once per period across any number of Workers without
// a leader, through the backend's unique keys; schedules come from [Every]
// or [ParseCron] (hand-written: core packages import no cron library).
//
// Backends implement [Backend]: [NewMemory] (in-process, the embedded
// default), queue/redisqueue and queue/pgqueue; queue/queuetest checks
// them and helps users test their own handlers.
//
// Telemetry (OTel API): messaging.client.sent.messages,
// messaging.client.consumed.messages, messaging.process.duration (by
// ladder.queue.kind and ladder.queue.outcome; done attempts sampled above
// 10,000 a second per queue of a Worker, so count attempts with the exact
// ladder.queue.outcomes), ladder.queue.outcomes,
// ladder.queue.worker.running and .abandoned, and from a Stats sample
// refreshed every 15 s ladder.queue.depth (by ladder.queue.state),
// ladder.queue.dead and ladder.queue.oldest_age. The Client puts the
// caller's span into Meta["traceparent"]; each attempt's consumer span
// links to it.
package queue
