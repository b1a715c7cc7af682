package observe

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// BurnWindow is one row of the SRE workbook's multi-window, multi-burn-rate
// alert table: alert when the error budget burns at Factor times the rate
// that would spend it exactly over the SLO period, measured over both the
// Long window (it is really happening) and the Short one (it still is).
type BurnWindow struct {
	Severity    string // "page" or "ticket"
	Long, Short time.Duration
	Factor      float64
}

// WorkbookWindows is the SRE workbook's table for a 30-day SLO: page at
// 14.4× over 1 h and 5 m (2 % of the budget in an hour), page at 6× over 6 h
// and 30 m (5 % in six hours), ticket at 1× over 3 d and 6 h (10 % in three
// days).
var WorkbookWindows = []BurnWindow{
	{Severity: "page", Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4},
	{Severity: "page", Long: 6 * time.Hour, Short: 30 * time.Minute, Factor: 6},
	{Severity: "ticket", Long: 3 * 24 * time.Hour, Short: 6 * time.Hour, Factor: 1},
}

// SLOOptions configure an [SLO]. Objective is required.
type SLOOptions struct {
	// Objective is the good fraction promised, in (0, 1): 0.999 for "three nines".
	Objective float64
	// Windows to evaluate; nil → WorkbookWindows (whose factors assume a
	// 30-day SLO period).
	Windows []BurnWindow
	// Resolution is the width of the counting buckets; 0 → 1 minute. It must
	// not exceed the shortest window.
	Resolution time.Duration
	// MinEvents is the minimum-traffic guard: a window whose long range saw
	// fewer events does not alert, so three requests and one error do not page
	// anyone. 0 → 100; < 0 turns the guard off.
	MinEvents int64
	// Now is the clock events are counted by; nil → time.Now.
	Now func() time.Time
}

func (o SLOOptions) validate() error {
	if !(o.Objective > 0 && o.Objective < 1) {
		return fmt.Errorf("%w: Objective %v: must be in (0, 1)", ErrInvalidOptions, o.Objective)
	}
	if o.Resolution < 0 {
		return fmt.Errorf("%w: Resolution %v: must be ≥ 0", ErrInvalidOptions, o.Resolution)
	}
	return validateWindows("Windows", o.Windows, o.Resolution)
}

// validateWindows checks a burn-window table; path names it in errors.
func validateWindows(path string, ws []BurnWindow, res time.Duration) error {
	for i, w := range ws {
		switch {
		case w.Short <= 0 || w.Long <= w.Short:
			return fmt.Errorf("%w: %s[%d]: Long %v, Short %v: need 0 < Short < Long", ErrInvalidOptions, path, i, w.Long, w.Short)
		case !(w.Factor > 0) || math.IsInf(w.Factor, 0):
			return fmt.Errorf("%w: %s[%d].Factor %v: must be > 0", ErrInvalidOptions, path, i, w.Factor)
		case w.Severity == "":
			return fmt.Errorf("%w: %s[%d].Severity empty", ErrInvalidOptions, path, i)
		case res > w.Short:
			return fmt.Errorf("%w: Resolution %v: longer than %s[%d].Short %v", ErrInvalidOptions, res, path, i, w.Short)
		}
	}
	return nil
}

// SLO evaluates burn rates in process over good and total counts. Feed it
// with Add (per batch of events) or Observe (cumulative counters, such as a
// Snapshot's). Safe for concurrent use; memory is one bucket per Resolution
// over the longest window (4 320 buckets for the workbook table at 1 minute).
type SLO struct {
	name string
	opts SLOOptions
	res  int64 // resolution in ns

	mu         sync.Mutex
	ring       []sloBucket
	last       int64 // newest bucket index written
	cumTotal   int64
	cumBad     int64
	cumStarted bool
}

type sloBucket struct {
	idx        int64
	total, bad int64
}

