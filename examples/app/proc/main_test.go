package proc_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ladder-go/ladder/examples/app/proc"
)

// TestMain serves the roles the tests start as children of this binary.
func TestMain(m *testing.M) {
	switch proc.Role() {
	case "":
		goleak.VerifyTestMain(m)
	case "echo":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		ln, err := proc.ChildListen()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_ = proc.Serve(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "pid %d", os.Getpid())
		}))
		os.Exit(0)
	case "exit":
		fmt.Fprintln(os.Stderr, "cannot open the database: no such file")
		os.Exit(3)
	case "silent":
		time.Sleep(time.Minute)
		os.Exit(0)
	case "stubborn": // ignores SIGTERM
		signal.Ignore(syscall.SIGTERM)
		proc.Announce("-")
		time.Sleep(time.Minute)
		os.Exit(0)
	case "middle": // starts an echo child of its own, prints its pid, waits
		g, err := proc.NewGroup(proc.Options{})
		if err != nil {
			os.Exit(1)
		}
		c, err := g.Start(context.Background(), proc.Spec{Role: "echo"})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		proc.Announce(fmt.Sprint(c.Pid()))
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(4)
}
