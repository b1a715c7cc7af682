package edgetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Target is the cache under test, for one case (in process) or for all
// (out of process).
type Target struct {
	// URL is the base URL of an out-of-process cache ("http://127.0.0.1:8080"):
	// requests go to URL + "/<nonce>/<case ID>" + Request.Path, and the cache
	// must forward them to Origin (listening: see Origin.Listen) unchanged.
	URL string
	// Handler is an in-process cache in front of Origin, served on a loopback
	// listener for the case. Used when URL is "".
	Handler http.Handler
	// Origin is the scripted origin behind the cache.
	Origin *Origin
	// Clock is the fake clock shared by the cache and Origin; Pause advances
	// it. nil → the real clock: the runner sleeps.
	Clock *Clock
	// CacheStatus is the name of the cache's member in Cache-Status
	// (RFC 9211), e.g. "ladder"; "" → Expect.CacheStatus is not checked.
	CacheStatus string
}

// Cases returns every case of the suite, in a stable order.
func Cases() []Case {
	var all []Case
	for _, f := range []func() []Case{cases9111, cases5861, cases8246, cases9211, cases9213} {
		all = append(all, f()...)
	}
	return all
}

// CasesFor returns the cases of one RFC ("9111", "5861", …).
func CasesFor(rfc string) []Case {
	var out []Case
	for _, c := range Cases() {
		if c.RFC == rfc {
			out = append(out, c)
		}
	}
	return out
}

