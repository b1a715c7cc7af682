// Command 06-queue-workers runs the example; the code is in package queueworkers,
// so that examples/ladder can run it too.
//
//	go run ./examples/06-queue-workers
//	go run ./examples/06-queue-workers -quick
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ladder-go/ladder/examples/06-queue-workers/queueworkers"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := queueworkers.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
