package observe

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Scaler is an action the advisor takes on its own advice, scripted because
// "anything done manually twice should be scripted": Up when rule Rule has
// fired for Sustain evaluations in a row, Down when Signal has stayed below
// Below for Sustain evaluations (and Rule has not fired). Below should sit
// well under the rule's own threshold: the gap is the hysteresis that keeps
// a load at the threshold from flapping. After any action (or a failed one),
// nothing runs for Cooldown.
//
// Example: Rule "web-tier" (lb.inflight.per_backend ≥ 32), Signal
// lb.inflight.per_backend, Below 8, Up adds a backend to the lb pool, Down
// removes one.
type Scaler struct {
	Name   string
	Rule   string
	Signal string
	Below  float64
	// Sustain is how many evaluations in a row a condition must hold; 0 → 3.
	Sustain int
	// Cooldown after an action; 0 → 5 minutes.
	Cooldown time.Duration
	// Up and Down do the work; Down may be nil (never scale in). A returned
	// error (or panic) is reported and still starts the cool-down. They run
	// inside Evaluate with its ctx: the next evaluation waits for them (Last
	// and the status page do not), so bound them with ctx.
	Up, Down func(ctx context.Context) error
}

// problem names what is wrong with s ("" when nothing is).
func (s Scaler) problem() string {
	switch {
	case s.Name == "":
		return "Name empty"
	case s.Rule == "":
		return fmt.Sprintf("%q: Rule empty", s.Name)
	case s.Up == nil:
		return fmt.Sprintf("%q: Up nil", s.Name)
	case s.Down != nil && s.Signal == "":
		return fmt.Sprintf("%q: Down set without Signal", s.Name)
	case s.Sustain < 0:
		return fmt.Sprintf("%q: Sustain %d: must be ≥ 0", s.Name, s.Sustain)
	case s.Cooldown < 0:
		return fmt.Sprintf("%q: Cooldown %v: must be ≥ 0", s.Name, s.Cooldown)
	}
	return ""
}

// ActionEvent is one action a scaler took.
type ActionEvent struct {
	Scaler    string
	Direction string // "up" or "down"
	At        time.Time
	Evidence  []Evidence
	Err       error
}

type scalerState struct {
	up, down int
	last     time.Time
	acted    bool
}

func (a *Advisor) act(ctx context.Context, now time.Time, rep Report) []ActionEvent {
	var out []ActionEvent
	for i, sc := range a.opts.Scalers {
		st := &a.state[i]
		sustain := sc.Sustain
		if sustain == 0 {
			sustain = 3
		}
		cool := sc.Cooldown
		if cool == 0 {
			cool = 5 * time.Minute
		}
		var why []Evidence
		fired := false
		for _, ad := range rep.Advice {
			if ad.Rule == sc.Rule {
				fired, why = true, ad.Evidence
			}
		}
		v, has := rep.Signals[sc.Signal]
		low := !fired && has && sc.Down != nil && v < sc.Below
		switch {
		case fired:
			st.up, st.down = st.up+1, 0
		case low:
			st.up, st.down = 0, st.down+1
			why = []Evidence{{Signal: sc.Signal, Value: v, Op: Below, Threshold: sc.Below}}
		default:
			st.up, st.down = 0, 0
		}
		if st.acted && now.Sub(st.last) < cool {
			continue
		}
		var dir string
		var fn func(context.Context) error
		switch {
		case st.up >= sustain:
			dir, fn = "up", sc.Up
		case st.down >= sustain:
			dir, fn = "down", sc.Down
		default:
			continue
		}
		err := runAction(ctx, sc.Name, fn)
		st.up, st.down, st.last, st.acted = 0, 0, now, true
		if err != nil {
			a.opts.Logger.LogAttrs(ctx, slog.LevelError, "observe: scaler action failed",
				slog.String("scaler", sc.Name), slog.String("direction", dir), slog.Any("error", err))
		}
		out = append(out, ActionEvent{Scaler: sc.Name, Direction: dir, At: now, Evidence: why, Err: err})
	}
	return out
}

func runAction(ctx context.Context, name string, fn func(context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: action %q: %v", ErrPanic, name, p)
		}
	}()
	return fn(ctx)
}
