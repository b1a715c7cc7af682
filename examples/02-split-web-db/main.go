// Command 02-split-web-db runs the example; the code is in package splitwebdb,
// so that examples/ladder can run it too.
//
//	go run ./examples/02-split-web-db
//	go run ./examples/02-split-web-db -quick
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ladder-go/ladder/examples/02-split-web-db/splitwebdb"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := splitwebdb.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
