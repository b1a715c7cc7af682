package edge_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/ladder-go/ladder/cache/edge"
	"github.com/ladder-go/ladder/lb"
)

// The edge in front of an origin handler: the first request fills the
// cache, the next ones are hits.
func Example() {
	origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		io.WriteString(w, "console.log('v42')")
	})
	c, err := edge.New(origin, edge.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	for range 2 {
		w := httptest.NewRecorder()
		c.ServeHTTP(w, httptest.NewRequest("GET", "http://static.example/app.v42.js", nil))
		fmt.Println(w.Code, w.Header().Get("Cache-Status"))
	}
	// Output:
	// 200 ladder; fwd=uri-miss; fwd-status=200; stored
	// 200 ladder; hit; ttl=300
}

// The edge in front of several origins through an lb.Proxy.
func Example_lb() {
	var urls []string
	for _, name := range []string{"origin-1", "origin-2"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Surrogate-Key", "product-7 products")
			fmt.Fprintf(w, "product 7 from %s", name)
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
	c, err := edge.New(&lb.Proxy{Pool: pool}, edge.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	get := func() {
		w := httptest.NewRecorder()
		c.ServeHTTP(w, httptest.NewRequest("GET", "http://shop.example/products/7", nil))
		fmt.Println(w.Body.String(), "|", w.Header().Get("Cache-Status"))
	}
	get()
	get()
	fmt.Println("purged", c.PurgeKey("products"))
	get()
	// Output:
	// product 7 from origin-1 | ladder; fwd=uri-miss; fwd-status=200; stored
	// product 7 from origin-1 | ladder; hit; ttl=60
	// purged 1
	// product 7 from origin-2 | ladder; fwd=uri-miss; fwd-status=200; stored
}
