package edgetest_test

import (
	"context"
	"fmt"

	"github.com/ladder-go/ladder/cache/edge/edgetest"
)

// Running the suite against an out-of-process cache (nginx, Varnish, Squid,
// Traffic Server): start the origin first, configure the proxy to forward
// to it, then check each case against the proxy's URL on the real clock.
func Example_outOfProcess() {
	origin := edgetest.NewOrigin(nil) // real clock
	originURL, err := origin.Listen("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer origin.Close()
	_ = originURL         // write the proxy's configuration with it, start the proxy…
	proxyURL := originURL // …and use its URL here (the origin itself stands in for it)

	var cases []edgetest.Case
	for _, c := range edgetest.Cases() {
		if c.ID == "store-no-store-response" || c.ID == "store-max-age" {
			cases = append(cases, c) // a proxy runs them all; here two, for the example
		}
	}
	results := edgetest.CheckAll(context.Background(), cases, edgetest.Target{URL: proxyURL, Origin: origin}, 0)
	fmt.Println(edgetest.Tally(results)) // the origin caches nothing: it passes the MUST, not the MAY
	// Output: map[9111 MAY:[0 1] 9111 MUST:[1 1]]
}
