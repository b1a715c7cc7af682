package lb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// attempts is the proxy's transport: it picks a backend per try and retries
// replayable requests on another one.
type attempts struct {
	pool   *Pool[*url.URL]
	retry  RetryOptions
	budget *budget
	base   http.RoundTripper
	// owned: requests are ReverseProxy's own clones, safe to retarget in place.
	owned bool
	// tracing starts a client span per try; nil starts none.
	tracing *clientTracing
}

func (a *attempts) RoundTrip(req *http.Request) (*http.Response, error) {
	st, _ := req.Context().Value(stateKey{}).(*proxyState)
	if st == nil {
		st = &proxyState{snap: a.pool.load(), pinned: -1, served: -1}
	}
	return a.roundTrip(req, st)
}

func (a *attempts) roundTrip(req *http.Request, st *proxyState) (*http.Response, error) {
	ro := a.retry
	a.budget.request()
	retry := replayable(req)
	orig, body := req.URL, req.Body // try may retarget req in place
	var rp *replay
	if !retry && ro.IdempotencyKeyHeader != "" {
		var err error
		if retry, rp, body, err = ro.keyed(req); err != nil {
			return nil, err
		}
	}
	tried := st.tried[:0]
	i, picked := st.pinned, false
	if i < 0 {
		i, picked = st.snap.choose(st.key, st.keyed), true
	}
	reached := 0 // tries that reached a backend, bounded by Attempts
	tracer := a.tracing.active()
	for try := 0; ; try++ {
		if i < 0 {
			return nil, ErrNoBackend
		}
		e := st.snap.all[i]
		done := st.snap.beginTry(e, picked)
		if rp != nil && try > 0 {
			body = rp.reader()
		}
		t := a.try(req, orig, body, e, st.snap.vals[i], retry, tracer, try)
		o := t.o
		if !t.unsent {
			reached++
		}
		next, nextPicked := -1, false
		if (o.Err != nil || ro.RetryStatus(o.Status)) && req.Context().Err() == nil &&
			(t.unsent || retry && reached < ro.Attempts) {
			// Retry only on a backend not tried yet; a request that reached
			// one only within budget, unless that backend hung.
			tried = append(tried, i)
			j, jPicked := st.snap.chooseExcept(st.key, st.keyed, tried)
			if j >= 0 && !slices.Contains(tried, j) && (t.unsent || t.hung || a.budget.withdraw()) {
				next, nextPicked = j, jPicked
			}
		}
		if next >= 0 {
			if t.resp != nil {
				io.Copy(io.Discard, io.LimitReader(t.resp.Body, 4096))
				t.resp.Body.Close()
			}
			t.cancel()
			a.done(e, done, o, t.span)
			if a.pool != nil {
				e.met.retried(a.pool.met)
			}
			i, picked = next, nextPicked
			continue
		}
		t.guard.release() // the last try: its transport owns the body
		if o.Err != nil {
			t.cancel()
			a.done(e, done, o, t.span)
			return nil, o.Err
		}
		st.served = i
		rp.close() // on a failure, the caller closes the request's body
		t.run.finishOn(t.resp, o, done)
		if t.resp.StatusCode == http.StatusSwitchingProtocols {
			st.upgraded = t.run
		}
		return t.resp, nil
	}
}

// done ends a try: it records the try's latency (a histogram record costs
// about as much as a whole pick, so done itself records none; here a request
// costs microseconds), ends its client span if any, and calls the pick's
// done.
func (a *attempts) done(e *Endpoint, done func(Outcome), o Outcome, span trace.Span) {
	if a.pool != nil && a.pool.met.on() {
		e.met.latency(a.pool.met, o)
	}
	endTry(span, o)
	done(o)
}

