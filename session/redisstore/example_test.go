package redisstore_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/redisstore"
)

// Two web servers share sessions through Redis: a user who logs in on one is known on
// the other. (miniredis stands in for redis-server here; use redis.NewUniversalClient
// for a server, Sentinel or Cluster.)
func Example() {
	mr := miniredis.NewMiniRedis()
	if err := mr.StartAddr("127.0.0.1:0"); err != nil {
		fmt.Println(err)
		return
	}
	defer mr.Close()
	var clients []*redis.Client
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()

	newServer := func() *httptest.Server {
		// ContextTimeoutEnabled: StoreTimeout then bounds each call (see New).
		client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
		defer func() { clients = append(clients, client) }()
		store, _ := redisstore.New(client, redisstore.Options{Prefix: "myapp:"})
		m, _ := session.New(store, session.Options{Insecure: true})
		srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := session.From(r.Context())
			if r.URL.Path == "/login" {
				_ = s.RenewID(r.Context())
				_ = s.SetUser("alice")
				return
			}
			fmt.Fprintf(w, "user %q", s.User())
		})))
		return srv
	}
	one, two := newServer(), newServer()
	defer one.Close()
	defer two.Close()

	resp, err := http.Get(one.URL + "/login")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	req, _ := http.NewRequest("GET", two.URL+"/", nil)
	req.AddCookie(resp.Cookies()[0])
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output: user "alice"
}
