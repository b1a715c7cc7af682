// Command 06-queue-workers runs the example; the code is in package queueworkers,
// so that examples/ladder can run it too.
//
//	go run ./examples/06-queue-workers
//	go run ./examples/06-queue-workers -quick
package main

import (
	"github.com/ladder-go/ladder/examples/06-queue-workers/queueworkers"
	"github.com/ladder-go/ladder/examples/app/stage"
)

func main() { stage.Main(queueworkers.Run) } // exits 130 on Ctrl-C, after stopping every process it started