// tried is the result of one try.
type tried struct {
	resp   *http.Response
	o      Outcome
	cancel func() // releases the try's context once the response body is done
	unsent bool   // the request never reached the backend: safe to send elsewhere
	hung   bool   // abandoned on a hung backend
	guard  *bodyGuard
	span   trace.Span // the try's client span, nil when not tracing
	run    *tryRun
}

// tryRun is what one try allocates, in one piece: its watch, its client
// trace (which tells whether the request's headers were written), the URL
// it is sent to, and, for the try that answers, the wrapper of the
// response body that ends the try when the body is done.
type tryRun struct {
	watch
	trace httptrace.ClientTrace
	url   url.URL
	body  doneBody
	// for the answering try: what the body's end finishes
	span trace.Span
	o    Outcome
	done func(Outcome)
}

// finishOn wraps resp's body so that the try ends (its context released,
// its outcome recorded with done, its span ended) once when the body is
// closed or fails, keeping the Write method of upgraded (101) connections.
func (r *tryRun) finishOn(resp *http.Response, o Outcome, done func(Outcome)) {
	r.o, r.done = o, done
	r.body = doneBody{ReadCloser: resp.Body, run: r}
	if rw, ok := resp.Body.(io.ReadWriteCloser); ok {
		resp.Body = &doneRWBody{doneBody: &r.body, w: rw}
		return
	}
	resp.Body = &r.body
}

// finish ends the answering try, err being the body's read error if any.
func (r *tryRun) finish(err error) {
	r.cancel()
	if err != nil && err != io.EOF && r.o.Err == nil {
		r.o.Err = err
	}
	r.a.done(r.e, r.done, r.o, r.span)
}

// watch is one try's timer: it ends the try at the per-try timeout and
// checks, every StallTimeout, whether its backend hung.
type watch struct {
	a       *attempts
	e       *Endpoint
	sent    int64 // monotonic
	abandon bool  // a hung try may be abandoned (it can be retried)
	cancel  context.CancelFunc
	timer   *time.Timer

	mu       sync.Mutex
	finished bool
	timedOut bool
	hung     bool
	headers  bool // the request's headers were written
}

func (w *watch) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finished {
		return
	}
	ro := &w.a.retry
	waited := time.Duration(monotonic() - w.sent)
	if waited >= ro.PerTryTimeout {
		w.timedOut = true
		w.cancel()
		return
	}
	next := ro.PerTryTimeout - waited
	if ro.StallTimeout > 0 && !w.hung {
		hung, wait := w.a.pool.stalled(w.e, w.sent, w.sent+int64(waited), ro.StallTimeout)
		if hung {
			w.hung = true
			w.a.pool.ejectFor(w.e, reasonHung)
			if w.abandon {
				w.cancel()
				return
			}
		} else {
			next = min(next, max(wait, ro.StallTimeout/16))
		}
	}
	w.timer.Reset(next)
}

func (w *watch) wroteHeaders() {
	w.mu.Lock()
	w.headers = true
	w.mu.Unlock()
}