// NewSLO returns an SLO named name (shown on the status page and in alerts).
func NewSLO(name string, opts SLOOptions) (*SLO, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: SLO name empty", ErrInvalidOptions)
	}
	if opts.Resolution == 0 {
		opts.Resolution = time.Minute
	}
	if opts.Windows == nil {
		opts.Windows = WorkbookWindows
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.MinEvents == 0 {
		opts.MinEvents = 100
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var longest time.Duration
	for _, w := range opts.Windows {
		longest = max(longest, w.Long)
	}
	n := int(longest/opts.Resolution) + 2
	return &SLO{name: name, opts: opts, res: int64(opts.Resolution), ring: make([]sloBucket, n)}, nil
}

// Name returns the SLO's name.
func (s *SLO) Name() string { return s.name }

// Objective returns the promised good fraction.
func (s *SLO) Objective() float64 { return s.opts.Objective }

// Add counts total events, bad of them failed, now. Negative counts and
// bad > total are clamped, never panic.
func (s *SLO) Add(total, bad int64) {
	total, bad = max(total, 0), max(bad, 0)
	bad = min(bad, total)
	if total == 0 {
		return
	}
	idx := s.opts.Now().UnixNano() / s.res
	s.mu.Lock()
	defer s.mu.Unlock()
	b := &s.ring[int(uint64(idx)%uint64(len(s.ring)))]
	if b.idx != idx {
		*b = sloBucket{idx: idx}
	}
	b.total += total
	b.bad += bad
	s.last = max(s.last, idx)
}

// Observe takes cumulative counts (a counter's value) and adds what changed
// since the previous call; a counter that went backwards (a restart) starts
// over from its new value.
func (s *SLO) Observe(total, bad int64) {
	s.mu.Lock()
	dt, db := total-s.cumTotal, bad-s.cumBad
	if !s.cumStarted {
		dt, db = 0, 0
	} else if dt < 0 || db < 0 {
		dt, db = total, bad
	}
	s.cumTotal, s.cumBad, s.cumStarted = total, bad, true
	s.mu.Unlock()
	s.Add(dt, db)
}

// WindowStatus is one window's evaluation.
type WindowStatus struct {
	BurnWindow
	LongBurn, ShortBurn     float64 // error ratio over the window / (1 - Objective)
	LongEvents, ShortEvents int64
	Firing                  bool
	Guarded                 bool // would fire but the long window saw fewer than MinEvents
}

// SLOStatus is an SLO's evaluation now.
type SLOStatus struct {
	Name      string
	Objective float64
	At        time.Time
	Windows   []WindowStatus
	Firing    string // the severity of the first firing window, "" when none
}

// Status evaluates every window at Now.
func (s *SLO) Status() SLOStatus {
	now := s.opts.Now()
	cur := now.UnixNano() / s.res
	st := SLOStatus{Name: s.name, Objective: s.opts.Objective, At: now}
	budget := 1 - s.opts.Objective
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.opts.Windows {
		lt, lb := s.sum(cur, w.Long)
		shortT, shortB := s.sum(cur, w.Short)
		ws := WindowStatus{BurnWindow: w, LongEvents: lt, ShortEvents: shortT}
		if lt > 0 {
			ws.LongBurn = float64(lb) / float64(lt) / budget
		}
		if shortT > 0 {
			ws.ShortBurn = float64(shortB) / float64(shortT) / budget
		}
		if ws.LongBurn > w.Factor && ws.ShortBurn > w.Factor {
			if s.opts.MinEvents > 0 && lt < s.opts.MinEvents {
				ws.Guarded = true
			} else {
				ws.Firing = true
				if st.Firing == "" {
					st.Firing = w.Severity
				}
			}
		}
		st.Windows = append(st.Windows, ws)
	}
	return st
}

// sum adds the buckets of the window d ending at bucket cur (inclusive).
func (s *SLO) sum(cur int64, d time.Duration) (total, bad int64) {
	n := int64(d) / s.res
	for _, b := range s.ring {
		if b.idx > cur-n && b.idx <= cur && b.total > 0 {
			total += b.total
			bad += b.bad
		}
	}
	return total, bad
}

// ObserveHTTP feeds the SLO from a collection of the HTTP server's golden
// signals: every request counted by http.server.request.duration, those
// answered 5xx bad (an availability SLO). Call it with each collection.
func (s *SLO) ObserveHTTP(snap *Snapshot) {
	s.Observe(int64(snap.Sum(instHTTPDuration)), int64(serverErrors(snap)))
}
