package edgetest

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Origin is the scripted origin server behind the cache under test. It is an
// http.Handler (give it to an in-process cache) and can listen on loopback
// (for an out-of-process proxy, whose configuration needs its address before
// any case runs). One Origin serves any number of cases at once: a request's
// path names its case.
type Origin struct {
	clock *Clock // nil → real time

	mu    sync.Mutex
	cases map[string]*caseState // by path prefix "/<nonce>/<id>"
	srv   *http.Server
	done  chan struct{}
}

// NewOrigin returns an origin reading clock (nil → the real clock).
func NewOrigin(clock *Clock) *Origin {
	return &Origin{clock: clock, cases: map[string]*caseState{}}
}

// Listen serves the origin on addr ("127.0.0.1:0" for any port) until Close,
// and returns its URL ("http://127.0.0.1:PORT").
func (o *Origin) Listen(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: o, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	o.mu.Lock()
	if o.srv != nil {
		o.mu.Unlock()
		ln.Close()
		return "", errors.New("edgetest: origin already listening")
	}
	o.srv, o.done = srv, done
	o.mu.Unlock()
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close stops a listening origin and waits for it. Idempotent.
func (o *Origin) Close() error {
	o.mu.Lock()
	srv, done := o.srv, o.done
	o.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	<-done
	return err
}

func (o *Origin) now() time.Time {
	if o.clock != nil {
		return o.clock.Now()
	}
	return time.Now()
}

func (o *Origin) wait(d time.Duration) {
	if d <= 0 {
		return
	}
	if o.clock != nil {
		o.clock.Advance(d)
		return
	}
	time.Sleep(d)
}

// record is one request the origin received.
type record struct {
	step        int
	method      string
	uri         string
	header      http.Header
	conditional bool
	done        bool // the response was written
}

type caseState struct {
	c    Case
	base string

	mu      sync.Mutex
	step    int
	records []*record
}

func (o *Origin) register(base string, c Case) *caseState {
	st := &caseState{c: c, base: base}
	o.mu.Lock()
	o.cases[base] = st
	o.mu.Unlock()
	return st
}

func (o *Origin) unregister(base string) {
	o.mu.Lock()
	delete(o.cases, base)
	o.mu.Unlock()
}

// ServeHTTP answers with the script of the case the path names.
func (o *Origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	base := casePrefix(r.URL.Path)
	o.mu.Lock()
	st := o.cases[base]
	o.mu.Unlock()
	if st == nil {
		http.Error(w, "edgetest: no case at "+r.URL.Path, http.StatusNotFound)
		return
	}
	rec := &record{
		method: r.Method,
		uri:    r.URL.RequestURI(),
		header: r.Header.Clone(),
		conditional: r.Header.Get("If-None-Match") != "" ||
			r.Header.Get("If-Modified-Since") != "",
	}
	st.mu.Lock()
	rec.step = st.step
	st.records = append(st.records, rec)
	step := st.step
	st.mu.Unlock()
	defer func() {
		st.mu.Lock()
		rec.done = true
		st.mu.Unlock()
	}()

	resp := st.c.scripted(step)
	o.wait(resp.Delay)
	now := o.now()
	h := w.Header()
	for _, f := range resp.Header {
		h.Add(f.Name, expand(f.Value, now, st.base))
	}
	if resp.NoDate {
		h["Date"] = nil
	} else if len(h.Values("Date")) == 0 {
		h.Set("Date", now.UTC().Format(http.TimeFormat))
	}
	status := resp.Status
	if status == 0 || status == http.StatusNotModified && !rec.conditional {
		// A scripted 304 answers only a conditional request; an
		// unconditional one gets a full 200 (the step then fails on its
		// Origin expectation, not on a confusing 304).
		status = http.StatusOK
	}
	body := st.c.body(step)
	noBody := status == http.StatusNoContent || status == http.StatusNotModified || status < 200
	if !noBody && len(h.Values("Content-Length")) == 0 {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)
	if !noBody && r.Method != http.MethodHead {
		_, _ = w.Write([]byte(body))
	}
}

// casePrefix returns "/<nonce>/<id>" of a case path "/<nonce>/<id>[/more]".
func casePrefix(p string) string {
	i := strings.IndexByte(p[min(1, len(p)):], '/')
	if i < 0 {
		return p
	}
	j := strings.IndexByte(p[i+2:], '/')
	if j < 0 {
		return p
	}
	return p[:i+2+j]
}

// scripted returns the response scripted for step i (0-based): the step's
// own, or the nearest earlier step's when the step's is zero.
func (c Case) scripted(i int) Response {
	i = min(i, len(c.Steps)-1)
	for j := i; j >= 0; j-- {
		if r := c.Steps[j].Response; !r.zero() {
			return r
		}
	}
	return Response{}
}

func (r Response) zero() bool {
	return r.Status == 0 && r.Header == nil && r.Body == "" && !r.NoDate && r.Delay == 0
}

// body returns the body the origin sends in step i (0-based).
func (c Case) body(i int) string {
	if b := c.scripted(i).Body; b != "" {
		return b
	}
	return "response " + strconv.Itoa(i+1) + " of " + c.ID
}

// dateLayouts are the three HTTP-date formats (RFC 9110 §5.6.7) a template
// may ask for: {{date:N}} (IMF-fixdate), {{rfc850:N}}, {{asctime:N}}.
var dateLayouts = map[string]string{
	"date":    http.TimeFormat,
	"rfc850":  "Monday, 02-Jan-06 15:04:05 GMT",
	"asctime": time.ANSIC,
}

// expand replaces {{date:N}} (and {{rfc850:N}}, {{asctime:N}}) and {{base}} in v.
func expand(v string, now time.Time, base string) string {
	for {
		i := strings.Index(v, "{{")
		if i < 0 {
			return v
		}
		j := strings.Index(v[i:], "}}")
		if j < 0 {
			return v
		}
		tmpl := v[i+2 : i+j]
		var repl string
		switch {
		case tmpl == "base":
			repl = base
		case strings.HasPrefix(tmpl, "date:") || strings.HasPrefix(tmpl, "rfc850:") || strings.HasPrefix(tmpl, "asctime:"):
			kind, num, _ := strings.Cut(tmpl, ":")
			layout, ok := dateLayouts[kind]
			n, err := strconv.Atoi(num)
			if err != nil || !ok {
				return v
			}
			repl = now.Add(time.Duration(n) * time.Second).UTC().Format(layout)
		default:
			return v
		}
		v = v[:i] + repl + v[i+j+2:]
	}
}
