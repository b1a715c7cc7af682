// Command 03-lb-replicas runs the example; the code is in package lbreplicas,
// so that examples/ladder can run it too.
//
//	go run ./examples/03-lb-replicas
//	go run ./examples/03-lb-replicas -quick
package main

import (
	"github.com/ladder-go/ladder/examples/03-lb-replicas/lbreplicas"
	"github.com/ladder-go/ladder/examples/app/stage"
)

func main() { stage.Main(lbreplicas.Run) } // exits 130 on Ctrl-C, after stopping every process it started
