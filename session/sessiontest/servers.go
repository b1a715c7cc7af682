package sessiontest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"github.com/ladder-go/ladder/session"
)

// RunServers runs web servers on loopback that share one store backend and checks what a
// stateless web tier promises: a user served alternately by two servers loses no state;
// a server restarted mid-traffic loses no session; concurrent requests lose no write; a
// request overlapping a logout cannot bring the session back; a late response never
// deletes or replaces a newer login's cookie, and a request that carried the pre-login
// cookie is refused (409) rather than acknowledged and lost. open must return a new
// Store (a new client or connection pool) over the same backend on every call.
func RunServers(t *testing.T, open func(t *testing.T) session.Store) {
	t.Run("Alternate", func(t *testing.T) { testAlternate(t, open) })
	t.Run("RestartMidTraffic", func(t *testing.T) { testRestart(t, open) })
	t.Run("ConcurrentAcrossServers", func(t *testing.T) { testConcurrentServers(t, open) })
	t.Run("LogoutRace", func(t *testing.T) { testLogoutRace(t, open) })
	t.Run("LogoutEverywhere", func(t *testing.T) { testLogoutEverywhere(t, open) })
	t.Run("LateWriteKeepsNewLogin", func(t *testing.T) { testLateKeepsNewLogin(t, open, true) })
	t.Run("LateReadKeepsNewLogin", func(t *testing.T) { testLateKeepsNewLogin(t, open, false) })
	t.Run("PreLoginCookie", func(t *testing.T) { testPreLoginCookie(t, open) })
	t.Run("ParallelLogin", func(t *testing.T) { testParallelLogin(t, open) })
}

// Server is one web server of the tier: a Manager over its own Store, serving
//
//	/put?k=&v=   Put k=v        /get?k=   Get k (404 if absent, 503 on ErrStore)
//	/login?u=    RenewID+SetUser /logout  Destroy
//	/slow?k=&v=  wait for Release, then Put
//	/slowget?k=  wait for Release, then Get
//	/logout-all  Manager.DestroyAll(the session's user)
//	/user        the session's user
type Server struct {
	*httptest.Server
	Manager *session.Manager
	mu      sync.Mutex
	slow    map[string]chan struct{}
	loaded  map[string]chan struct{}
}

// NewServer starts a Server over store, closed at the end of the test.
func NewServer(t *testing.T, store session.Store) *Server {
	t.Helper()
	return newServer(t, store, session.Options{})
}

// newServer starts a Server with opts (Insecure and a silent Logger are added).
func newServer(t *testing.T, store session.Store, opts session.Options) *Server {
	t.Helper()
	opts.Insecure, opts.Logger = true, slog.New(slog.DiscardHandler)
	m, err := session.New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Manager: m, slow: map[string]chan struct{}{}, loaded: map[string]chan struct{}{}}
	s.Server = httptest.NewServer(m.Handler(http.HandlerFunc(s.serve)))
	t.Cleanup(s.Close)
	return s
}

func (s *Server) gate(k string) (loaded, release chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slow[k] == nil {
		s.slow[k], s.loaded[k] = make(chan struct{}), make(chan struct{})
	}
	return s.loaded[k], s.slow[k]
}

// Loaded returns a channel closed once /slow?k= has loaded its session.
func (s *Server) Loaded(k string) <-chan struct{} { l, _ := s.gate(k); return l }

// Release lets /slow?k= continue.
func (s *Server) Release(k string) { _, r := s.gate(k); close(r) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	sess := session.From(r.Context())
	q := r.URL.Query()
	var err error
	switch r.URL.Path {
	case "/put":
		err = session.Put(sess, q.Get("k"), q.Get("v"))
	case "/get":
		var v string
		if v, err = session.Get[string](sess, q.Get("k")); err == nil {
			_, _ = io.WriteString(w, v)
		}
	case "/login":
		if err = sess.RenewID(r.Context()); err == nil {
			err = sess.SetUser(q.Get("u"))
		}
	case "/logout":
		err = sess.Destroy(r.Context())
	case "/logout-all":
		var n int
		if n, err = s.Manager.DestroyAll(r.Context(), sess.User()); err == nil {
			fmt.Fprint(w, n)
		}
	case "/user":
		if err = sess.Err(); err == nil {
			_, _ = io.WriteString(w, sess.User())
		}
	case "/slow", "/slowget":
		loaded, release := s.gate(q.Get("k"))
		close(loaded)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		if r.URL.Path == "/slowget" {
			_, err = session.Get[string](sess, q.Get("k"))
			break
		}
		err = session.Put(sess, q.Get("k"), q.Get("v"))
	}
	switch {
	case errors.Is(err, session.ErrRenewed):
		http.Error(w, "the session was renewed meanwhile: retry", http.StatusConflict)
	case errors.Is(err, session.ErrStore):
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	case errors.Is(err, session.ErrNoValue):
		http.Error(w, "no value", http.StatusNotFound)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// Client is one browser: it keeps the session cookie whichever server answers.
type Client struct {
	mu     sync.Mutex
	cookie string
}

// Do sends GET base+path and returns status and body, keeping the cookie up to date.
func (c *Client) Do(ctx context.Context, base, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+path, nil)
	if err != nil {
		return 0, "", err
	}
	c.mu.Lock()
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: c.cookie})
	}
	c.mu.Unlock()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	for _, ck := range resp.Cookies() {
		if ck.Name == session.DefaultCookieName {
			c.mu.Lock()
			c.cookie = ck.Value
			if ck.MaxAge < 0 {
				c.cookie = ""
			}
			c.mu.Unlock()
		}
	}
	return resp.StatusCode, string(body), err
}

