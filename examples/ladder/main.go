// Command ladder is the walk-through: it runs every example, 01 to 06, in
// turn under one bounded load profile, prints each stage's golden signals,
// figures, drills and the advisor's "move now" line, then a summary, and
// writes an HTML report with charts.
//
//	go run ./examples/ladder            # every stage, about 3 minutes
//	go run ./examples/ladder -quick     # every stage, short
//	go run ./examples/ladder -stage 3   # one stage
package main

import "github.com/ladder-go/ladder/examples/app/stage"

func main() { stage.Main(run) } // exits 130 on Ctrl-C, after every stage's processes are stopped