// try sends one attempt to target on e. A request that may be retried
// (replayable) is abandoned when e is found hung. With a tracer, the try
// gets a client span (its resend'th retry), whose context the request sent
// carries.
func (a *attempts) try(req *http.Request, orig *url.URL, body io.ReadCloser, e *Endpoint, target *url.URL, replayable bool, tracer trace.Tracer, resend int) tried {
	ro := &a.retry
	ctx, cancel := context.WithCancel(req.Context())
	run := &tryRun{watch: watch{a: a, e: e, abandon: replayable, cancel: cancel, sent: monotonic()}}
	w := &run.watch
	first := ro.PerTryTimeout
	if ro.StallTimeout > 0 {
		first = min(first, ro.StallTimeout)
	}
	w.timer = time.AfterFunc(first, w.fire)
	if ro.StallTimeout > 0 {
		e.sending(w.sent)
	}
	run.trace.WroteHeaders = w.wroteHeaders
	ctx = httptrace.WithClientTrace(ctx, &run.trace)
	out := req.WithContext(ctx)
	var guard *bodyGuard
	if body != nil && body != http.NoBody {
		// The transport closes the body on failure; keep it open, and know
		// whether any of it was read, for a retry of a request never sent.
		guard = &bodyGuard{ReadCloser: body}
		out.Body = guard
		if out.GetBody != nil {
			// net/http resends on its own, rewinding with GetBody, a
			// request carrying an Idempotency-Key whose reused connection
			// broke after sending it: behind the balancer's back, to the
			// same backend, outside Attempts and the budget. Refuse the
			// rewind (a body never sent needs none, so net/http's resend
			// of a request that never left still works): the balancer
			// alone decides what is resent.
			out.GetBody = refuseRewind
		}
	}
	var resp *http.Response
	var err error
	var span trace.Span
	if target == nil || target.Host == "" {
		err = fmt.Errorf("lb: backend URL %v: no host", target)
	} else {
		retargetTo(&run.url, orig, target)
		out.URL = &run.url
		if tracer != nil {
			var sctx context.Context
			sctx, span = a.tracing.startTry(ctx, tracer, out, e, target.Host, resend)
			out = out.WithContext(sctx)
			run.span = span
		}
		resp, err = a.base.RoundTrip(out)
	}
	end := monotonic()
	w.mu.Lock()
	w.finished = true
	timedOut, hung, headers := w.timedOut, w.hung, w.headers
	w.mu.Unlock()
	w.timer.Stop()
	t := tried{o: Outcome{Err: err, Latency: time.Duration(end - w.sent)}, cancel: cancel, hung: hung, guard: guard, span: span, run: run}
	if resp != nil && !timedOut && !(hung && replayable) {
		e.answered(w.sent, end, ro.StallTimeout)
	}
	switch {
	case (timedOut || hung && replayable) && req.Context().Err() == nil:
		if resp != nil {
			resp.Body.Close()
			resp = nil
		}
		if timedOut {
			t.o.Err = fmt.Errorf("%w after %v", ErrTryTimeout, ro.PerTryTimeout)
		} else {
			t.o.Err = fmt.Errorf("%w: backend hung: answered nothing for %v while others answered", ErrTryTimeout, ro.StallTimeout)
		}
	case err != nil && req.Context().Err() != nil && ro.StallTimeout > 0 &&
		time.Duration(end-w.sent) >= ro.StallTimeout && e.answeredAt.Load() < w.sent-int64(time.Millisecond):
		// The client gave up on a backend that had answered nothing for
		// that long: a failure of the backend, not only a cancellation.
		// (Not wrapped: a cancelled context is never counted.)
		t.o.Err = fmt.Errorf("lb: backend answered nothing for %v: client gave up: %v", time.Duration(end-w.sent), err)
	case err != nil:
		t.unsent = (!headers || unsentError(err)) && (guard == nil || !guard.read.Load())
	}
	if resp != nil {
		t.o.Status = resp.StatusCode
	} else if t.o.Err == nil {
		t.o.Err = fmt.Errorf("lb: nil response from transport")
	}
	t.resp = resp
	return t
}

// errNoRewind is the error of a base transport's attempt to resend a body
// it already sent.
var errNoRewind = errors.New("lb: request body sent once; resending it is the balancer's decision")

func refuseRewind() (io.ReadCloser, error) { return nil, errNoRewind }

// answered records that e answered a try sent at sent, at now (monotonic):
// when it last answered, at most once a millisecond, and, if it answered
// within half of stall, exactly the latest sending time it answered so
// quickly. That is the proof that it overtook a try on a hung backend,
// which may have been sent only microseconds before; an answer as slow as
// the wait that judges a backend hung proves nothing (in a fleet slow
// everywhere, a request sent a moment later may come back a moment
// sooner).
func (e *Endpoint) answered(sent, now int64, stall time.Duration) {
	const ms = int64(time.Millisecond)
	if now-e.answeredAt.Load() >= ms {
		e.answeredAt.Store(now)
	}
	if now-sent < int64(stall/2) && sent > e.answeredSent.Load() {
		e.answeredSent.Store(sent)
	}
}