// Cookie returns the client's current token.
func (c *Client) Cookie() string { c.mu.Lock(); defer c.mu.Unlock(); return c.cookie }

// SetCookie replaces the client's token (to replay an old one).
func (c *Client) SetCookie(v string) { c.mu.Lock(); defer c.mu.Unlock(); c.cookie = v }

func must(t *testing.T, c *Client, base, path string, wantStatus int, wantBody string) {
	t.Helper()
	status, body, err := c.Do(t.Context(), base, path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if status != wantStatus || wantStatus == http.StatusOK && body != wantBody {
		t.Fatalf("GET %s = %d %q; want %d %q", path, status, body, wantStatus, wantBody)
	}
}

func put(k, v string) string { return "/put?k=" + url.QueryEscape(k) + "&v=" + url.QueryEscape(v) }
func get(k string) string    { return "/get?k=" + url.QueryEscape(k) }

func testAlternate(t *testing.T, open func(*testing.T) session.Store) {
	a, b := NewServer(t, open(t)), NewServer(t, open(t))
	servers := []*Server{a, b}
	c := &Client{}
	for i := range 20 {
		srv := servers[i%2]
		must(t, c, srv.URL, put("k"+strconv.Itoa(i), strconv.Itoa(i)), http.StatusOK, "")
		if i == 10 {
			must(t, c, srv.URL, "/login?u="+Key()[:8], http.StatusOK, "")
		}
	}
	for i := range 20 {
		must(t, c, servers[(i+1)%2].URL, get("k"+strconv.Itoa(i)), http.StatusOK, strconv.Itoa(i))
	}
}

func testRestart(t *testing.T, open func(*testing.T) session.Store) {
	a, b := NewServer(t, open(t)), NewServer(t, open(t))
	c := &Client{}
	must(t, c, a.URL, put("before", "1"), http.StatusOK, "")
	a.Close() // server 1 goes away mid-traffic (a deploy, a crash)
	must(t, c, b.URL, put("during", "2"), http.StatusOK, "")
	a2 := NewServer(t, open(t)) // restarted with a fresh store client and no memory
	must(t, c, a2.URL, get("before"), http.StatusOK, "1")
	must(t, c, a2.URL, get("during"), http.StatusOK, "2")
}

func testConcurrentServers(t *testing.T, open func(*testing.T) session.Store) {
	servers := []*Server{NewServer(t, open(t)), NewServer(t, open(t))}
	c := &Client{}
	must(t, c, servers[0].URL, put("base", "0"), http.StatusOK, "")
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			status, body, err := c.Do(t.Context(), servers[i%2].URL, put(fmt.Sprint("k", i), fmt.Sprint(i)))
			if err != nil || status != http.StatusOK {
				t.Errorf("put %d: %d %q %v", i, status, body, err)
			}
		})
	}
	wg.Wait()
	for i := range 40 {
		must(t, c, servers[(i+1)%2].URL, get(fmt.Sprint("k", i)), http.StatusOK, fmt.Sprint(i))
	}
}

func testLogoutRace(t *testing.T, open func(*testing.T) session.Store) {
	a, b := NewServer(t, open(t)), NewServer(t, open(t))
	c := &Client{}
	must(t, c, a.URL, "/login?u="+Key()[:8], http.StatusOK, "")
	must(t, c, a.URL, put("cart", "3"), http.StatusOK, "")
	token := c.Cookie()
	slow := &Client{cookie: token} // a second tab, still in flight at logout
	done := make(chan error, 1)
	go func() {
		status, _, err := slow.Do(t.Context(), a.URL, "/slow?k=late&v=1")
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("status %d", status)
		}
		done <- err
	}()
	<-a.Loaded("late")
	must(t, c, b.URL, "/logout", http.StatusOK, "")
	a.Release("late")
	if err := <-done; err != nil {
		t.Fatalf("slow request: %v", err)
	}
	if ck := slow.Cookie(); ck != token {
		// The logout's response deleted the browser's cookie; a response that did not
		// log out itself must not touch it (it could delete a newer login's).
		t.Errorf("the slow request's response changed the cookie (deleted: %v); want it untouched", ck == "")
	}
	replay := &Client{cookie: token}
	for _, srv := range []*Server{a, b} {
		must(t, replay, srv.URL, get("cart"), http.StatusNotFound, "")
		must(t, replay, srv.URL, get("late"), http.StatusNotFound, "")
	}
}

func testLogoutEverywhere(t *testing.T, open func(*testing.T) session.Store) {
	a, b := NewServer(t, open(t)), NewServer(t, open(t))
	user, other := Key()[:8], Key()[:8]
	phone, laptop, tablet, stranger := &Client{}, &Client{}, &Client{}, &Client{}
	must(t, phone, a.URL, "/login?u="+user, http.StatusOK, "")
	must(t, laptop, b.URL, "/login?u="+user, http.StatusOK, "")
	must(t, tablet, a.URL, put("cart", "1"), http.StatusOK, "") // logs in after a renewal
	must(t, tablet, b.URL, "/login?u="+user, http.StatusOK, "")
	must(t, stranger, b.URL, "/login?u="+other, http.StatusOK, "")
	must(t, phone, b.URL, "/logout-all", http.StatusOK, "3")
	for _, c := range []*Client{phone, laptop, tablet} {
		for _, srv := range []*Server{a, b} {
			must(t, c, srv.URL, "/user", http.StatusOK, "")
		}
	}
	must(t, stranger, a.URL, "/user", http.StatusOK, other)
}
