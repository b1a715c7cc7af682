package health

import "sync"

type subscription struct {
	ch     chan Transition
	once   sync.Once
	closed bool
}

// closeLocked closes the channel; the caller holds Prober.subMu.
func (s *subscription) closeLocked() {
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}

// Subscribe returns a channel that receives every transition from now on,
// and a function that ends the subscription and closes the channel (safe to
// call more than once, and after Close). buffer < 1 means 1.
//
// The prober never waits for a subscriber: when the channel is full, the
// OLDEST queued transition is dropped to make room for the newest, so a slow
// reader always ends with the latest state of each target. Status stays
// authoritative; a reader that may fall behind should re-read it.
// After Close the channel is closed at once.
func (p *Prober) Subscribe(buffer int) (<-chan Transition, func()) {
	p.initOne.Do(p.init)
	if buffer < 1 {
		buffer = 1
	}
	s := &subscription{ch: make(chan Transition, buffer)}
	// Lock order is mu then subMu, as in record.
	p.mu.RLock()
	p.subMu.Lock()
	if p.closed {
		s.closeLocked()
	} else {
		p.subs[s] = struct{}{}
	}
	p.subMu.Unlock()
	p.mu.RUnlock()
	return s.ch, func() {
		s.once.Do(func() {
			p.subMu.Lock()
			delete(p.subs, s)
			s.closeLocked()
			p.subMu.Unlock()
		})
	}
}

func (p *Prober) publish(tr Transition) {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	for s := range p.subs {
		select {
		case s.ch <- tr:
			continue
		default:
		}
		select { // full: drop the oldest
		case <-s.ch:
		default:
		}
		select {
		case s.ch <- tr:
		default:
		}
	}
}
