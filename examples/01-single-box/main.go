// Command 01-single-box runs the example; the code is in package singlebox,
// so that examples/ladder can run it too.
//
//	go run ./examples/01-single-box
//	go run ./examples/01-single-box -quick
package main

import (
	"github.com/ladder-go/ladder/examples/01-single-box/singlebox"
	"github.com/ladder-go/ladder/examples/app/stage"
)

func main() { stage.Main(singlebox.Run) } // exits 130 on Ctrl-C, after stopping every process it started
