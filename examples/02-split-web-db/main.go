// Command 02-split-web-db runs the example; the code is in package splitwebdb,
// so that examples/ladder can run it too.
//
//	go run ./examples/02-split-web-db
//	go run ./examples/02-split-web-db -quick
package main

import (
	"github.com/ladder-go/ladder/examples/02-split-web-db/splitwebdb"
	"github.com/ladder-go/ladder/examples/app/stage"
)

func main() { stage.Main(splitwebdb.Run) } // exits 130 on Ctrl-C, after stopping every process it started
