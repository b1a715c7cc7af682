// Package load is the examples' load generator: virtual users sign up, log
// in, post and read feeds over HTTP against the application of package app,
// in steps of rising concurrency, each bounded in duration and in request
// count. Its Result holds, per step, the golden signals a newcomer reads
// (throughput, p50/p99 latency, error rate) and a timeline of short
// intervals, so a drill run beside it (a killed process, a restarted
// database) shows as errors at a moment and the recovery after it; the
// ladder walk prints and charts the same struct.
//
// Load is generated over loopback HTTP with one cookie jar per virtual user
// (the app's session cookie), through one shared transport.
package load

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// ErrInvalidOptions wraps every error about bad Options.
var ErrInvalidOptions = errors.New("load: invalid options")

// Op names one kind of request.
type Op string

// The operations a virtual user makes.
const (
	OpSignup    Op = "signup"     // POST /api/signup with a new name
	OpLogin     Op = "login"      // POST /api/login
	OpPost      Op = "post"       // POST /api/posts
	OpFeed      Op = "feed"       // GET /api/feed
	OpUserPosts Op = "user-posts" // GET /api/users/{name}/posts
)

// Step is one stage of the load: Workers virtual users, each sending one
// request after the other (after Think), until Duration passes or the step
// has sent MaxRequests. Both bounds are required.
type Step struct {
	Workers     int
	Duration    time.Duration
	MaxRequests int
}

// Rising returns n steps of from, from+by, … workers, each bounded by
// each and maxRequests.
func Rising(from, by, n int, each time.Duration, maxRequests int) []Step {
	steps := make([]Step, n)
	for i := range steps {
		steps[i] = Step{Workers: from + i*by, Duration: each, MaxRequests: maxRequests}
	}
	return steps
}

// Mix weighs the operations of a step's requests; the zero Mix is
// DefaultMix. A Signup weight makes new users during the steps (the stage
// 06 flood); Login makes an existing user log in again (the CPU-heavy
// request: a password hash).
type Mix struct {
	Signup, Login, Post, Feed, UserPosts int
}

// DefaultMix reads mostly: 70 % feed, 10 % a user's posts, 20 % posts.
var DefaultMix = Mix{Feed: 70, UserPosts: 10, Post: 20}

func (m Mix) total() int { return m.Signup + m.Login + m.Post + m.Feed + m.UserPosts }

func (m Mix) pick(r int) Op {
	for _, w := range []struct {
		op Op
		n  int
	}{{OpSignup, m.Signup}, {OpLogin, m.Login}, {OpPost, m.Post}, {OpFeed, m.Feed}, {OpUserPosts, m.UserPosts}} {
		if r < w.n {
			return w.op
		}
		r -= w.n
	}
	return OpFeed
}

// Options configure Run.
type Options struct {
	// BaseURL is the application's address, "http://127.0.0.1:port". Required.
	BaseURL string
	// Steps to run in order. Required.
	Steps []Step
	// Users is how many users sign up before the first step (the setup,
	// measured apart); virtual users beyond it log in as one of them. 0
	// means the largest Workers of the steps, at most 64.
	Users int
	// Prefix starts every user name this run makes; "" means a random one
	// (so runs against one database never collide).
	Prefix string
	// Password of every user; "" means a fixed 16-byte one.
	Password string
	// Mix of the steps' requests; zero means DefaultMix.
	Mix Mix
	// Think is each virtual user's pause between requests; 0 none.
	Think time.Duration
	// Timeout bounds one request; 0 means 5 s.
	Timeout time.Duration
	// Interval is the timeline's resolution; 0 means 250 ms.
	Interval time.Duration
	// Transport carries the requests; nil means a loopback transport with
	// enough idle connections for the largest step.
	Transport http.RoundTripper
	// BeforeStep, if set, is called before each step (n is 1-based), after
	// the setup for the first: where a caller reads the server's own
	// signals, so that the next reading covers exactly the step.
	BeforeStep func(n int, s Step)
	// OnStep, if set, is called after each step (a progress line).
	OnStep func(StepResult)
}

