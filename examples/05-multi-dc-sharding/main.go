// Command 05-multi-dc-sharding runs the example; the code is in package multidc,
// so that examples/ladder can run it too.
//
//	go run ./examples/05-multi-dc-sharding
//	go run ./examples/05-multi-dc-sharding -quick
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ladder-go/ladder/examples/05-multi-dc-sharding/multidc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := multidc.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
