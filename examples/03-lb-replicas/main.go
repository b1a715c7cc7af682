// Command 03-lb-replicas runs the example; the code is in package lbreplicas,
// so that examples/ladder can run it too.
//
//	go run ./examples/03-lb-replicas
//	go run ./examples/03-lb-replicas -quick
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ladder-go/ladder/examples/03-lb-replicas/lbreplicas"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := lbreplicas.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
