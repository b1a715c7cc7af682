// Package queue is ladder's job queue, for the stage where web servers drop
// work onto a queue and return at once, and workers process it whenever they
// are free: a signup flood queues up and is worked off at a sustainable rate,
// and web servers and workers scale independently.
package queue
