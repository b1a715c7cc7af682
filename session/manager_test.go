package session_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ladder-go/ladder/session"
)

func TestNoWriteWithoutChanges(t *testing.T) {
	e := newEnv(t, session.Options{})
	resp, tok := e.do("", nop)
	if tok != "" || len(resp.Cookies()) != 0 {
		t.Fatalf("anonymous request without changes got a cookie: %v", resp.Cookies())
	}
	if e.store.writes() != 0 || e.store.loads.Load() != 0 {
		t.Fatalf("store touched by an anonymous request: %d writes, %d loads", e.store.writes(), e.store.loads.Load())
	}
	_, tok = e.do("", put(t, "cart", []string{"apple"}))
	if tok == "" {
		t.Fatal("no cookie after Put")
	}
	before := e.store.writes()
	for range 5 {
		if _, tok2 := e.do(tok, nop); tok2 != tok {
			t.Fatalf("token changed to %q", tok2)
		}
	}
	if got := e.store.writes() - before; got != 0 {
		t.Fatalf("%d store writes for requests that changed nothing", got)
	}
	cart, err := get[[]string](t, e, tok, "cart")
	if err != nil || len(cart) != 1 || cart[0] != "apple" {
		t.Fatalf("cart = %v, %v", cart, err)
	}
}

func TestCookieAttributes(t *testing.T) {
	for _, insecure := range []bool{false, true} {
		e := newEnv(t, session.Options{Insecure: insecure})
		resp, _ := e.do("", put(t, "k", 1))
		cs := resp.Cookies()
		if len(cs) != 1 {
			t.Fatalf("cookies = %v", cs)
		}
		c := cs[0]
		if !c.HttpOnly || c.Secure == insecure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.MaxAge != 0 {
			t.Errorf("insecure=%v: cookie %s", insecure, c.String())
		}
		if len(c.Value) != 43 || strings.ContainsAny(c.Value, "+/=") {
			t.Errorf("token %q: want 43 base64url characters", c.Value)
		}
		if resp.Header.Get("Vary") != "Cookie" {
			t.Errorf("Vary = %q, want Cookie", resp.Header.Get("Vary"))
		}
		if _, ok := session.KeyOf(c.Value); !ok {
			t.Errorf("KeyOf(%q) not ok", c.Value)
		}
	}
}

func TestUnknownTokenNotAdopted(t *testing.T) {
	e := newEnv(t, session.Options{})
	_, tok := e.do("", put(t, "k", 1))
	// A well-formed token the server never issued (e.g. planted by an attacker).
	planted := strings.Repeat("A", 43)
	_, got := e.do(planted, put(t, "k", 2))
	if got == planted || got == tok || got == "" {
		t.Fatalf("token after a planted cookie = %q; want a fresh one", got)
	}
	if v, err := get[int](t, e, tok, "k"); v != 1 || err != nil {
		t.Fatalf("first session k = %v, %v", v, err)
	}
}

func TestMalformedCookies(t *testing.T) {
	e := newEnv(t, session.Options{})
	_, tok := e.do("", put(t, "k", 1))
	flip := []byte(tok)
	flip[20] ^= 1 // still base64url, a different (never issued) token
	for _, c := range []string{tok[:42], tok + "A", tok[:42] + "!", strings.Repeat("x", 4096), "", string(flip),
		tok[:21] + "%" + tok[22:]} {
		_, err := get[int](t, e, c, "k")
		if !errors.Is(err, session.ErrNoValue) {
			t.Errorf("cookie %.20q…: err = %v, want a new empty session", c, err)
		}
	}
	if v, err := get[int](t, e, tok, "k"); v != 1 || err != nil {
		t.Fatalf("the real session after tampered requests: %v, %v", v, err)
	}
}

