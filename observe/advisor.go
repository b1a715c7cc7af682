package observe

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"
)

// AdvisorOptions configure an [Advisor]. The zero value runs [DefaultRules].
type AdvisorOptions struct {
	// Rules to run; nil → DefaultRules.
	Rules []Rule
	// Scalers are actions triggered by advice (see [Scaler]).
	Scalers []Scaler
	// CPUs divides process.cpu.time into a utilisation; 0 → runtime.NumCPU().
	CPUs int
	// Now is the clock of reports and cool-downs; nil → time.Now.
	Now func() time.Time
	// Logger receives failed rules and actions; nil → slog.Default().
	Logger *slog.Logger
}

// Validate reports the first invalid field.
func (o AdvisorOptions) Validate() error {
	if o.CPUs < 0 {
		return fmt.Errorf("%w: CPUs %d: must be ≥ 0", ErrInvalidOptions, o.CPUs)
	}
	seen := map[string]bool{}
	for i, r := range o.Rules {
		if r.ID == "" {
			return fmt.Errorf("%w: Rules[%d].ID empty", ErrInvalidOptions, i)
		}
		if seen[r.ID] {
			return fmt.Errorf("%w: Rules[%d].ID %q: duplicate", ErrInvalidOptions, i, r.ID)
		}
		seen[r.ID] = true
		if len(r.When) == 0 && r.Check == nil {
			return fmt.Errorf("%w: Rules[%d] %q: no When and no Check", ErrInvalidOptions, i, r.ID)
		}
	}
	for i, s := range o.Scalers {
		if p := s.problem(); p != "" {
			return fmt.Errorf("%w: Scalers[%d] %s", ErrInvalidOptions, i, p)
		}
	}
	return nil
}

// Advice is one rule that fired: the bottleneck, the next move, and the
// numbers that triggered it.
type Advice struct {
	Rule       string
	Bottleneck string
	Move       string
	Evidence   []Evidence
}

// RuleFailure is a rule that panicked; the others ran.
type RuleFailure struct {
	Rule string
	Err  error
}

// Report is one evaluation.
type Report struct {
	At      time.Time
	Signals Signals
	Advice  []Advice
	Failed  []RuleFailure
	Actions []ActionEvent
}

// Advisor reads the golden signals every package already emits, from an
// in-process [Collector], and names the binding bottleneck and the next move.
// Call Evaluate on a schedule (or Run); each call compares with the previous
// collection for rates. Safe for concurrent use.
type Advisor struct {
	src    Collector
	opts   AdvisorOptions
	mu     sync.Mutex // serialises evaluations
	prev   *Snapshot
	prevAt time.Time
	state  []scalerState
	lastMu sync.Mutex // guards last only: Last must not wait for an evaluation's actions
	last   Report
}

// NewAdvisor returns an advisor reading c.
func NewAdvisor(c Collector, opts AdvisorOptions) (*Advisor, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil Collector", ErrInvalidOptions)
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Rules == nil {
		opts.Rules = DefaultRules
	}
	if opts.CPUs == 0 {
		opts.CPUs = runtime.NumCPU()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Advisor{src: c, opts: opts, state: make([]scalerState, len(opts.Scalers))}, nil
}

// Evaluate collects once, derives the signals since the previous call, runs
// every rule and then the scalers. A collection error is returned and
// nothing else happens.
func (a *Advisor) Evaluate(ctx context.Context) (Report, error) {
	a.mu.Lock() // collect under the lock too: snapshots must reach prev in order
	defer a.mu.Unlock()
	snap, err := Collect(ctx, a.src)
	if err != nil {
		return Report{}, err
	}
	now := a.opts.Now()
	var dt time.Duration
	if a.prev != nil {
		dt = now.Sub(a.prevAt)
	}
	rep := Report{At: now, Signals: deriveSignals(a.prev, snap, dt, a.opts.CPUs)}
	a.prev, a.prevAt = snap, now
	for _, r := range a.opts.Rules {
		ad, fired, err := runRule(r, rep.Signals)
		if err != nil {
			rep.Failed = append(rep.Failed, RuleFailure{Rule: r.ID, Err: err})
			a.opts.Logger.LogAttrs(ctx, slog.LevelError, "observe: advisor rule failed", slog.String("rule", r.ID), slog.Any("error", err))
			continue
		}
		if fired {
			rep.Advice = append(rep.Advice, ad)
		}
	}
	rep.Actions = a.act(ctx, now, rep)
	a.lastMu.Lock()
	a.last = rep
	a.lastMu.Unlock()
	return rep, nil
}

// Last returns the latest complete report (zero before the first
// Evaluate). It does not wait for an evaluation in progress, whose scaler
// actions may take minutes.
func (a *Advisor) Last() Report {
	a.lastMu.Lock()
	defer a.lastMu.Unlock()
	return a.last
}

// Run evaluates every interval until ctx is done, then returns ctx.Err().
// Collection errors are logged and the loop goes on.
func (a *Advisor) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("%w: Run interval %v: must be > 0", ErrInvalidOptions, interval)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := a.Evaluate(ctx); err != nil && ctx.Err() == nil {
			a.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "observe: advisor evaluation failed", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// runRule runs one rule, turning a panic into an error.
func runRule(r Rule, s Signals) (ad Advice, fired bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: rule %q: %v", ErrPanic, r.ID, p)
		}
	}()
	ad = Advice{Rule: r.ID, Bottleneck: r.Bottleneck, Move: r.Move}
	if r.Check != nil {
		fired, ad.Evidence = r.Check(s)
		return ad, fired, nil
	}
	for _, c := range r.When {
		e, ok := c.met(s)
		if !ok {
			return Advice{}, false, nil
		}
		ad.Evidence = append(ad.Evidence, e)
	}
	return ad, true, nil
}

// Eval runs the rule on signals s, as Evaluate does: to check a rule
// against numbers recorded elsewhere (a test, a drill's measurements). A
// panic of Check is returned as an error wrapping ErrPanic.
func (r Rule) Eval(s Signals) (ad Advice, fired bool, err error) { return runRule(r, s) }
