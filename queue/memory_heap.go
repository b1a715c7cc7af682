package queue

// entryHeap is a binary min-heap of entries ordered by (at, seq). One type
// serves all three orders a memQueue keeps: ready jobs of one priority by
// RunAt, scheduled jobs by RunAt, and leased jobs by lease deadline. An entry
// is in at most one heap at a time and knows its index there, so a
// cancellation or a settle removes it in O(log n).
type entryHeap []*entry

func (h entryHeap) less(i, j int) bool {
	a, b := h[i], h[j]
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

func (h entryHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = int32(i)
	h[j].idx = int32(j)
}

func (h *entryHeap) push(e *entry) {
	e.idx = int32(len(*h))
	*h = append(*h, e)
	h.up(len(*h) - 1)
}

// pop removes and returns the least entry; the heap must not be empty.
func (h *entryHeap) pop() *entry {
	return h.remove(0)
}

// remove takes out the entry at index i.
func (h *entryHeap) remove(i32 int32) *entry {
	i := int(i32)
	old := *h
	n := len(old) - 1
	e := old[i]
	if i != n {
		old.swap(i, n)
	}
	old[n] = nil
	*h = old[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
	e.idx = -1
	return e
}

// fix restores the order after the entry at index i changed its key.
func (h entryHeap) fix(i32 int32) {
	i := int(i32)
	if !h.down(i) {
		h.up(i)
	}
}

func (h entryHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		j = i
	}
}

func (h entryHeap) down(i0 int) bool {
	i, n := i0, len(h)
	for {
		l := 2*i + 1
		if l >= n || l < 0 {
			break
		}
		j := l
		if r := l + 1; r < n && h.less(r, l) {
			j = r
		}
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}

// hold is a unique key held until a time.
type hold struct {
	key   string
	id    string
	until int64 // unix ns
}

// holdHeap orders unique-key holds by the end of their window, so expired
// holds are dropped as time passes instead of piling up.
type holdHeap []*hold

func (h *holdHeap) push(x *hold) {
	*h = append(*h, x)
	s := *h
	for j := len(s) - 1; j > 0; {
		i := (j - 1) / 2
		if s[i].until <= s[j].until {
			break
		}
		s[i], s[j] = s[j], s[i]
		j = i
	}
}

func (h *holdHeap) pop() *hold {
	s := *h
	n := len(s) - 1
	top := s[0]
	s[0] = s[n]
	s[n] = nil
	s = s[:n]
	*h = s
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && s[r].until < s[l].until {
			j = r
		}
		if s[i].until <= s[j].until {
			break
		}
		s[i], s[j] = s[j], s[i]
		i = j
	}
	return top
}

// readyList holds the ready jobs of one priority in (RunAt, enqueue) order.
// Jobs almost always become ready in that order (enqueued to run now, in
// sequence), so they go to a FIFO in O(1) without the heap's swaps; a job
// that would break the FIFO's order (a delayed job coming due, a retry with
// an older RunAt) goes to a heap, and pop takes the lesser of the two heads.
// A job cancelled while in the FIFO is dropped lazily (its state is no
// longer ready), and the FIFO is compacted when such holes pile up.
type readyList struct {
	fifo  []*entry // fifo[head:] in order; idx -1
	head  int
	holes int // cancelled entries still in fifo[head:]
	heap  entryHeap
}

func (r *readyList) push(e *entry) {
	if n := len(r.fifo); n == r.head || r.fifo[n-1].at < e.at || r.fifo[n-1].at == e.at && r.fifo[n-1].seq < e.seq {
		e.idx = -1
		r.fifo = append(r.fifo, e)
		return
	}
	r.heap.push(e)
}

// front drops holes at the head of the FIFO and returns its first live
// entry, or nil.
func (r *readyList) front() *entry {
	for r.head < len(r.fifo) {
		e := r.fifo[r.head]
		if e.state == stateReady {
			return e
		}
		r.fifo[r.head] = nil
		r.head++
		r.holes--
	}
	r.fifo, r.head = r.fifo[:0], 0
	return nil
}

// first returns the least entry without removing it, or nil.
func (r *readyList) first() *entry {
	f := r.front()
	if len(r.heap) > 0 && (f == nil || r.heap[0].at < f.at || r.heap[0].at == f.at && r.heap[0].seq < f.seq) {
		return r.heap[0]
	}
	return f
}

// pop removes and returns the least entry, or nil.
func (r *readyList) pop() *entry {
	e := r.first()
	switch {
	case e == nil:
		return nil
	case e.idx >= 0:
		return r.heap.pop()
	}
	r.fifo[r.head] = nil
	r.head++
	if r.head == len(r.fifo) {
		r.fifo, r.head = r.fifo[:0], 0
	} else if r.head >= 1024 && 2*r.head >= len(r.fifo) {
		r.compact()
	}
	return e
}

// remove takes out e, a member whose state the caller is about to clear.
func (r *readyList) remove(e *entry) {
	if e.idx >= 0 {
		r.heap.remove(e.idx)
		return
	}
	r.holes++
	if r.holes >= 64 && 2*r.holes >= len(r.fifo)-r.head {
		e.state = 0 // so compact drops it too
		r.compact()
	}
}

// compact moves the FIFO's live entries to the front of its array.
func (r *readyList) compact() {
	live := r.fifo[:0]
	for _, e := range r.fifo[r.head:] {
		if e.state == stateReady {
			live = append(live, e)
		}
	}
	clear(r.fifo[len(live):])
	r.fifo, r.head, r.holes = live, 0, 0
}

// leaseSlot is a leased entry in a leaseList's FIFO with the deadline it
// had when it was put there.
type leaseSlot struct {
	e  *entry
	at int64
}

// leaseList holds the leased jobs of a queue by deadline. Deadlines are
// mostly handed out in order (now plus the same lease, for a fetch or for
// a heartbeat's Extend), so they go to a FIFO; a deadline that would break
// its order goes to a heap. A settled or extended job leaves its FIFO slot
// behind as a hole, skipped at the head and compacted away when holes pile
// up.
type leaseList struct {
	fifo  []leaseSlot
	head  int
	holes int
	heap  entryHeap
	n     int // leased jobs
}

func (l *leaseList) live(s leaseSlot) bool {
	return s.e.state == stateRunning && s.e.idx == -1 && s.e.at == s.at
}

// push adds e, whose at is its deadline.
func (l *leaseList) push(e *entry) {
	l.n++
	l.place(e)
}

func (l *leaseList) place(e *entry) {
	if n := len(l.fifo); n == l.head || l.fifo[n-1].at <= e.at {
		e.idx = -1
		l.fifo = append(l.fifo, leaseSlot{e, e.at})
		return
	}
	l.heap.push(e)
}

// extend moves e's deadline to at.
func (l *leaseList) extend(e *entry, at int64) {
	if e.idx >= 0 {
		e.at = at
		l.heap.fix(e.idx)
		return
	}
	if at == e.at {
		return
	}
	l.hole()
	e.at = at
	l.place(e)
}

// remove takes out e; the caller clears its state.
func (l *leaseList) remove(e *entry) {
	l.n--
	if e.idx >= 0 {
		l.heap.remove(e.idx)
		return
	}
	e.idx = -2 // its slot is a hole now, whatever its state
	l.hole()
}

func (l *leaseList) hole() {
	l.holes++
	if l.holes >= 64 && 2*l.holes >= len(l.fifo)-l.head {
		live := l.fifo[:0]
		for _, s := range l.fifo[l.head:] {
			if l.live(s) {
				live = append(live, s)
			}
		}
		clear(l.fifo[len(live):])
		l.fifo, l.head, l.holes = live, 0, 0
	}
}

// first returns the entry with the earliest deadline, or nil.
func (l *leaseList) first() *entry {
	var f *entry
	for l.head < len(l.fifo) {
		if s := l.fifo[l.head]; l.live(s) {
			f = s.e
			break
		}
		l.fifo[l.head] = leaseSlot{}
		l.head++
		l.holes--
	}
	switch {
	case f == nil:
		l.fifo, l.head, l.holes = l.fifo[:0], 0, 0
	case l.head >= 1024 && 2*l.head >= len(l.fifo):
		n := copy(l.fifo, l.fifo[l.head:])
		clear(l.fifo[n:])
		l.fifo, l.head = l.fifo[:n], 0
	}
	if len(l.heap) > 0 && (f == nil || l.heap[0].at < f.at) {
		return l.heap[0]
	}
	return f
}