func TestEarlyWriteSetsCookie(t *testing.T) {
	cases := map[string]func(w http.ResponseWriter){
		"WriteHeader": func(w http.ResponseWriter) { w.WriteHeader(http.StatusCreated) },
		"Write":       func(w http.ResponseWriter) { _, _ = w.Write([]byte("hi")) },
		"Flusher":     func(w http.ResponseWriter) { w.(http.Flusher).Flush() },
		"ResponseController": func(w http.ResponseWriter) {
			if err := http.NewResponseController(w).Flush(); err != nil {
				panic(err)
			}
		},
	}
	for name, write := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, session.Options{})
			resp, tok := e.do("", func(w http.ResponseWriter, r *http.Request, s *session.Session) {
				put(t, "k", 7)(w, r, s)
				write(w)
				_, _ = w.Write([]byte("more"))
				if err := s.RenewID(r.Context()); !errors.Is(err, session.ErrHeadersSent) {
					t.Errorf("RenewID after headers: err = %v, want ErrHeadersSent", err)
				}
				if err := s.Destroy(r.Context()); !errors.Is(err, session.ErrHeadersSent) {
					t.Errorf("Destroy after headers: err = %v, want ErrHeadersSent", err)
				}
			})
			if tok == "" {
				t.Fatalf("no cookie (status %d)", resp.StatusCode)
			}
			if v, err := get[int](t, e, tok, "k"); v != 7 || err != nil {
				t.Fatalf("k = %v, %v", v, err)
			}
		})
	}
}

func TestPutAfterHeadersOnExistingSession(t *testing.T) {
	e := newEnv(t, session.Options{})
	_, tok := e.do("", put(t, "a", 1))
	e.do(tok, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		_, _ = w.Write([]byte("streamed"))
		put(t, "b", 2)(w, r, s)
	})
	if v, err := get[int](t, e, tok, "b"); v != 2 || err != nil {
		t.Fatalf("b = %v, %v", v, err)
	}
}

func TestGetPopRemove(t *testing.T) {
	e := newEnv(t, session.Options{})
	_, tok := e.do("", func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		put(t, "flash", "saved")(w, r, s)
		put(t, "n", 3)(w, r, s)
		put(t, "gone", true)(w, r, s)
	})
	e.do(tok, func(_ http.ResponseWriter, r *http.Request, s *session.Session) {
		if f, err := session.Pop[string](r.Context(), s, "flash"); f != "saved" || err != nil {
			t.Errorf("Pop = %q, %v", f, err)
		}
		if _, err := session.Pop[string](r.Context(), s, "flash"); !errors.Is(err, session.ErrNoValue) {
			t.Errorf("second Pop: err = %v", err)
		}
		if _, err := session.Get[string](s, "n"); err == nil {
			t.Error("Get[string] of an int decoded without error")
		}
		s.Remove("gone")
	})
	for key, want := range map[string]bool{"flash": false, "n": true, "gone": false} {
		if _, err := get[int](t, e, tok, key); (err == nil) != want {
			t.Errorf("%s present = %v, want %v", key, err == nil, want)
		}
	}
}

func TestNilSession(t *testing.T) {
	var s *session.Session
	if _, err := session.Get[int](s, "k"); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("Get: %v", err)
	}
	if err := session.Put(s, "k", 1); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("Put: %v", err)
	}
	s.Remove("k")
	if s.User() != "" || !errors.Is(s.Err(), session.ErrNoSession) {
		t.Error("nil session has a user or no error")
	}
}

func TestSizeLimit(t *testing.T) {
	e := newEnv(t, session.Options{MaxSize: 100})
	var err error
	_, tok := e.do("", func(_ http.ResponseWriter, _ *http.Request, s *session.Session) {
		if err := session.Put(s, "a", strings.Repeat("x", 40)); err != nil {
			t.Fatal(err)
		}
		err = session.Put(s, "b", strings.Repeat("x", 60))
	})
	if !errors.Is(err, session.ErrTooLarge) || !strings.Contains(err.Error(), `"b"`) {
		t.Fatalf("err = %v, want ErrTooLarge naming the key", err)
	}
	e.do(tok, func(_ http.ResponseWriter, _ *http.Request, s *session.Session) {
		if err := session.Put(s, "a", strings.Repeat("x", 80)); err != nil {
			t.Errorf("replacing a value within the limit: %v", err)
		}
	})
}

