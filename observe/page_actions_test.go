package observe

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, h http.Handler, form url.Values, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/status", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

var tokenRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// testNonce is a well-formed viewer nonce (16 zero bytes).
const testNonce = "AAAAAAAAAAAAAAAAAAAAAA"

func TestPageActionWithoutAuthorizeIs403(t *testing.T) {
	f := newFakeService(t)
	f.step()
	p, _ := NewPage(f.reader, PageOptions{})
	ran := false
	_ = p.Handle(ActionRetryDead, "retry dead", func(context.Context, string) error { ran = true; return nil })
	if code, body := get(t, p, "/"); code != 200 || strings.Contains(body, "<button") {
		t.Fatalf("GET: %d, buttons shown: %v", code, strings.Contains(body, "<button"))
	}
	res := post(t, p, url.Values{"action": {ActionRetryDead}, "target": {"mail"}, "csrf": {p.token(testNonce, time.Now().Unix())}}, map[string]string{"Cookie": viewerCookie + "=" + testNonce})
	if res.StatusCode != http.StatusForbidden || ran {
		t.Fatalf("POST without Authorize: %d, ran %v; want 403, not run", res.StatusCode, ran)
	}
}

func TestPageActionsNeedAuthorizationCSRFAndSameOrigin(t *testing.T) {
	f := newFakeService(t)
	f.step()
	var ranOn []string
	p, _ := NewPage(f.reader, PageOptions{Logger: discardLogger(),
		Authorize: func(r *http.Request) bool { return r.Header.Get("X-Operator") == "yes" }})
	_ = p.Handle(ActionRetryDead, "Retry dead", func(_ context.Context, q string) error { ranOn = append(ranOn, q); return nil })
	_ = p.Handle(ActionDrainBackend, "Drain", func(context.Context, string) error { return errors.New("pool says no") })
	_ = p.Handle("cache.flush", "Flush caches", func(context.Context, string) error { panic("flush bug") })
	op := map[string]string{"X-Operator": "yes"}

	// Viewing needs Authorize too.
	if code, _ := get(t, p, "/"); code != http.StatusForbidden {
		t.Fatalf("unauthorised GET: %d", code)
	}
	req := httptest.NewRequest(http.MethodGet, "/status", nil)
	req.Header.Set("X-Operator", "yes")
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	body := rec.Body.String()
	m := tokenRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on the page")
	}
	tok := m[1]
	var ck string
	for _, c := range rec.Result().Cookies() {
		if c.Name == viewerCookie {
			ck = c.Name + "=" + c.Value
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				t.Errorf("viewer cookie %v: want HttpOnly and SameSite=Strict", c)
			}
		}
	}
	if ck == "" {
		t.Fatal("no viewer cookie set with the page")
	}
	// Retry shows on the queue with dead letters only; drain on every backend.
	if strings.Count(body, `name="action" value="queue.retry-dead"`) != 1 ||
		strings.Count(body, `name="action" value="lb.drain"`) != 3 || !strings.Contains(body, "Flush caches") {
		t.Errorf("buttons: retry %d, drain %d", strings.Count(body, "queue.retry-dead"), strings.Count(body, `value="lb.drain"`))
	}

	op["Cookie"] = ck
	form := url.Values{"action": {ActionRetryDead}, "target": {"mail"}, "csrf": {tok}}
	cases := []struct {
		name string
		form url.Values
		hdr  map[string]string
		code int
	}{
		{"not authorised", form, map[string]string{"X-Operator": "no", "Cookie": ck}, 403},
		{"no token", url.Values{"action": {ActionRetryDead}, "target": {"mail"}}, op, 403},
		{"wrong token", url.Values{"action": {ActionRetryDead}, "target": {"mail"}, "csrf": {tok + "x"}}, op, 403},
		{"cross-site", form, map[string]string{"X-Operator": "yes", "Cookie": ck, "Sec-Fetch-Site": "cross-site"}, 403},
		{"foreign origin", form, map[string]string{"X-Operator": "yes", "Cookie": ck, "Origin": "https://evil.example"}, 403},
		{"unknown action", url.Values{"action": {"nope"}, "csrf": {tok}}, op, 404},
	}
	for _, c := range cases {
		if res := post(t, p, c.form, c.hdr); res.StatusCode != c.code {
			t.Errorf("%s: %d, want %d", c.name, res.StatusCode, c.code)
		}
	}
	if len(ranOn) != 0 {
		t.Fatalf("refused requests ran the action on %v", ranOn)
	}

	res := post(t, p, form, map[string]string{"X-Operator": "yes", "Cookie": ck, "Sec-Fetch-Site": "same-origin"})
	if res.StatusCode != http.StatusSeeOther || len(ranOn) != 1 || ranOn[0] != "mail" {
		t.Fatalf("good POST: %d, ran on %v", res.StatusCode, ranOn)
	}
	loc, _ := url.Parse("http://example.com/status")
	loc, _ = loc.Parse(res.Header.Get("Location"))
	if loc.Path != "/status" || !strings.Contains(loc.Query().Get("msg"), "done") {
		t.Errorf("redirect to %v", loc)
	}
	for _, c := range []struct{ action, want string }{{ActionDrainBackend, "pool says no"}, {"cache.flush", "flush bug"}} {
		res := post(t, p, url.Values{"action": {c.action}, "target": {"web-1:8080"}, "csrf": {tok}}, op)
		loc, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || loc.Query().Get("failed") == "" || !strings.Contains(loc.Query().Get("msg"), c.want) {
			t.Errorf("%s: %d → %v, want the failure shown", c.action, res.StatusCode, loc)
		}
	}
	// The flash message (an action's error may hold markup) is escaped on
	// the page it lands on.
	req = httptest.NewRequest(http.MethodGet, "/status?failed=1&msg="+url.QueryEscape("<b>x</b>")+"&sig="+p.flashSig("<b>x</b>", "1"), nil)
	req.Header.Set("X-Operator", "yes")
	rec = httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), "&lt;b&gt;x&lt;/b&gt;") {
		t.Error("flash not escaped")
	}
}

func TestPageRejectsOtherMethodsAndBadOptions(t *testing.T) {
	p, _ := NewPage(nopCollector{}, PageOptions{})
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d", rec.Code)
	}
	for name, o := range map[string]PageOptions{"interval": {Interval: -1}, "history": {History: -1}} {
		if _, err := NewPage(nopCollector{}, o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := NewPage(nil, PageOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("nil collector: %v", err)
	}
	if err := p.Handle("", "x", nil); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("Handle: %v", err)
	}
}
