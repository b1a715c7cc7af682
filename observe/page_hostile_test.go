package observe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func hostilePage(t *testing.T) *Page {
	t.Helper()
	f := newFakeService(t)
	f.step()
	p, err := NewPage(f.reader, PageOptions{Logger: discardLogger(), Authorize: func(*http.Request) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Handle(ActionRetryDead, "Retry dead", func(context.Context, string) error { return nil })
	return p
}

// Mounted under a prefix (http.StripPrefix, the usual way on an operators'
// mux), an action must come back to the page, not to the stripped path.
func TestPageActionRedirectsBackUnderAPrefix(t *testing.T) {
	p := hostilePage(t)
	mux := http.NewServeMux()
	mux.Handle("/ops/status/", http.StripPrefix("/ops/status", p))
	form := url.Values{"action": {ActionRetryDead}, "target": {"mail"}, "csrf": {p.token(testNonce, time.Now().Unix())}}
	req := httptest.NewRequest(http.MethodPost, "/ops/status/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", viewerCookie+"="+testNonce)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("POST: %d %s", rec.Code, rec.Body)
	}
	loc, err := req.URL.Parse(rec.Header().Get("Location"))
	if err != nil || loc.Path != "/ops/status/" {
		t.Fatalf("redirected to %q (%v), want back to /ops/status/", rec.Header().Get("Location"), err)
	}
}

// The flash line is the page's own voice: a link someone sends an operator
// must not make the page say what the sender wants.
func TestPageIgnoresAForgedFlashMessage(t *testing.T) {
	p := hostilePage(t)
	_, body := get(t, p, "/?msg="+url.QueryEscape("Session expired: sign in again at evil.example"))
	if strings.Contains(body, "evil.example") {
		t.Fatal("the page shows a message taken from the link")
	}
	// Its own message, after an action, still shows.
	form := url.Values{"action": {ActionRetryDead}, "target": {"mail"}, "csrf": {p.token(testNonce, time.Now().Unix())}}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", viewerCookie+"="+testNonce)
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	loc, _ := req.URL.Parse(rec.Header().Get("Location"))
	if _, body := get(t, p, loc.RequestURI()); !strings.Contains(body, "Retry dead mail: done") {
		t.Fatalf("after the action, the page does not say it was done")
	}
}
