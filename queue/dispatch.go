package queue

import "sync"

// dispatcher hands fetched jobs to a queue's handler goroutines. A Go
// channel read by a pool of parked goroutines wakes one of them for every
// job it carries (a direct hand-off to a parked receiver), which costs more
// than a no-op job. Here a goroutine that finishes a job takes the next one
// without parking, and parked goroutines are woken one at a time, each woken
// one waking the next only if jobs are still waiting: as many run as the
// jobs need, and a fast queue is drained by the few that are already
// running.
type dispatcher struct {
	mu     sync.Mutex
	q      []*run // FIFO: q[head:] waits
	head   int
	parked []chan struct{} // LIFO: the most recently active goroutine wakes first (warm cache)
	waking bool            // a woken goroutine has not taken its job yet
	closed bool
}

// push queues runs and wakes a goroutine if none is on its way.
func (d *dispatcher) push(rs []*run) {
	d.mu.Lock()
	if d.head > 0 && d.head == len(d.q) {
		clear(d.q)
		d.q, d.head = d.q[:0], 0
	}
	d.q = append(d.q, rs...)
	c := d.wakeLocked()
	d.mu.Unlock()
	if c != nil {
		c <- struct{}{}
	}
}

func (d *dispatcher) wakeLocked() chan struct{} {
	if d.waking || len(d.parked) == 0 || d.head == len(d.q) {
		return nil
	}
	d.waking = true
	n := len(d.parked) - 1
	c := d.parked[n]
	d.parked[n] = nil
	d.parked = d.parked[:n]
	return c
}

// take returns the next run, parking on me while there is none; idle is
// called (unlocked) before parking. ok is false once the dispatcher is
// closed and drained.
func (d *dispatcher) take(me chan struct{}, idle func()) (r *run, ok bool) {
	d.mu.Lock()
	for d.head == len(d.q) {
		if d.closed {
			d.mu.Unlock()
			return nil, false
		}
		if idle != nil {
			d.mu.Unlock()
			idle()
			d.mu.Lock()
			if d.head != len(d.q) || d.closed {
				continue
			}
		}
		d.parked = append(d.parked, me)
		d.mu.Unlock()
		<-me
		d.mu.Lock()
		d.waking = false
	}
	r = d.q[d.head]
	d.q[d.head] = nil
	d.head++
	if d.head > 1024 && d.head*2 > len(d.q) { // keep the backing array bounded
		n := copy(d.q, d.q[d.head:])
		clear(d.q[n:])
		d.q, d.head = d.q[:n], 0
	}
	c := d.wakeLocked()
	d.mu.Unlock()
	if c != nil {
		c <- struct{}{}
	}
	return r, true
}

// close wakes every parked goroutine; take returns false once the queued
// runs are taken.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	parked := d.parked
	d.parked = nil
	d.mu.Unlock()
	for _, c := range parked {
		c <- struct{}{}
	}
}