func TestConcurrentRequestsLoseNoWrite(t *testing.T) {
	e := newEnv(t, session.Options{})
	_, tok := e.do("", put(t, "base", 0))
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { e.do(tok, put(t, fmt.Sprint("k", i), i)) })
	}
	wg.Wait()
	for i := range 20 {
		if v, err := get[int](t, e, tok, fmt.Sprint("k", i)); v != i || err != nil {
			t.Errorf("k%d = %v, %v", i, v, err)
		}
	}
}

func TestOptionsValidation(t *testing.T) {
	st := newMemory(t)
	bad := []session.Options{{IdleTimeout: -1}, {Lifetime: -1}, {Grace: -1}, {TouchInterval: -1},
		{MaxSize: -1}, {StoreTimeout: -1}, {CookieName: "a b"}, {CookieName: "a;b"}, {IdleTimeout: 1, TouchInterval: 2},
		// Browsers drop prefixed cookies without Secure: every request would start anew.
		{CookieName: "__Host-session", Insecure: true}, {CookieName: "__Secure-session", Insecure: true}}
	for _, o := range bad {
		if _, err := session.New(st, o); !errors.Is(err, session.ErrInvalidOptions) {
			t.Errorf("New(%+v): err = %v, want ErrInvalidOptions", o, err)
		}
	}
	if _, err := session.New(nil, session.Options{}); !errors.Is(err, session.ErrInvalidOptions) {
		t.Errorf("New(nil store): err = %v", err)
	}
	if _, err := session.New(st, session.Options{CookieName: "__Host-session"}); err != nil {
		t.Errorf("__Host- cookie name: %v", err)
	}
}

// hexCodec is a non-JSON codec: strings stored as hex.
type hexCodec struct{}

func (hexCodec) Marshal(v any) ([]byte, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("hexCodec: %T", v)
	}
	return []byte(hex.EncodeToString([]byte(s))), nil
}

func (hexCodec) Unmarshal(b []byte, v any) error {
	d, err := hex.DecodeString(string(b))
	if err != nil {
		return err
	}
	*(v.(*string)) = string(d)
	return nil
}

func TestCustomCodec(t *testing.T) {
	e := newEnv(t, session.Options{Codec: hexCodec{}})
	_, tok := e.do("", put(t, "k", "hi"))
	if v, err := get[string](t, e, tok, "k"); v != "hi" || err != nil {
		t.Fatalf("k = %q, %v", v, err)
	}
	key, _ := session.KeyOf(tok)
	rec, err := e.store.Load(t.Context(), key)
	if err != nil || string(rec.Values["k"]) != "6869" {
		t.Fatalf("stored %q, %v; want the codec's encoding", rec.Values["k"], err)
	}
	e.do(tok, func(_ http.ResponseWriter, _ *http.Request, s *session.Session) {
		if err := session.Put(s, "n", 1); err == nil || !strings.Contains(err.Error(), `"n"`) {
			t.Errorf("codec error not reported with the key: %v", err)
		}
	})
}

func TestInvalidKeys(t *testing.T) {
	e := newEnv(t, session.Options{})
	e.do("", func(_ http.ResponseWriter, _ *http.Request, s *session.Session) {
		for _, k := range []string{"", "a\x00b", "\xff", strings.Repeat("k", 257)} {
			if err := session.Put(s, k, 1); !errors.Is(err, session.ErrInvalidKey) {
				t.Errorf("Put(%q): err = %v, want ErrInvalidKey", k, err)
			}
			if err := s.SetUser(k); !errors.Is(err, session.ErrInvalidKey) {
				t.Errorf("SetUser(%q): err = %v, want ErrInvalidKey", k, err)
			}
		}
		if err := session.Put(s, "ünïcode:key/1", 1); err != nil {
			t.Errorf("Put of a unicode key: %v", err)
		}
	})
}