// sending records that a try is sent to e at sent (monotonic), if it is
// one of the first two since e last answered. answeredAt lags by up to a
// millisecond: a try sent within it may have been answered, so it starts
// the count again (else the two tries recorded could be answered ones
// while answeredAt, frozen with the backend, never moves again).
func (e *Endpoint) sending(sent int64) {
	const slack = int64(time.Millisecond)
	f := e.firstSent.Load()
	switch {
	case f <= e.answeredAt.Load()+slack:
		e.firstSent.Store(sent)
	case sent > f && e.secondSent.Load() <= f:
		e.secondSent.Store(sent)
	}
}

// bodyGuard passes a request body to the transport without letting it
// close the body, and records whether any of it was read.
type bodyGuard struct {
	io.ReadCloser
	read atomic.Bool

	mu        sync.Mutex
	wantClose bool // the transport closed it before release
	released  bool // no retry will follow: a Close passes through
}

func (g *bodyGuard) Read(p []byte) (int, error) {
	n, err := g.ReadCloser.Read(p)
	if n > 0 || err == nil {
		g.read.Store(true)
	}
	return n, err
}

// Close closes the body only once release said no retry will follow;
// before, it records that the transport is done with it.
func (g *bodyGuard) Close() error {
	g.mu.Lock()
	pass := g.released && !g.wantClose
	g.wantClose = true
	g.mu.Unlock()
	if pass {
		return g.ReadCloser.Close()
	}
	return nil
}

// release hands the body back to the transport of the last try: closed
// now if the transport already closed its guard, else at its Close (the
// transport may still be sending it).
func (g *bodyGuard) release() {
	if g == nil {
		return
	}
	g.mu.Lock()
	done := g.wantClose && !g.released
	g.released = true
	g.mu.Unlock()
	if done {
		g.ReadCloser.Close()
	}
}

// retarget points u at target, joining their paths and queries.
func retarget(u, target *url.URL) *url.URL {
	v := new(url.URL)
	retargetTo(v, u, target)
	return v
}

// retargetTo sets v to u pointed at target, joining their paths and queries.
func retargetTo(v, u, target *url.URL) {
	*v = *u
	v.Scheme, v.Host = target.Scheme, target.Host
	if target.Path != "" {
		// Join the escaped forms, so that an encoded slash (%2F) stays one,
		// and resolve the request's dot segments first, so that /../x (or
		// /%2e%2e/x) cannot climb out of the backend's prefix.
		raw := strings.TrimSuffix(target.EscapedPath(), "/") + "/" + strings.TrimPrefix(resolveDots(u.EscapedPath()), "/")
		if p, err := url.PathUnescape(raw); err == nil {
			v.Path, v.RawPath = p, raw
		}
	}
	if target.RawQuery != "" {
		if v.RawQuery == "" {
			v.RawQuery = target.RawQuery
		} else {
			v.RawQuery = target.RawQuery + "&" + v.RawQuery
		}
	}
}

// doneBody is the answering try's response body: it ends the try once,
// when the body is closed or a read fails.
type doneBody struct {
	io.ReadCloser
	once sync.Once
	run  *tryRun
}

func (d *doneBody) Read(p []byte) (int, error) {
	n, err := d.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		d.once.Do(func() { d.run.finish(err) })
	}
	return n, err
}

func (d *doneBody) Close() error {
	err := d.ReadCloser.Close()
	d.once.Do(func() { d.run.finish(nil) })
	return err
}

type doneRWBody struct {
	*doneBody
	w io.Writer
}

func (d *doneRWBody) Write(p []byte) (int, error) { return d.w.Write(p) }
