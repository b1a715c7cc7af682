package sessiontest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/session"
)

// testLateKeepsNewLogin: a slow request (a write, or a read whose idle refresh is due)
// loads the session; the user logs out and logs in again in the same browser while it
// runs; its commit then finds its session destroyed. Its response must leave the
// browser's cookie alone: deleting it would log out the new login.
func testLateKeepsNewLogin(t *testing.T, open func(*testing.T) session.Store, write bool) {
	var skew atomic.Int64 // the servers' clock runs ahead by this much
	opts := session.Options{TouchInterval: time.Minute,
		Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }}
	a, b := newServer(t, open(t), opts), newServer(t, open(t), opts)
	for trial := range 3 {
		browser := &Client{}
		user := Key()[:8]
		must(t, browser, a.URL, "/login?u="+user, http.StatusOK, "")
		must(t, browser, a.URL, put("cart", "1"), http.StatusOK, "")
		k := fmt.Sprint("late", trial)
		path := "/slow?k=" + k + "&v=1"
		if !write {
			path = "/slowget?k=cart"
			k = "cart"
			skew.Add(int64(2 * time.Minute)) // the slow read's idle refresh is due
		}
		done := make(chan int, 1)
		go func() {
			status, _, err := browser.Do(t.Context(), a.URL, path)
			if err != nil {
				t.Error(err)
			}
			done <- status
		}()
		<-a.Loaded(k)
		must(t, browser, b.URL, "/logout", http.StatusOK, "")
		must(t, browser, b.URL, "/login?u="+user, http.StatusOK, "")
		login := browser.Cookie()
		a.Release(k)
		<-done
		if got := browser.Cookie(); got != login {
			t.Fatalf("trial %d: the late response changed the new login's cookie (deleted: %v)", trial, got == "")
		}
		must(t, browser, b.URL, "/user", http.StatusOK, user)
		a.mu.Lock()
		delete(a.slow, k)
		delete(a.loaded, k)
		a.mu.Unlock()
	}
}

// testPreLoginCookie: a request sent with the cookie a login has since renewed (the
// browser sent it before the login's response arrived) must neither act on the logged-in
// session (whoever holds a pre-login token would share it: session fixation) nor start a
// new session whose cookie replaces the login's, and its write must not be acknowledged.
func testPreLoginCookie(t *testing.T, open func(*testing.T) session.Store) {
	a, b := NewServer(t, open(t)), NewServer(t, open(t))
	browser := &Client{}
	must(t, browser, a.URL, put("cart", "1"), http.StatusOK, "")
	old := browser.Cookie()
	user := Key()[:8]
	must(t, browser, b.URL, "/login?u="+user, http.StatusOK, "")
	stale := &Client{cookie: old} // the same browser, a request sent before the login's answer
	status, _, err := stale.Do(t.Context(), a.URL, put("fixed", "by-attacker"))
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusConflict {
		t.Errorf("a write with the pre-login cookie answered %d; want 409 (ErrRenewed)", status)
	}
	if got := stale.Cookie(); got != old {
		t.Errorf("its response set the cookie (deleted: %v); want it untouched", got == "")
	}
	must(t, browser, a.URL, get("fixed"), http.StatusNotFound, "") // not in the login's session
	must(t, browser, a.URL, get("cart"), http.StatusOK, "1")
	must(t, browser, a.URL, "/user", http.StatusOK, user)
	must(t, stale, b.URL, "/user", http.StatusConflict, "")
}

// testParallelLogin: 16 requests of one browser in parallel, one of them a login. The
// browser ends logged in, and every write answered 200 is in its session.
func testParallelLogin(t *testing.T, open func(*testing.T) session.Store) {
	servers := []*Server{NewServer(t, open(t)), NewServer(t, open(t))}
	for trial := range 5 {
		browser := &Client{}
		must(t, browser, servers[0].URL, put("base", "0"), http.StatusOK, "")
		user := Key()[:8]
		var mu sync.Mutex
		var acked []int
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				srv := servers[i%2].URL
				if i == 5 {
					if status, body, err := browser.Do(t.Context(), srv, "/login?u="+user); err != nil || status != http.StatusOK {
						t.Errorf("login: %d %q %v", status, body, err)
					}
					return
				}
				status, body, err := browser.Do(t.Context(), srv, put(fmt.Sprint("k", i), "v"))
				switch {
				case err != nil:
					t.Error(err)
				case status == http.StatusOK:
					mu.Lock()
					acked = append(acked, i)
					mu.Unlock()
				case status != http.StatusConflict:
					t.Errorf("put %d: %d %q", i, status, strings.TrimSpace(body))
				}
			})
		}
		wg.Wait()
		must(t, browser, servers[trial%2].URL, "/user", http.StatusOK, user)
		for _, i := range acked {
			must(t, browser, servers[(trial+1)%2].URL, get(fmt.Sprint("k", i)), http.StatusOK, "v")
		}
	}
}
