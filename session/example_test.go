package session_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/ladder-go/ladder/session"
)

func Example() {
	store, _ := session.NewMemoryStore(session.MemoryOptions{})
	defer store.Close()
	sessions, _ := session.New(store, session.Options{Insecure: true}) // plain-HTTP test server

	mux := http.NewServeMux()
	mux.HandleFunc("/visit", func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		n, _ := session.Get[int](s, "visits") // 0 on the first visit
		if err := session.Put(s, "visits", n+1); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "visit %d", n+1)
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		if err := s.RenewID(r.Context()); err != nil { // against session fixation
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_ = s.SetUser("alice")
	})
	srv := httptest.NewServer(sessions.Handler(mux))
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	for _, path := range []string{"/visit", "/visit", "/login", "/visit"} {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(body) > 0 {
			fmt.Println(string(body))
		}
	}
	// Output:
	// visit 1
	// visit 2
	// visit 3
}

func ExampleSession_Keys() {
	store, _ := session.NewMemoryStore(session.MemoryOptions{})
	defer store.Close()
	sessions, _ := session.New(store, session.Options{Insecure: true})
	h := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		_ = session.Put(s, "theme", "dark")
		_ = session.Put(s, "cart", []int{3})
		keys, err := s.Keys()
		fmt.Println(keys, err)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	// Output:
	// [cart theme] <nil>
}
