// Package queuetest helps test code that uses package queue. Run is the
// conformance suite every queue.Backend passes (the in-memory backend,
// queue/redisqueue and queue/pgqueue run it).
package queuetest
