package observe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// viewPage loads the page as a new viewer (no cookie) and returns its
// viewer cookie and the CSRF token of its forms.
func viewPage(t *testing.T, p *Page) (cookie, token string) {
	t.Helper()
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	m := tokenRE.FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatal("no CSRF token on the page")
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == viewerCookie {
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				t.Errorf("viewer cookie %+v: want HttpOnly, SameSite=Strict", c)
			}
			return c.Name + "=" + c.Value, m[1]
		}
	}
	t.Fatal("the page set no viewer cookie")
	return "", ""
}

// The CSRF token is per viewer: one viewer's token does not work with
// another's cookie, a POST without the cookie or token is refused, and so
// is a token older than tokenMaxAge or from an earlier page (a restart).
func TestPageCSRFTokenIsPerViewer(t *testing.T) {
	f := newFakeService(t)
	f.step()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	newP := func() (*Page, *int) {
		ran := new(int)
		p, err := NewPage(f.reader, PageOptions{Logger: discardLogger(), Now: clock, Authorize: func(*http.Request) bool { return true }})
		if err != nil {
			t.Fatal(err)
		}
		_ = p.Handle(ActionRetryDead, "Retry dead", func(context.Context, string) error { *ran++; return nil })
		return p, ran
	}
	p, ran := newP()
	ckA, tokA := viewPage(t, p)
	ckB, tokB := viewPage(t, p)
	if ckA == ckB || tokA == tokB {
		t.Fatalf("two viewers got the same cookie (%v) or token (%v)", ckA == ckB, tokA == tokB)
	}
	act := func(tok, cookie string) int {
		form := url.Values{"action": {ActionRetryDead}, "target": {"mail"}}
		if tok != "" {
			form.Set("csrf", tok)
		}
		hdr := map[string]string{}
		if cookie != "" {
			hdr["Cookie"] = cookie
		}
		return post(t, p, form, hdr).StatusCode
	}
	for _, c := range []struct {
		name, tok, cookie string
	}{
		{"A's token with B's cookie", tokA, ckB},
		{"B's token with A's cookie", tokB, ckA},
		{"A's token without a cookie", tokA, ""},
		{"A's cookie without a token", "", ckA},
		{"a token for a forged cookie", p.token(testNonce, now.Unix()), viewerCookie + "=" + "BBBBBBBBBBBBBBBBBBBBBB"},
	} {
		if code := act(c.tok, c.cookie); code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", c.name, code)
		}
	}
	if *ran != 0 {
		t.Fatalf("refused POSTs ran the action %d times", *ran)
	}
	if code := act(tokA, ckA); code != http.StatusSeeOther || *ran != 1 {
		t.Fatalf("A's own token: %d, ran %d; want 303 and run", code, *ran)
	}
	if code := act(tokB, ckB); code != http.StatusSeeOther || *ran != 2 {
		t.Fatalf("B's own token: %d, ran %d; want 303 and run", code, *ran)
	}

	// An old token: issued more than tokenMaxAge ago.
	now = now.Add(tokenMaxAge + time.Minute)
	if code := act(tokA, ckA); code != http.StatusForbidden || *ran != 2 {
		t.Errorf("token older than %v: %d, want 403", tokenMaxAge, code)
	}
	// Reloading the page gives A a fresh token for the same cookie.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", ckA)
	p.ServeHTTP(rec, req)
	if len(rec.Result().Cookies()) != 0 {
		t.Error("a viewer with a cookie got a new one")
	}
	fresh := tokenRE.FindStringSubmatch(rec.Body.String())[1]
	if code := act(fresh, ckA); code != http.StatusSeeOther {
		t.Errorf("reloaded token: %d, want 303", code)
	}
	// A token from an earlier page (the process restarted): refused.
	p2, ran2 := newP()
	form := url.Values{"action": {ActionRetryDead}, "target": {"mail"}, "csrf": {fresh}}
	if code := post(t, p2, form, map[string]string{"Cookie": ckA}).StatusCode; code != http.StatusForbidden || *ran2 != 0 {
		t.Errorf("token of another page instance: %d, want 403", code)
	}
}
