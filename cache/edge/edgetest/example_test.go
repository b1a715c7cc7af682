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

	passed := map[string]int{}
	for _, c := range edgetest.Cases() {
		if c.ID != "store-no-store-response" {
			continue // a proxy runs them all (in parallel); here only one, for the example
		}
		err := edgetest.Check(context.Background(), c, edgetest.Target{URL: proxyURL, Origin: origin})
		if err == nil {
			passed[c.Level]++
		}
	}
	fmt.Println(passed)
	// Output: map[MUST:1]
}
