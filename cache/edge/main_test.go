package edge_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// originEnv switches the test binary into a child origin server for the
// process drills (drill_process_test.go).
const originEnv = "LADDER_EDGE_DRILL_ORIGIN"

func TestMain(m *testing.M) {
	if os.Getenv(originEnv) != "" {
		serveOrigin()
		return
	}
	goleak.VerifyTestMain(m)
}

// serveOrigin listens on 127.0.0.1, prints its address and serves until killed:
// /sie allows stale-if-error, anything else does not.
func serveOrigin() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/sie" {
			w.Header().Set("Cache-Control", "max-age=1, stale-if-error=600")
		} else {
			w.Header().Set("Cache-Control", "max-age=1")
		}
		fmt.Fprintf(w, "origin %s", r.URL.Path)
	}))
}
