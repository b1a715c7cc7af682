package session_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/session"
)

// FuzzCookie sends arbitrary Cookie headers: the handler always runs with an empty,
// anonymous session; nothing panics and nothing is adopted.
func FuzzCookie(f *testing.F) {
	st, err := session.NewMemoryStore(session.MemoryOptions{})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	m, err := session.New(st, session.Options{})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"session=" + strings.Repeat("A", 43), "session=", "session=%00", "session=a;session=b",
		"session=" + strings.Repeat("x", 5000), "session=\"" + strings.Repeat("A", 43) + "\"", ";;;=", "session=AAAA=="} {
		f.Add(s)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		if s.Err() != nil || s.User() != "" {
			panic("anonymous session expected")
		}
		if _, err := session.Get[string](s, "k"); err == nil {
			panic("value from a fuzzed cookie")
		}
		if err := session.Put(s, "k", "v"); err != nil {
			panic(err)
		}
	}))
	f.Fuzz(func(t *testing.T, cookie string) {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		for _, c := range rec.Result().Cookies() {
			if strings.Contains(cookie, c.Value) {
				t.Fatalf("cookie value %q adopted", c.Value)
			}
		}
	})
}
