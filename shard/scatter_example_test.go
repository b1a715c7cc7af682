package shard_test

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/ladder-go/ladder/shard"
)

// The ten newest orders across every shard: each shard answers its own ten
// newest (ORDER BY created DESC LIMIT 10), and Merge takes the ten newest of
// those without sorting them all.
func ExampleScatter() {
	type order struct {
		id      int
		created int // a timestamp
	}
	// Stands in for "SELECT id, created FROM orders ORDER BY created DESC LIMIT $1" on shard s.
	query := func(ctx context.Context, s int) ([]order, error) {
		var rows []order
		for i := range 10 {
			rows = append(rows, order{id: s*100 + i, created: 1000 - (i*4 + s)})
		}
		return rows, nil
	}
	j, _ := shard.NewJump(4)
	m, _ := shard.NewMap(1, []string{"a", "b", "c", "d"}, j)
	res, err := shard.Scatter(context.Background(), shard.AllShards(m), query, shard.ScatterOptions{
		Concurrency: 2,               // at most two shards queried at once
		Timeout:     2 * time.Second, // a slow shard fails alone
		Partial:     true,            // answer with the shards that answered
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	newest := res.Merge(func(a, b order) int { return cmp.Compare(b.created, a.created) }, 5)
	for _, o := range newest {
		fmt.Println(o.id, o.created)
	}
	fmt.Println("failed shards:", res.Failed())
	// Output:
	// 0 1000
	// 100 999
	// 200 998
	// 300 997
	// 1 996
	// failed shards: 0
}