// Stats summarise some requests.
type Stats struct {
	Requests   int           `json:"requests"`
	Errors     int           `json:"errors"`
	ErrorRate  float64       `json:"error_rate"` // Errors / Requests
	Throughput float64       `json:"throughput"` // requests a second (errors included)
	P50        time.Duration `json:"p50"`
	P99        time.Duration `json:"p99"`
	Max        time.Duration `json:"max"`
}

// StepResult is one step's outcome.
type StepResult struct {
	Step    int           `json:"step"` // 1-based
	Workers int           `json:"workers"`
	Start   time.Duration `json:"start"` // since the run began
	Elapsed time.Duration `json:"elapsed"`
	Stats
	ByOp map[Op]Stats `json:"by_op"`
	// Failures counts errors by kind: "HTTP 503", "transport", "timeout".
	Failures map[string]int `json:"failures,omitempty"`
}

// Sample is one Interval of the timeline.
type Sample struct {
	At       time.Duration `json:"at"` // start of the interval, since the run began
	Requests int           `json:"requests"`
	Errors   int           `json:"errors"`
	P99      time.Duration `json:"p99"`
}

// Result is a run's outcome.
type Result struct {
	Start    time.Time     `json:"start"`
	Elapsed  time.Duration `json:"elapsed"`
	Setup    Stats         `json:"setup"` // the signups before the first step
	Steps    []StepResult  `json:"steps"`
	Timeline []Sample      `json:"timeline"`
	Interval time.Duration `json:"interval"`
	// Users are the names signed up (setup and during the steps), in order.
	Users []string `json:"-"`
}

// Total sums every step.
func (r *Result) Total() Stats {
	var all []time.Duration
	var t Stats
	var elapsed time.Duration
	for _, s := range r.Steps {
		t.Requests += s.Requests
		t.Errors += s.Errors
		elapsed += s.Elapsed
		all = append(all, s.Max) // Max only; percentiles of the whole are per step
	}
	if t.Requests > 0 {
		t.ErrorRate = float64(t.Errors) / float64(t.Requests)
	}
	if elapsed > 0 {
		t.Throughput = float64(t.Requests) / elapsed.Seconds()
	}
	if len(all) > 0 {
		t.Max = slices.Max(all)
	}
	return t
}

// WriteTable prints one line per step: workers, requests, throughput,
// p50, p99, error rate and the failures seen.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\tworkers\trequests\treq/s\tp50\tp99\terrors\t")
	for _, s := range r.Steps {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\n", s.Step, s.Workers, s.Requests, s.Throughput,
			Round(s.P50), Round(s.P99), Percent(s.ErrorRate), failures(s.Failures))
	}
	return tw.Flush()
}

func failures(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "×" + strconv.Itoa(m[k])
	}
	return strings.Join(parts, " ")
}

