package lb

import (
	"fmt"
	"log/slog"
	"sync/atomic"
)

// builtin reports whether pol is one of this package's policies, whose
// pickers neither panic nor return indices out of range.
func builtin(pol Policy) bool {
	switch pol.(type) {
	case rrPolicy, wrrPolicy, randomPolicy, leastPolicy, *ewmaPolicy, *hashPolicy, firstPolicy:
		return true
	}
	return false
}

// newPicker builds the picker for one tier. A user policy is guarded: if
// its NewPicker or Pick panics, returns nil or an index out of range, the
// pick falls back to round robin and the first failure is logged (once per
// pool, however often it rebuilds its pickers), so a bug in a custom policy degrades balancing instead of failing
// requests or crashing the process.
func (p *Pool[T]) newPicker(cfg PickerConfig) Picker {
	if builtin(p.policy) {
		return p.policy.NewPicker(cfg)
	}
	g := &guardedPicker{n: len(cfg.Endpoints), log: p.opts.Logger, reported: &p.policyFailed}
	func() {
		defer func() {
			if r := recover(); r != nil {
				g.report(fmt.Sprintf("NewPicker panicked: %v", r))
			}
		}()
		g.p = p.policy.NewPicker(cfg)
	}()
	if g.p == nil {
		g.report("NewPicker returned no picker")
	}
	return g
}

type guardedPicker struct {
	p        Picker
	n        int
	log      *slog.Logger
	next     atomic.Uint64 // the round-robin fallback
	reported *atomic.Bool  // the pool's: set once a failure has been logged
}

func (g *guardedPicker) Pick(key uint64, keyed bool) int {
	if g.p != nil {
		i, err := g.try(key, keyed)
		if err == "" && i >= 0 && i < g.n {
			return i
		}
		if err == "" {
			err = fmt.Sprintf("Pick returned %d, not in [0, %d)", i, g.n)
		}
		g.report(err)
	}
	return int((g.next.Add(1) - 1) % uint64(g.n))
}

// try calls the user's Pick, turning a panic into a reason.
func (g *guardedPicker) try(key uint64, keyed bool) (i int, reason string) {
	defer func() {
		if r := recover(); r != nil {
			i, reason = -1, fmt.Sprintf("Pick panicked: %v", r)
		}
	}()
	return g.p.Pick(key, keyed), ""
}

func (g *guardedPicker) report(reason string) {
	if !g.reported.Swap(true) {
		g.log.Error("lb: custom policy failed; picking round robin wherever it fails (logged once)", "reason", reason)
	}
}

// hookFailure runs the user's IsFailure. If it panics, the outcome is
// classified by the default IsFailure and the panic logged once per pool.
func (p *Pool[T]) hookFailure(o Outcome) (failed bool) {
	defer func() {
		if r := recover(); r != nil {
			failed = IsFailure(o)
			if !p.hookPanicked.Swap(true) {
				p.opts.Logger.Error("lb: IsFailure panicked; classifying outcomes by the default", "panic", fmt.Sprint(r))
			}
		}
	}()
	return p.opts.IsFailure(o)
}
