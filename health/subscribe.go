package health

import (
	"slices"
	"sync"
)

// maxSubscribeBuffer caps Subscribe's buffer: make would panic on a huge one.
const maxSubscribeBuffer = 1 << 16

// subscription queues transitions for one subscriber. The prober appends
// without ever blocking; a pump goroutine moves them to ch as fast as the
// subscriber reads. At most one transition per target is pending: a newer one
// is merged into it, so memory is bounded by the number of targets and the
// subscriber always converges on the latest status of every target.
type subscription struct {
	ch   chan Transition // owned by the pump, which closes it on exit
	stop chan struct{}
	once sync.Once

	mu sync.Mutex
	// pending holds one entry per name in order, each name once, so both
	// are bounded by the number of targets however long the subscriber
	// stalls. An entry whose transition coalesced away (it ended where it
	// began) stays, not live, and keeps the name's place.
	pending map[string]pendingTr
	order   []string      // FIFO of the names in pending
	wake    chan struct{} // capacity 1
}

type pendingTr struct {
	tr   Transition
	live bool
}

// Subscribe returns a channel that receives the transitions of every target
// from now on, and a function that ends the subscription (safe to call more
// than once, and after Close); the channel is closed once it has ended, and
// when the Prober closes. buffer < 1 means 1; above 65536 it means 65536
// (a channel that large would only hold memory: pending transitions are
// coalesced, not dropped, whatever the buffer).
//
// The prober never waits for a subscriber. While a subscriber falls behind,
// its undelivered transitions are coalesced per target: a target's pending
// transition keeps its From and takes the To, Err and At of the newer one,
// and disappears if it ends where it began. Nothing else is dropped: a slow
// reader still sees every target whose status changed, in order per target,
// and ends with the latest status of each. Status stays authoritative.
func (p *Prober) Subscribe(buffer int) (<-chan Transition, func()) {
	p.initOne.Do(p.init)
	buffer = min(max(buffer, 1), maxSubscribeBuffer)
	s := &subscription{ch: make(chan Transition, buffer), stop: make(chan struct{}),
		pending: make(map[string]pendingTr), wake: make(chan struct{}, 1)}
	// Lock order is mu then subMu, as in record; wg.Add happens before
	// Close's Wait because Close sets closed under mu first.
	p.mu.RLock()
	p.subMu.Lock()
	if p.closed {
		close(s.ch)
	} else {
		p.subs[s] = struct{}{}
		p.wg.Add(1)
		go p.pump(s)
	}
	p.subMu.Unlock()
	p.mu.RUnlock()
	return s.ch, func() {
		p.subMu.Lock()
		delete(p.subs, s)
		p.subMu.Unlock()
		s.end()
	}
}

func (s *subscription) end() { s.once.Do(func() { close(s.stop) }) }

func (p *Prober) pump(s *subscription) {
	defer p.wg.Done()
	defer close(s.ch)
	for {
		tr, ok := s.pop()
		if !ok {
			select {
			case <-s.wake:
				continue
			case <-s.stop:
				return
			}
		}
		select {
		case s.ch <- tr:
		case <-s.stop:
			return
		}
	}
}

func (s *subscription) pop() (Transition, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.order) > 0 {
		name := s.order[0]
		s.order = s.order[1:]
		e := s.pending[name]
		delete(s.pending, name)
		if e.live {
			return e.tr, true
		}
	}
	s.order = nil // let the backing array go
	return Transition{}, false
}

func (s *subscription) push(tr Transition) {
	s.mu.Lock()
	if old, ok := s.pending[tr.Name]; ok {
		if old.live {
			tr.From = old.tr.From
		}
		s.pending[tr.Name] = pendingTr{tr: tr, live: tr.From != tr.To}
	} else {
		s.pending[tr.Name] = pendingTr{tr: tr, live: true}
		s.order = append(s.order, tr.Name)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// forget drops the pending transition of a removed target.
func (s *subscription) forget(name string) {
	s.mu.Lock()
	if _, ok := s.pending[name]; ok {
		delete(s.pending, name)
		if i := slices.Index(s.order, name); i >= 0 {
			s.order = slices.Delete(s.order, i, i+1)
		}
	}
	s.mu.Unlock()
}

func (p *Prober) publish(tr Transition) {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	for s := range p.subs {
		s.push(tr)
	}
}

func (p *Prober) forget(name string) {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	for s := range p.subs {
		s.forget(name)
	}
}