// Validate reports malformed cases: a missing or duplicated ID, an unknown RFC
// or Level, no Section or no Steps, an ID that is not a path segment.
func Validate(cases []Case) error {
	var errs []error
	seen := map[string]bool{}
	for _, c := range cases {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("edgetest: case %q: %s", c.ID, fmt.Sprintf(format, args...)))
		}
		switch {
		case c.ID == "" || strings.ContainsAny(c.ID, "/?#% ") || c.ID != strings.ToLower(c.ID):
			bad("ID must be a lower-case path segment")
		case seen[c.ID]:
			bad("duplicate ID")
		}
		seen[c.ID] = true
		if !slices.Contains([]string{"9111", "5861", "8246", "9211", "9213"}, c.RFC) {
			bad("unknown RFC %q", c.RFC)
		}
		if !slices.Contains([]string{"MUST", "SHOULD", "MAY"}, c.Level) {
			bad("unknown Level %q", c.Level)
		}
		if c.Section == "" || c.Name == "" || len(c.Steps) == 0 {
			bad("needs a Section, a Name and Steps")
		}
		for i, s := range c.Steps {
			for _, n := range []int{s.Expect.BodyOf, s.Expect.NotBodyOf} {
				if n < 0 || n > i+1 {
					bad("step %d: BodyOf/NotBodyOf %d is not this or an earlier step", i+1, n)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Run runs cases against caches built by newTarget (called once per case, in
// the case's subtest), in parallel, as subtests "RFC<rfc>/<section>/<id>".
func Run(t *testing.T, cases []Case, newTarget func(t *testing.T) Target) {
	t.Helper()
	if err := Validate(cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run("RFC"+c.RFC+"/"+c.Section+"/"+c.ID, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			if err := Check(ctx, c, tg); err != nil {
				t.Errorf("%s %s (%s): %v", c.Level, c.Name, c.ID, err)
			}
		})
	}
}

// Check runs one case against tg and returns nil if the cache passed, or an
// error naming the first step that failed and why.
func Check(ctx context.Context, c Case, tg Target) error {
	if tg.Origin == nil {
		return errors.New("edgetest: Target.Origin is nil")
	}
	base := "/" + nonce() + "/" + c.ID
	st := tg.Origin.register(base, c)
	defer tg.Origin.unregister(base)

	url := strings.TrimSuffix(tg.URL, "/")
	if url == "" {
		if tg.Handler == nil {
			return errors.New("edgetest: Target has neither URL nor Handler")
		}
		srv := httptest.NewServer(tg.Handler)
		defer srv.Close()
		url = srv.URL
	}
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for i, s := range c.Steps {
		if err := pause(ctx, tg.Clock, s.Pause); err != nil {
			return err
		}
		st.mu.Lock()
		st.step = i
		st.mu.Unlock()
		if err := runStep(ctx, client, url, base, c, i, tg, st); err != nil {
			method := s.Request.Method
			if method == "" {
				method = http.MethodGet
			}
			return fmt.Errorf("step %d (%s %s): %w", i+1, method, "{base}"+s.Request.Path, err)
		}
	}
	return nil
}

func runStep(ctx context.Context, client *http.Client, url, base string, c Case, i int, tg Target, st *caseState) error {
	s := c.Steps[i]
	now := time.Now
	if tg.Clock != nil {
		now = tg.Clock.Now
	}
	method := s.Request.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if s.Request.Body != "" {
		body = strings.NewReader(s.Request.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url+base+s.Request.Path, body)
	if err != nil {
		return err
	}
	for _, f := range s.Request.Header {
		req.Header.Add(f.Name, expand(f.Value, now(), base))
	}
	if v := req.Header.Values("Host"); len(v) > 0 {
		req.Host = v[0]
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil && !s.Expect.AllowCut {
		return fmt.Errorf("reading body: %w", err)
	}

	st.mu.Lock()
	var recs []record
	for _, r := range st.records {
		if r.step == i {
			recs = append(recs, *r)
		}
	}
	st.mu.Unlock()

	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	e := s.Expect
	if e.Status != 0 && resp.StatusCode != e.Status {
		fail("status %d, want %d", resp.StatusCode, e.Status)
	}
	if err := checkContact(e.Origin, recs); err != nil {
		errs = append(errs, err)
	}
	switch {
	case e.Body != "" && string(got) != e.Body:
		fail("body %q, want %q", clip(got), e.Body)
	case e.BodyOf > 0 && string(got) != c.body(e.BodyOf-1):
		fail("body %q, want %q (the origin's in step %d)", clip(got), c.body(e.BodyOf-1), e.BodyOf)
	case e.EmptyBody && len(got) != 0:
		fail("body %q, want none", clip(got))
	case e.NotBodyOf > 0 && string(got) == c.body(e.NotBodyOf-1):
		fail("body %q is the origin's from step %d", clip(got), e.NotBodyOf)
	}
	for _, ck := range e.Header {
		if err := ck.check(resp.Header, now(), base); err != nil {
			errs = append(errs, err)
		}
	}
	if len(e.OriginHeader) > 0 {
		if len(recs) == 0 {
			fail("origin: no request reached it, want one with %v", e.OriginHeader)
		} else {
			last := recs[len(recs)-1]
			for _, ck := range e.OriginHeader {
				if err := ck.check(last.header, now(), base); err != nil {
					errs = append(errs, fmt.Errorf("origin request: %w", err))
				}
			}
		}
	}
	if tg.CacheStatus != "" && len(e.CacheStatus) > 0 {
		if err := checkCacheStatus(resp.Header.Values("Cache-Status"), tg.CacheStatus, e.CacheStatus); err != nil {
			errs = append(errs, err)
		}
	}
	if e.Background {
		if err := waitBackground(ctx, st, i); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func checkContact(want Contact, recs []record) error {
	full, cond := 0, 0
	for _, r := range recs {
		if r.conditional {
			cond++
		} else {
			full++
		}
	}
	ok := true
	switch want {
	case None:
		ok = full+cond == 0
	case Full:
		ok = full > 0
	case Conditional:
		ok = cond > 0
	case Forwarded:
		ok = full+cond > 0
	}
	if ok {
		return nil
	}
	return fmt.Errorf("origin contact: %d full and %d conditional requests, want %v", full, cond, want)
}

// waitBackground waits (real time, bounded) until a request of step i has
// reached the origin and every one of them was answered (the background
// request may come before or after the client's response), then lets the
// cache store the answer.
func waitBackground(ctx context.Context, st *caseState, i int) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		st.mu.Lock()
		n, done := 0, true
		for _, r := range st.records {
			if r.step == i {
				n++
				done = done && r.done
			}
		}
		st.mu.Unlock()
		if n > 0 && done {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("no background request reached the origin within 5s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	select { // let the cache store what it received
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(100 * time.Millisecond):
	}
	return nil
}

func pause(ctx context.Context, clock *Clock, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	if clock != nil {
		clock.Advance(d)
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (ck FieldCheck) check(h http.Header, now time.Time, base string) error {
	vals := h.Values(ck.Name)
	v := strings.Join(vals, ", ")
	want := expand(ck.Value, now, base)
	ok := true
	switch ck.Op {
	case Present:
		ok = len(vals) > 0
	case Absent:
		ok = len(vals) == 0
	case Equal:
		ok = len(vals) > 0 && v == want
	case Contains:
		ok = strings.Contains(strings.ToLower(v), strings.ToLower(want))
	case Lacks:
		ok = !strings.Contains(strings.ToLower(v), strings.ToLower(want))
	case AtLeast, AtMost:
		w, err := strconv.ParseInt(want, 10, 64)
		if err != nil {
			return fmt.Errorf("check %v: bad value", ck)
		}
		var g int64
		if len(vals) > 0 {
			g, err = strconv.ParseInt(strings.TrimSpace(vals[0]), 10, 64)
			if err != nil || len(vals) > 1 {
				return fmt.Errorf("%v: got %q, not one integer", ck, v)
			}
		} else if ck.Op == AtLeast {
			return fmt.Errorf("%v: absent", ck)
		}
		ok = ck.Op == AtLeast && g >= w || ck.Op == AtMost && g <= w
	}
	if ok {
		return nil
	}
	if len(vals) == 0 {
		return fmt.Errorf("want %v: absent", ck)
	}
	return fmt.Errorf("want %v: got %q", ck, v)
}

// checkCacheStatus checks the member named name in the Cache-Status field
// lines vals (RFC 9211 §2: a List of Items with parameters) against want.
func checkCacheStatus(vals []string, name string, want []string) error {
	params, ok := cacheStatusMember(vals, name)
	if slices.Equal(want, []string{"none"}) {
		if ok {
			return fmt.Errorf("Cache-Status %q: want no member %q", strings.Join(vals, ", "), name)
		}
		return nil
	}
	if !ok {
		return fmt.Errorf("Cache-Status %q: no member %q", strings.Join(vals, ", "), name)
	}
	for _, w := range want {
		neg := strings.HasPrefix(w, "!")
		w = strings.TrimPrefix(w, "!")
		k, v, hasV := strings.Cut(w, "=")
		got, has := params[k]
		match := has && (!hasV || got == v)
		if match == neg {
			return fmt.Errorf("Cache-Status %q: want %s%s", strings.Join(vals, ", "), map[bool]string{true: "no "}[neg], w)
		}
	}
	return nil
}

// cacheStatusMember returns the parameters of the last member named name.
// Values are unquoted; a bare parameter (a Boolean true) has value "".
func cacheStatusMember(vals []string, name string) (map[string]string, bool) {
	var found map[string]string
	for _, line := range vals {
		for _, m := range splitOutsideQuotes(line, ',') {
			parts := splitOutsideQuotes(m, ';')
			if strings.Trim(strings.TrimSpace(parts[0]), `"`) != name {
				continue
			}
			found = map[string]string{}
			for _, p := range parts[1:] {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				found[strings.ToLower(k)] = strings.Trim(v, `"`)
			}
		}
	}
	return found, found != nil
}

func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case sep:
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func clip(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

func nonce() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
