package queue

import "errors"

// Sentinel errors, checked with errors.Is. Backends wrap them.
var (
	// ErrInvalidOptions: bad configuration or enqueue options; the message names the field.
	ErrInvalidOptions = errors.New("queue: invalid options")
	// ErrLeaseLost: the job's lease is no longer held (it ran out and the job was fetched
	// again, or the job was cancelled); the attempt's outcome was not applied.
	ErrLeaseLost = errors.New("queue: lease lost")
	// ErrNotFound: no such job (or dead letter).
	ErrNotFound = errors.New("queue: job not found")
	// ErrQueueFull: a bounded backend is full and its policy is to reject.
	ErrQueueFull = errors.New("queue: queue full")
	// ErrTooLarge: the encoded arguments exceed the size limit.
	ErrTooLarge = errors.New("queue: job too large")
	// ErrUnknownKind: no handler is registered for the job's kind (the job is dead-lettered).
	ErrUnknownKind = errors.New("queue: unknown job kind")
	// ErrPanic: a handler panicked; the error carries the value and the stack.
	ErrPanic = errors.New("queue: handler panicked")
	// ErrClosed: the client, worker or backend is closed.
	ErrClosed = errors.New("queue: closed")
)
