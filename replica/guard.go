package replica

import (
	"context"
	"fmt"
)

// The Positions is the user's: a panic in it becomes an error wrapping
// ErrPanic (logged once per router), so the feature degrades (a write's
// session is pinned, a read goes to the primary, a node fails its probe)
// and neither the caller nor the monitor dies.

func (r *Router) recovered(method string, err *error) {
	v := recover()
	if v == nil {
		return
	}
	*err = fmt.Errorf("%w: Positions.%s: %v", ErrPanic, method, v)
	r.panicLog.Do(func() {
		r.opts.Logger.Error("replica: Positions panicked; the call counts as failed", "method", method, "panic", fmt.Sprint(v))
	})
}

func (r *Router) writePosition(ctx context.Context, q Querier) (p Position, err error) {
	defer r.recovered("WritePosition", &err)
	return r.opts.Positions.WritePosition(ctx, q)
}

func (r *Router) state(ctx context.Context, q Querier) (st NodeState, err error) {
	defer r.recovered("State", &err)
	return r.opts.Positions.State(ctx, q)
}

func (r *Router) reached(ctx context.Context, q Querier, p Position) (ok bool, err error) {
	defer r.recovered("Reached", &err)
	return r.opts.Positions.Reached(ctx, q, p)
}

func (r *Router) promoteNode(ctx context.Context, q Querier) (err error) {
	defer r.recovered("Promote", &err)
	return r.opts.Positions.Promote(ctx, q)
}
