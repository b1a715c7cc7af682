package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Kinded is implemented by a job's argument type: the kind names its handler.
// Kind must work on the zero value (Handle calls it to learn the kind).
type Kinded interface{ Kind() string }

// Typed is a job with its arguments decoded.
type Typed[A any] struct {
	*Job
	Args A
}

// Handlers maps job kinds to their handlers. The zero value is ready to use;
// it is safe for concurrent use, and a kind registered while a Worker runs
// is picked up by its next job.
type Handlers struct {
	mu sync.Mutex
	m  atomic.Pointer[map[string]*handler] // copy on write: the hot path only loads
}

type handler struct {
	kind    string
	timeout time.Duration
	backoff func(int) time.Duration
	// run decodes the job's args and calls the user's function. A decoding
	// failure is returned as a *malformedError. ta (nil allowed) is the
	// calling goroutine's allocator for the *Typed[A] handed to fn.
	run func(ctx context.Context, j *Job, ta *typedAlloc) error
}

// typedAlloc hands out a handler goroutine's *Typed[A] values a chunk at a
// time (one allocation per typedChunkBytes, not one per job). Each value is
// handed out once and never reused, so a handler may keep its *Typed after
// it returns; doing so keeps its chunk (≤ typedChunkBytes, and the jobs the
// chunk points to) alive: bounded, and rare, like the Worker's run slabs.
type typedAlloc struct {
	hd    *handler
	chunk any // []Typed[A] of hd's A
	next  int
}

const (
	typedChunkBytes = 2048
	typedChunkMax   = 32
)

// typedOf returns a fresh *Typed[A] for j, from ta's chunk when ta is set.
func typedOf[A any](hd *handler, ta *typedAlloc, j *Job) *Typed[A] {
	if ta == nil {
		return &Typed[A]{Job: j}
	}
	if ta.hd == hd {
		if c, ok := ta.chunk.([]Typed[A]); ok && ta.next < len(c) {
			t := &c[ta.next]
			ta.next++
			t.Job = j
			return t
		}
	}
	n := max(1, min(typedChunkMax, typedChunkBytes/int(unsafe.Sizeof(Typed[A]{}))))
	c := make([]Typed[A], n)
	ta.hd, ta.chunk, ta.next = hd, c, 1
	c[0].Job = j
	return &c[0]
}

type malformedError struct{ err error }

func (e *malformedError) Error() string { return "malformed args: " + e.err.Error() }

// Handle registers fn as the handler of A's kind. A kind can be registered
// once; fn must not be nil.
func Handle[A Kinded](h *Handlers, fn func(ctx context.Context, job *Typed[A]) error, opts HandlerOptions) error {
	if h == nil {
		return invalid("Handle: nil Handlers")
	}
	if fn == nil {
		return invalid("Handle: nil handler func")
	}
	if err := opts.validate(); err != nil {
		return err
	}
	kind, err := kindOf[A]()
	if err != nil {
		return err
	}
	hd := &handler{kind: kind, timeout: opts.Timeout, backoff: opts.Backoff}
	skipEmpty := emptyIsZero[A]()
	hd.run = func(ctx context.Context, j *Job, ta *typedAlloc) error {
		t := typedOf[A](hd, ta, j)
		if !skipEmpty || len(j.Args) != 2 || string(j.Args) != "{}" {
			if err := json.Unmarshal(j.Args, &t.Args); err != nil {
				return &malformedError{err}
			}
		}
		return fn(ctx, t)
	}
	return h.add(hd)
}

// emptyIsZero reports whether decoding "{}" into an A leaves the zero A: a
// struct without its own UnmarshalJSON. Jobs without arguments then skip
// the decoder.
func emptyIsZero[A any]() bool {
	t := reflect.TypeFor[A]()
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(unmarshaler) && !t.Implements(unmarshaler)
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

// kindOf asks the zero A for its kind, surviving a Kind method that panics
// on a nil pointer.
func kindOf[A Kinded]() (kind string, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = invalid("Handle: %T.Kind() panicked on the zero value: %v", *new(A), v)
		}
	}()
	var a A
	kind = a.Kind()
	return kind, checkKind(kind)
}

func checkKind(kind string) error {
	switch {
	case kind == "":
		return invalid("kind: empty")
	case len(kind) > MaxKindLen:
		return invalid("kind %q: longer than %d bytes", trunc(kind), MaxKindLen)
	}
	return nil
}

func (h *Handlers) add(hd *handler) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.m.Load()
	var n map[string]*handler
	if old == nil {
		n = make(map[string]*handler, 1)
	} else {
		if _, dup := (*old)[hd.kind]; dup {
			return invalid("Handle: kind %q registered twice", hd.kind)
		}
		n = make(map[string]*handler, len(*old)+1)
		for k, v := range *old {
			n[k] = v
		}
	}
	n[hd.kind] = hd
	h.m.Store(&n)
	return nil
}

func (h *Handlers) get(kind string) *handler {
	if h == nil {
		return nil
	}
	m := h.m.Load()
	if m == nil {
		return nil
	}
	return (*m)[kind]
}

// Kinds returns the registered kinds, in no particular order.
func (h *Handlers) Kinds() []string {
	if h == nil {
		return nil
	}
	m := h.m.Load()
	if m == nil {
		return nil
	}
	out := make([]string, 0, len(*m))
	for k := range *m {
		out = append(out, k)
	}
	return out
}

// call runs the handler, turning a panic into an error wrapping ErrPanic
// with the value and the stack.
func (hd *handler) call(ctx context.Context, j *Job, ta *typedAlloc) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return hd.run(ctx, j, ta)
}

type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string {
	return fmt.Sprintf("%v: %v\n%s", ErrPanic, e.value, e.stack)
}
func (e *panicError) Unwrap() error { return ErrPanic }

// SnoozeFor, returned by a handler, runs the job again after d without
// using an attempt (Outcome Snooze). d ≤ 0 runs it again at once. (Named
// SnoozeFor because the Backend contract's OutcomeKind already names
// Snooze.)
func SnoozeFor(d time.Duration) error { return &snoozeError{d: max(d, 0)} }

type snoozeError struct{ d time.Duration }

func (e *snoozeError) Error() string { return fmt.Sprintf("queue: snooze %v", e.d) }

// Cancel, returned by a handler, ends the job without a retry: it is
// dead-lettered with the reason "cancelled: <reason>".
func Cancel(reason error) error { return &cancelError{reason: reason} }

type cancelError struct{ reason error }

func (e *cancelError) Error() string {
	if e.reason == nil {
		return "cancelled"
	}
	return "cancelled: " + e.reason.Error()
}
func (e *cancelError) Unwrap() error { return e.reason }
