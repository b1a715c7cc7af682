package observe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// A browser may hold two viewer cookies, and send first one the page never
// issued (set by a sibling app on the parent domain or at a longer path,
// or left by an older version): the page then binds its token to the first
// well-formed one, and its action accepts the same, so the operator is not
// locked out of every action (403 after each reload).
func TestPageCSRFWithAForeignViewerCookieFirst(t *testing.T) {
	f := newFakeService(t)
	f.step()
	p, err := NewPage(f.reader, PageOptions{Logger: discardLogger(), Authorize: func(*http.Request) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	_ = p.Handle(ActionRetryDead, "Retry dead", func(context.Context, string) error { ran++; return nil })
	foreign := viewerCookie + "=not-a-nonce"

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", foreign)
	p.ServeHTTP(rec, req)
	var issued string
	for _, c := range rec.Result().Cookies() {
		if c.Name == viewerCookie {
			issued = c.Name + "=" + c.Value
		}
	}
	m := tokenRE.FindStringSubmatch(rec.Body.String())
	if issued == "" || m == nil {
		t.Fatalf("page with a malformed viewer cookie: cookie %q, token found %v", issued, m != nil)
	}
	// The browser now sends both, the foreign one first.
	both := foreign + "; " + issued
	form := url.Values{"action": {ActionRetryDead}, "target": {"mail"}, "csrf": {m[1]}}
	if code := post(t, p, form, map[string]string{"Cookie": both}).StatusCode; code != http.StatusSeeOther || ran != 1 {
		t.Fatalf("POST with the page's own token and both cookies: %d, ran %d; want 303 and run", code, ran)
	}
	// Reloading with both keeps the issued cookie: no new one, and a token that works.
	rec = httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", both)
	p.ServeHTTP(rec, req)
	if n := len(rec.Result().Cookies()); n != 0 {
		t.Errorf("reload with both cookies set %d new cookies, want none", n)
	}
	form.Set("csrf", tokenRE.FindStringSubmatch(rec.Body.String())[1])
	if code := post(t, p, form, map[string]string{"Cookie": both}).StatusCode; code != http.StatusSeeOther || ran != 2 {
		t.Errorf("POST after reload: %d, ran %d; want 303 and run", code, ran)
	}
}
