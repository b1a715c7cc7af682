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
	h[i].idx = i
	h[j].idx = j
}

func (h *entryHeap) push(e *entry) {
	e.idx = len(*h)
	*h = append(*h, e)
	h.up(e.idx)
}

// pop removes and returns the least entry; the heap must not be empty.
func (h *entryHeap) pop() *entry {
	return h.remove(0)
}

// remove takes out the entry at index i.
func (h *entryHeap) remove(i int) *entry {
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
func (h entryHeap) fix(i int) {
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
