// Package redisqueue is a queue.Backend on Redis (placeholder doc; see below).
package redisqueue
