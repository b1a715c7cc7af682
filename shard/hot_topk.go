package shard

// spaceSaving is the Space-Saving summary (Metwally, Agrawal and El Abbadi,
// 2005) over key hashes: at most cap counters; a key not counted takes the
// place of the smallest counter, inheriting its count as its error. After N
// additions every key's counter overestimates its true count by at most its
// err ≤ N/cap, and every key whose count exceeds N/cap is held. Not safe
// for concurrent use: each stripe of a Hot holds its own under a mutex.
type spaceSaving struct {
	idx  map[uint64]int // key → position in ents
	ents []ssEntry      // a min-heap by count
	cap  int
	n    int64 // additions
}

type ssEntry struct {
	key        uint64
	count, err int64
	shard      int
}

func newSpaceSaving(capacity int) *spaceSaving {
	return &spaceSaving{idx: make(map[uint64]int, capacity), ents: make([]ssEntry, 0, capacity), cap: capacity}
}

func (s *spaceSaving) reset() {
	clear(s.idx)
	s.ents = s.ents[:0]
	s.n = 0
}

// min is the smallest count held when the summary is full (the bound on
// the count of any key it does not hold), else 0.
func (s *spaceSaving) min() int64 {
	if len(s.ents) < s.cap || len(s.ents) == 0 {
		return 0
	}
	return s.ents[0].count
}

func (s *spaceSaving) add(key uint64, shard int) {
	s.n++
	if i, ok := s.idx[key]; ok {
		s.ents[i].count++
		s.ents[i].shard = shard
		s.down(i)
		return
	}
	if len(s.ents) < s.cap {
		s.ents = append(s.ents, ssEntry{key: key, count: 1, shard: shard})
		s.idx[key] = len(s.ents) - 1
		s.up(len(s.ents) - 1)
		return
	}
	e := &s.ents[0]
	delete(s.idx, e.key)
	*e = ssEntry{key: key, count: e.count + 1, err: e.count, shard: shard}
	s.idx[key] = 0
	s.down(0)
}

func (s *spaceSaving) swap(i, j int) {
	s.ents[i], s.ents[j] = s.ents[j], s.ents[i]
	s.idx[s.ents[i].key] = i
	s.idx[s.ents[j].key] = j
}

func (s *spaceSaving) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if s.ents[p].count <= s.ents[i].count {
			return
		}
		s.swap(i, p)
		i = p
	}
}

func (s *spaceSaving) down(i int) {
	n := len(s.ents)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && s.ents[r].count < s.ents[l].count {
			m = r
		}
		if s.ents[i].count <= s.ents[m].count {
			return
		}
		s.swap(i, m)
		i = m
	}
}
