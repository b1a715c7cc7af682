// Command 01-single-box runs the example; the code is in package singlebox,
// so that examples/ladder can run it too.
//
//	go run ./examples/01-single-box
//	go run ./examples/01-single-box -quick
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ladder-go/ladder/examples/01-single-box/singlebox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := singlebox.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
