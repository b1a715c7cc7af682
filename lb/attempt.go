package lb

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
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
	tried := st.tried[:0]
	orig := req.URL // try may retarget req in place
	i := st.pinned
	if i < 0 {
		i = st.snap.choose(st.key, st.keyed)
	}
	for n := 1; ; n++ {
		if i < 0 {
			return nil, ErrNoBackend
		}
		e := st.snap.all[i]
		done := st.snap.begin(e)
		resp, o, cancel := a.try(req, orig, st.snap.vals[i], ro.PerTryTimeout)
		next := -1
		if (o.Err != nil || ro.RetryStatus(o.Status)) && retry && n < ro.Attempts && req.Context().Err() == nil {
			// Retry only on a backend not tried yet, and only within budget.
			tried = append(tried, i)
			if j := st.snap.chooseExcept(st.key, st.keyed, tried); j >= 0 && !slices.Contains(tried, j) && a.budget.withdraw() {
				next = j
			}
		}
		if next >= 0 {
			if resp != nil {
				io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
				resp.Body.Close()
			}
			cancel()
			done(o)
			if a.pool != nil {
				e.met.retried(a.pool.met)
			}
			i = next
			continue
		}
		if o.Err != nil {
			cancel()
			done(o)
			return nil, o.Err
		}
		st.served = i
		resp.Body = wrapBody(resp.Body, func(err error) {
			cancel()
			if err != nil && err != io.EOF && o.Err == nil {
				o.Err = err
			}
			done(o)
		})
		return resp, nil
	}
}

// try sends one attempt to target; cancel releases its context once the
// response body is done.
func (a *attempts) try(req *http.Request, orig, target *url.URL, perTry time.Duration) (*http.Response, Outcome, func()) {
	ctx, cancel := req.Context(), func() {}
	var timer *time.Timer
	if perTry > 0 {
		ctx, cancel = context.WithCancel(ctx)
		timer = time.AfterFunc(perTry, cancel)
	}
	out := req
	if !a.owned || ctx != req.Context() {
		out = req.WithContext(ctx)
	}
	start := time.Now()
	var resp *http.Response
	var err error
	if target == nil || target.Host == "" {
		err = fmt.Errorf("lb: backend URL %v: no host", target)
	} else {
		out.URL = retarget(orig, target)
		resp, err = a.base.RoundTrip(out)
	}
	o := Outcome{Err: err, Latency: time.Since(start)}
	if timer != nil && !timer.Stop() && req.Context().Err() == nil {
		if resp != nil {
			resp.Body.Close()
			resp = nil
		}
		o.Err = fmt.Errorf("%w after %v", ErrTryTimeout, perTry)
	}
	if resp != nil {
		o.Status = resp.StatusCode
	} else if o.Err == nil {
		o.Err = fmt.Errorf("lb: nil response from transport")
	}
	return resp, o, cancel
}

// retarget points u at target, joining their paths and queries.
func retarget(u, target *url.URL) *url.URL {
	v := *u
	v.Scheme, v.Host = target.Scheme, target.Host
	if target.Path != "" {
		// Join the escaped forms, so that an encoded slash (%2F) stays one,
		// and resolve the request's dot segments first, so that /../x (or
		// /%2e%2e/x) cannot climb out of the backend's prefix.
		raw := strings.TrimSuffix(target.EscapedPath(), "/") + "/" + strings.TrimPrefix(removeDotSegments(u.EscapedPath()), "/")
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
	return &v
}

// removeDotSegments resolves the "." and ".." segments of an escaped path
// (RFC 3986, section 5.2.4), counting their percent-encoded forms, without
// ever climbing above the root. Other segments are kept as they are.
func removeDotSegments(p string) string {
	if !strings.Contains(p, ".") && !strings.Contains(p, "%2") {
		return p
	}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	trailing := false
	for i, seg := range segs {
		if i == 0 && seg == "" {
			continue // the leading slash
		}
		trailing = false
		switch dots := strings.ReplaceAll(strings.ReplaceAll(seg, "%2e", "."), "%2E", "."); dots {
		case ".":
			trailing = true
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			trailing = true
		default:
			out = append(out, seg)
		}
	}
	r := "/" + strings.Join(out, "/")
	if trailing && len(out) > 0 {
		r += "/"
	}
	return r
}

// wrapBody calls finish once when the body is closed or fully read,
// keeping the Write method of upgraded (101) connections.
func wrapBody(b io.ReadCloser, finish func(error)) io.ReadCloser {
	d := &doneBody{ReadCloser: b, finish: finish}
	if rw, ok := b.(io.ReadWriteCloser); ok {
		return &doneRWBody{doneBody: d, w: rw}
	}
	return d
}

type doneBody struct {
	io.ReadCloser
	once   sync.Once
	finish func(error)
}

func (d *doneBody) Read(p []byte) (int, error) {
	n, err := d.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		d.once.Do(func() { d.finish(err) })
	}
	return n, err
}

func (d *doneBody) Close() error {
	err := d.ReadCloser.Close()
	d.once.Do(func() { d.finish(nil) })
	return err
}

type doneRWBody struct {
	*doneBody
	w io.Writer
}

func (d *doneRWBody) Write(p []byte) (int, error) { return d.w.Write(p) }