// Round rounds a latency for printing (3 significant figures, µs at least).
func Round(d time.Duration) time.Duration {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// Percent formats a ratio as a percentage.
func Percent(f float64) string { return strconv.FormatFloat(100*f, 'f', 2, 64) + " %" }

func (o *Options) validate() error {
	u, err := url.Parse(o.BaseURL)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%w: BaseURL %q: want http://host:port", ErrInvalidOptions, o.BaseURL)
	}
	if len(o.Steps) == 0 {
		return fmt.Errorf("%w: Steps: none", ErrInvalidOptions)
	}
	for i, s := range o.Steps {
		if s.Workers < 1 || s.Workers > 10_000 || s.Duration <= 0 || s.Duration > time.Hour || s.MaxRequests < 1 || s.MaxRequests > 10_000_000 {
			return fmt.Errorf("%w: Steps[%d] %+v: want 1–10000 workers, a Duration up to 1h and 1–10M MaxRequests", ErrInvalidOptions, i, s)
		}
	}
	switch {
	case o.Users < 0 || o.Users > 100_000:
		return fmt.Errorf("%w: Users %d: want 0–100000", ErrInvalidOptions, o.Users)
	case o.Think < 0 || o.Timeout < 0 || o.Interval < 0:
		return fmt.Errorf("%w: Think %v, Timeout %v, Interval %v: must be ≥ 0", ErrInvalidOptions, o.Think, o.Timeout, o.Interval)
	case o.Mix.Signup < 0 || o.Mix.Login < 0 || o.Mix.Post < 0 || o.Mix.Feed < 0 || o.Mix.UserPosts < 0:
		return fmt.Errorf("%w: Mix %+v: weights must be ≥ 0", ErrInvalidOptions, o.Mix)
	}
	if o.Mix.total() == 0 {
		o.Mix = DefaultMix
	}
	if o.Users == 0 {
		for _, s := range o.Steps {
			o.Users = max(o.Users, s.Workers)
		}
		o.Users = min(o.Users, 64)
	}
	if o.Prefix == "" {
		o.Prefix = "u" + strconv.FormatUint(rand.Uint64()%1e8, 36)
	}
	if o.Password == "" {
		o.Password = "correct-horse-42"
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Interval == 0 {
		o.Interval = 250 * time.Millisecond
	}
	o.BaseURL = strings.TrimSuffix(o.BaseURL, "/")
	return nil
}

// Run runs the setup (Users signups) and then every step, and returns what
// it measured. It returns an error for bad options, when not one signup of
// the setup succeeds (the server is down or refuses: a clear message, never
// a hang), or when ctx ends (with the steps finished so far).
func Run(ctx context.Context, opts Options) (*Result, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	maxWorkers := 0
	for _, s := range opts.Steps {
		maxWorkers = max(maxWorkers, s.Workers)
	}
	rt := opts.Transport
	if rt == nil {
		tr := &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			MaxIdleConns:        maxWorkers + 16,
			MaxIdleConnsPerHost: maxWorkers + 16,
			IdleConnTimeout:     30 * time.Second,
		}
		defer tr.CloseIdleConnections()
		rt = tr
	}
	g := &gen{opts: opts, rt: rt, start: time.Now()}
	res := &Result{Start: g.start, Interval: opts.Interval}

	// Setup: sign the users up, 8 at a time.
	setup := newRecorder()
	g.users = make([]*vuser, opts.Users)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range g.users {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			u := g.newUser(opts.Prefix + "-" + strconv.Itoa(i))
			d, err := g.do(ctx, u, OpSignup)
			setup.add(OpSignup, d, err)
			g.users[i] = u
		})
	}
	wg.Wait()
	res.Setup = setup.stats(time.Since(g.start))
	for _, u := range g.users {
		res.Users = append(res.Users, u.name)
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if res.Setup.Errors == res.Setup.Requests {
		return res, fmt.Errorf("load: every signup of the setup failed (%s): is the server at %s up?", setup.firstErr(), opts.BaseURL)
	}

	// Virtual users beyond Users log in as one of them, with their own jar,
	// when the mix posts.
	sessions := make([]*vuser, maxWorkers)
	for i := range sessions {
		if i < len(g.users) {
			sessions[i] = g.users[i]
		} else {
			sessions[i] = g.newUser(g.users[i%len(g.users)].name)
			sessions[i].needLogin = opts.Mix.Post > 0 // only posting needs a session
		}
	}
	g.tl = newTimeline(opts.Interval)
	for i, step := range opts.Steps {
		if opts.BeforeStep != nil {
			opts.BeforeStep(i+1, step)
		}
		sr := g.runStep(ctx, i+1, step, sessions[:step.Workers])
		res.Steps = append(res.Steps, sr)
		if opts.OnStep != nil {
			opts.OnStep(sr)
		}
		if ctx.Err() != nil {
			break
		}
	}
	res.Elapsed = time.Since(g.start)
	res.Timeline = g.tl.samples()
	g.mu.Lock()
	res.Users = append(res.Users, g.newNames...)
	g.mu.Unlock()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, nil
}

type gen struct {
	opts  Options
	rt    http.RoundTripper
	start time.Time
	users []*vuser
	tl    *timeline
	seq   atomic.Int64

	mu       sync.Mutex
	newNames []string
}

type vuser struct {
	id        int64 // unique in the process
	name      string
	client    *http.Client
	needLogin bool
	rnd       *rand.Rand
	posts     int
}

var vuserSeq atomic.Int64

