package lb_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/ladder-go/ladder/lb"
)

func ExampleWeightedRoundRobin() {
	pool, err := lb.NewPool([]lb.Backend[string]{
		{Name: "a", Value: "a", Weight: 5},
		{Name: "b", Value: "b", Weight: 1},
		{Name: "c", Value: "c", Weight: 1},
	}, lb.PoolOptions{Policy: lb.WeightedRoundRobin(), Rand: func() uint64 { return 0 }})
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	for range 7 {
		v, done, _ := pool.Pick()
		fmt.Print(v, " ")
		done(lb.Outcome{})
	}
	// Output: a a b a c a a
}

func ExamplePool_Pick() {
	pool, err := lb.NewPool([]lb.Backend[string]{{Value: "db-1"}, {Value: "db-2"}},
		lb.PoolOptions{Policy: lb.PeakEWMA(lb.PeakEWMAOptions{}), Rand: func() uint64 { return 0 }})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()

	// Here db-1 answers in 40 ms and db-2 in 5 ms; PeakEWMA learns it from
	// the outcomes reported through done and sends the next queries to db-2.
	latency := map[string]time.Duration{"db-1": 40 * time.Millisecond, "db-2": 5 * time.Millisecond}
	for range 4 {
		db, done, err := pool.Pick()
		if err != nil {
			fmt.Println(err) // lb.ErrNoBackend
			return
		}
		fmt.Print(db, " ") // query it, timing the query
		done(lb.Outcome{Latency: latency[db]})
	}
	// Output: db-1 db-2 db-2 db-2
}

func ExampleProxy() {
	var urls []string
	for _, name := range []string{"web-1", "web-2"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s saw X-Forwarded-For %s", name, r.Header.Get("X-Forwarded-For"))
		}))
		defer srv.Close()
		urls = append(urls, srv.URL)
	}
	backends, err := lb.ParseBackends(urls...)
	if err != nil {
		fmt.Println(err)
		return
	}
	pool, err := lb.NewPool(backends, lb.PoolOptions{Rand: func() uint64 { return 0 }})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()
	proxy := &lb.Proxy{Pool: pool}
	if err := proxy.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	front := httptest.NewServer(proxy)
	defer front.Close()

	for range 3 {
		req, _ := http.NewRequest("GET", front.URL, nil)
		req.Header.Set("X-Forwarded-For", "6.6.6.6") // spoofed: the peer is not trusted
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(string(body))
	}
	// Output:
	// web-1 saw X-Forwarded-For 127.0.0.1
	// web-2 saw X-Forwarded-For 127.0.0.1
	// web-1 saw X-Forwarded-For 127.0.0.1
}

func ExampleTransport() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "served %s", r.URL.Path)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	pool, _ := lb.NewPool([]lb.Backend[*url.URL]{{Value: u}}, lb.PoolOptions{})
	defer pool.Close()

	client := &http.Client{Transport: &lb.Transport{Pool: pool}}
	resp, err := client.Get("http://users.internal/me")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output: served /me
}

func ExamplePoolOptions_zones() {
	pool, _ := lb.NewPool([]lb.Backend[string]{
		{Name: "eu-1", Value: "eu-1", Zone: "eu-west"},
		{Name: "eu-2", Value: "eu-2", Zone: "eu-west"},
		{Name: "us-1", Value: "us-1", Zone: "us-east"},
		{Name: "us-2", Value: "us-2", Zone: "us-east"},
	}, lb.PoolOptions{Zones: []string{"eu-west", "us-east"}, Rand: func() uint64 { return 0 }})
	defer pool.Close()
	pick := func() {
		var got []string
		for range 4 {
			v, done, _ := pool.Pick()
			got = append(got, v)
			done(lb.Outcome{})
		}
		fmt.Println(strings.Join(got, " "))
	}
	pick() // the nearest zone takes everything while healthy
	pool.SetDown("eu-1", true)
	pool.SetDown("eu-2", true) // e.g. by a health.Prober through Pool.Watch
	pick()                     // spilled to the next zone
	pool.SetDown("eu-1", false)
	pool.SetDown("eu-2", false)
	pick() // and back
	// Output:
	// eu-1 eu-2 eu-1 eu-2
	// us-1 us-2 us-1 us-2
	// eu-1 eu-2 eu-1 eu-2
}

func ExampleHash() {
	pool, _ := lb.NewPool([]lb.Backend[string]{
		{Value: "cache-1"}, {Value: "cache-2"}, {Value: "cache-3"},
	}, lb.PoolOptions{Policy: lb.Hash(lb.HashOptions{})})
	defer pool.Close()
	owner := func(key string) string {
		v, done, _ := pool.PickKey(key)
		done(lb.Outcome{})
		return v
	}
	first := owner("user:42")
	fmt.Println("same backend for the same key:", owner("user:42") == first)

	// Removing another backend does not move the key.
	var rest []lb.Backend[string]
	for _, v := range []string{"cache-1", "cache-2", "cache-3"} {
		if v == first || len(rest) == 1 {
			rest = append(rest, lb.Backend[string]{Value: v})
		}
	}
	pool.Update(rest)
	fmt.Println("still there after a resize:", owner("user:42") == first)
	// Output:
	// same backend for the same key: true
	// still there after a resize: true
}
