// Command 04-cache-cdn runs the example; the code is in package cachecdn,
// so that examples/ladder can run it too.
//
//	go run ./examples/04-cache-cdn
//	go run ./examples/04-cache-cdn -quick
package main

import (
	"github.com/ladder-go/ladder/examples/04-cache-cdn/cachecdn"
	"github.com/ladder-go/ladder/examples/app/stage"
)

func main() { stage.Main(cachecdn.Run) } // exits 130 on Ctrl-C, after stopping every process it started
