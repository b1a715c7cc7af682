// Command 05-multi-dc-sharding runs the example; the code is in package multidc,
// so that examples/ladder can run it too.
//
//	go run ./examples/05-multi-dc-sharding
//	go run ./examples/05-multi-dc-sharding -quick
package main

import (
	"github.com/ladder-go/ladder/examples/05-multi-dc-sharding/multidc"
	"github.com/ladder-go/ladder/examples/app/stage"
)

func main() { stage.Main(multidc.Run) } // exits 130 on Ctrl-C, after stopping every process it started
