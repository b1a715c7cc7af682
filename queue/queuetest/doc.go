// Package queuetest helps test code that uses package queue:
//
//   - Run is the conformance suite every queue.Backend passes (the
//     in-memory backend, queue/redisqueue and queue/pgqueue run it);
//   - Work runs one job synchronously through your registered handlers and
//     returns the outcome a Worker chose (done, retry, snooze, dead);
//   - Recorder is a working in-memory backend that records what your
//     producers enqueue, for RequireEnqueued, RequireNotEnqueued and
//     Enqueued;
//   - Clock is a fake clock for delays, retries and schedules.
package queuetest
