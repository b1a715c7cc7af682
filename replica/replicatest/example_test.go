package replicatest_test

import (
	"context"
	"fmt"

	"github.com/ladder-go/ladder/replica/replicatest"
)

// A write on the primary reaches the replica only when it is replayed: a
// read-your-writes flow waits until the replica has reached the position
// taken after the commit, or reads the primary.
func Example() {
	ctx := context.Background()
	pair, err := replicatest.New(replicatest.Options{Paused: true})
	if err != nil {
		panic(err)
	}
	defer pair.Close()
	db := pair.Primary()
	if _, err := db.ExecContext(ctx, "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT)"); err != nil {
		panic(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO posts (title) VALUES ('hello')"); err != nil {
		panic(err)
	}
	pos, _ := pair.WritePosition(ctx, db) // the token a causal read carries

	reached, _ := pair.Reached(ctx, pair.Replica(), pos)
	fmt.Println("replica reached the write:", reached)

	pair.Step(2) // replay the CREATE TABLE and the INSERT
	reached, _ = pair.Reached(ctx, pair.Replica(), pos)
	var title string
	_ = pair.Replica().QueryRowContext(ctx, "SELECT title FROM posts WHERE id = 1").Scan(&title)
	fmt.Println("replica reached the write:", reached, "and reads", title)
	// Output:
	// replica reached the write: false
	// replica reached the write: true and reads hello
}
