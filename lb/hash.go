package lb

// HashOptions configures [Hash].
type HashOptions struct {
	// RendezvousMax is the largest pool hashed with rendezvous hashing; larger
	// pools use a Maglev table. Zero means 32.
	RendezvousMax int
}

// Hash sends equal keys to the same endpoint while the pool is stable and,
// when it changes, moves only the keys of the endpoints that left or came
// (consistent hashing). Small pools use weighted rendezvous hashing, exact
// and with minimal disruption; large ones use a Maglev lookup table, one
// memory read per pick. Keys come from [Pool.PickKey] (a client IP, a
// header, a cookie, any string); picks without a key are random.
func Hash(opts HashOptions) Policy {
	if opts.RendezvousMax <= 0 {
		opts.RendezvousMax = 32
	}
	return hashPolicy(opts)
}

type hashPolicy HashOptions

func (h hashPolicy) NewPicker(cfg PickerConfig) Picker {
	if len(cfg.Endpoints) <= h.RendezvousMax && cfg.uniform() {
		return newRendezvous(cfg)
	}
	return newMaglev(cfg)
}

type rendezvous struct {
	eps  []*Endpoint
	rand func() uint64
}

func newRendezvous(cfg PickerConfig) *rendezvous {
	return &rendezvous{eps: cfg.Endpoints, rand: cfg.Rand}
}

func (r *rendezvous) Pick(key uint64, keyed bool) int {
	if !keyed {
		return bounded(r.rand(), len(r.eps))
	}
	best, top := 0, uint64(0)
	for i, e := range r.eps {
		if s := mix64(key ^ e.hash); s > top {
			best, top = i, s
		}
	}
	return best
}

type maglev struct {
	table []int32
	rand  func() uint64
	n     int
}

func (m *maglev) Pick(key uint64, keyed bool) int {
	if !keyed {
		return bounded(m.rand(), m.n)
	}
	return int(m.table[key%uint64(len(m.table))])
}

// newMaglev fills the lookup table (Eisenbud et al., 2016): each endpoint
// walks its own permutation of slots and claims the next free one in turn;
// a weighted endpoint takes turns in proportion to its weight.
func newMaglev(cfg PickerConfig) *maglev {
	n := len(cfg.Endpoints)
	size := 65537 // Envoy's default: stable across pool sizes up to ~650
	if n > 650 {
		size = nextPrime(100 * n)
	}
	m := &maglev{table: make([]int32, size), rand: cfg.Rand, n: n}
	for i := range m.table {
		m.table[i] = -1
	}
	maxw := 0.0
	for _, w := range cfg.Weights {
		maxw = max(maxw, w)
	}
	offset, skip, next := make([]uint64, n), make([]uint64, n), make([]uint64, n)
	credit := make([]float64, n)
	for i, e := range cfg.Endpoints {
		offset[i] = e.hash % uint64(size)
		skip[i] = mix64(e.hash^0x9e3779b97f4a7c15)%uint64(size-1) + 1
	}
	for filled := 0; filled < size; {
		for i := 0; i < n && filled < size; i++ {
			credit[i] += cfg.Weights[i] / maxw
			if credit[i] < 1 {
				continue
			}
			credit[i]--
			for {
				slot := (offset[i] + next[i]*skip[i]) % uint64(size)
				next[i]++
				if m.table[slot] < 0 {
					m.table[slot] = int32(i)
					filled++
					break
				}
			}
		}
	}
	return m
}

func nextPrime(n int) int {
	for ; ; n++ {
		prime := n > 1
		for d := 2; d*d <= n; d++ {
			if n%d == 0 {
				prime = false
				break
			}
		}
		if prime {
			return n
		}
	}
}
