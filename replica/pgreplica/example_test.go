package pgreplica_test

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ladder-go/ladder/replica/pgreplica"
)

func ExampleParseLSN() {
	p, err := pgreplica.ParseLSN("16/b374d848")
	fmt.Println(uint64(p), err)
	fmt.Println(pgreplica.FormatLSN(p))
	// Output:
	// 97500059720 <nil>
	// 16/B374D848
}

// Read your own write from a standby: take the primary's position after the
// commit, then read the standby once it has replayed that far, or the
// primary if it does not get there in time.
func ExamplePositions() {
	ctx := context.Background()
	primary, _ := sql.Open("pgx", "postgres://app@primary:5432/app")
	standby, _ := sql.Open("pgx", "postgres://app@standby:5432/app")
	pos := pgreplica.Positions{}

	if _, err := primary.ExecContext(ctx, "INSERT INTO posts (title) VALUES ('hello')"); err != nil {
		return
	}
	after, err := pos.WritePosition(ctx, primary)
	if err != nil {
		return
	}
	read := primary
	deadline := time.Now().Add(100 * time.Millisecond)
	for time.Now().Before(deadline) {
		if ok, err := pos.Reached(ctx, standby, after); err == nil && ok {
			read = standby
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	var n int
	_ = read.QueryRowContext(ctx, "SELECT count(*) FROM posts").Scan(&n)
}