func (g *gen) newUser(name string) *vuser {
	jar, _ := cookiejar.New(nil) // never fails with nil options
	return &vuser{
		id:     vuserSeq.Add(1),
		name:   name,
		client: &http.Client{Transport: g.rt, Jar: jar, Timeout: g.opts.Timeout},
		rnd:    rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
}

func (g *gen) runStep(ctx context.Context, n int, step Step, users []*vuser) StepResult {
	rec := newRecorder()
	begin := time.Now()
	sctx, cancel := context.WithTimeout(ctx, step.Duration)
	defer cancel()
	var budget atomic.Int64
	budget.Store(int64(step.MaxRequests))
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() {
			for sctx.Err() == nil && budget.Add(-1) >= 0 {
				op := OpLogin
				if !u.needLogin {
					op = g.opts.Mix.pick(u.rnd.IntN(g.opts.Mix.total()))
				}
				at := time.Now()
				var (
					d   time.Duration
					err error
				)
				if op == OpSignup { // a new user, with its own jar: u stays who it is
					nu := g.newUser(g.opts.Prefix + "-n" + strconv.FormatInt(g.seq.Add(1), 10))
					if d, err = g.do(sctx, nu, op); err == nil {
						g.noteNew(nu.name)
					}
				} else {
					d, err = g.do(sctx, u, op)
				}
				if sctx.Err() != nil && err != nil {
					return // the step ended mid-request: not the server's failure
				}
				if op == OpLogin && err == nil {
					u.needLogin = false
				}
				rec.add(op, d, err)
				g.tl.add(at.Sub(g.start), d, err != nil)
				if g.opts.Think > 0 {
					select {
					case <-sctx.Done():
					case <-time.After(g.opts.Think):
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(begin)
	sr := StepResult{Step: n, Workers: step.Workers, Start: begin.Sub(g.start), Elapsed: elapsed, Stats: rec.stats(elapsed), ByOp: rec.byOp(elapsed), Failures: rec.failures()}
	return sr
}

// do sends one request of op as u and returns its latency and error (nil
// only for a 2xx answer).
func (g *gen) do(ctx context.Context, u *vuser, op Op) (time.Duration, error) {
	var (
		method = http.MethodGet
		path   string
		body   any
	)
	switch op {
	case OpSignup:
		method, path = http.MethodPost, "/api/signup"
		body = map[string]string{"name": u.name, "password": g.opts.Password}
	case OpLogin:
		method, path = http.MethodPost, "/api/login"
		body = map[string]string{"name": u.name, "password": g.opts.Password}
	case OpPost:
		method, path = http.MethodPost, "/api/posts"
		u.posts++
		// Unique per logical post, across the virtual users sharing a
		// name: a post stored twice shows as a repeated body.
		body = map[string]string{"body": "post " + strconv.Itoa(u.posts) + " by " + u.name + " #" + strconv.FormatInt(u.id, 10)}
	case OpFeed:
		path = "/api/feed?limit=20"
	case OpUserPosts:
		path = "/api/users/" + url.PathEscape(u.name) + "/posts?limit=10"
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.opts.BaseURL+path, rd)
	if err != nil {
		return 0, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method == http.MethodPost {
		// A fresh key per logical POST (a retry of it would send the same):
		// the app does the work once however often the request arrives, so
		// a balancer may resend it after a server died with it.
		req.Header.Set("Idempotency-Key", newKey())
	}
	start := time.Now()
	resp, err := u.client.Do(req)
	if err != nil {
		return time.Since(start), err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode/100 != 2 {
		return d, &StatusError{Code: resp.StatusCode}
	}
	return d, nil
}

// newKey returns a random idempotency key: 128 bits in hex.
func newKey() string {
	var b [16]byte
	_, _ = crand.Read(b[:]) // never fails (crypto/rand's contract since Go 1.24)
	return hex.EncodeToString(b[:])
}

func (g *gen) noteNew(name string) {
	g.mu.Lock()
	g.newNames = append(g.newNames, name)
	g.mu.Unlock()
}

// StatusError is a non-2xx answer.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return "load: HTTP " + strconv.Itoa(e.Code) }

// kind classifies an error for StepResult.Failures.
func kind(err error) string {
	var se *StatusError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		return "HTTP " + strconv.Itoa(se.Code)
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "transport"
}
