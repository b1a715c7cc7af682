package shard_test

import (
	"fmt"

	"github.com/ladder-go/ladder/shard"
)

// Route users to four databases, then add a fifth: plan first, then swap.
func Example() {
	j4, _ := shard.NewJump(4)
	m1, _ := shard.NewMap(1, []string{"db0", "db1", "db2", "db3"}, j4)
	router := shard.NewRouter(m1)

	fmt.Println("user 42 →", router.Map().Name(shard.KeyUint64(42)))

	j5, _ := shard.NewJump(5)
	m2, _ := shard.NewMap(2, []string{"db0", "db1", "db2", "db3", "db4"}, j5)
	plan, _ := shard.Plan(m1, m2, shard.PlanOptions{Samples: 100000})
	fmt.Printf("moving to 5 shards moves %.0f%% of keys, all to db4: %v\n", 100*plan.Moved, len(plan.Flows) == 4 && plan.Flows[0].To == "db4")

	// ... copy the moving rows (engineer B's migration does this), then:
	if err := router.Swap(m1, m2); err != nil {
		fmt.Println(err)
	}
	fmt.Println("now version", router.Map().Version())
	// Output:
	// user 42 → db3
	// moving to 5 shards moves 20% of keys, all to db4: true
	// now version 2
}

// Vitess-style ranges: split the upper half, and see exactly what moves.
func ExampleParseRanges() {
	r1, _ := shard.ParseRanges("-80,80-")
	m1, _ := shard.NewMap(1, r1.Names(), r1)
	r2, _ := shard.ParseRanges("-80,80-c0,c0-")
	m2, _ := shard.NewMap(2, r2.Names(), r2)

	plan, _ := shard.Plan(m1, m2, shard.PlanOptions{})
	fmt.Printf("moved: %v of the key space\n", plan.Moved)
	for _, mv := range plan.Ranges {
		fmt.Printf("%s: %s → %s\n", shard.Range{Start: mv.Start, End: mv.End}, mv.From, mv.To)
	}
	// Output:
	// moved: 0.5 of the key space
	// 80-c0: 80- → 80-c0
	// c0-: 80- → c0-
}

// Give a hot tenant a shard of its own, in a new map version.
func ExampleMap_WithOverride() {
	shards := []string{"pg-a", "pg-b", "pg-c", "pg-hot"}
	r, _ := shard.NewRendezvous(shards, shard.RendezvousOptions{})
	m1, _ := shard.NewMap(1, shards, r)
	router := shard.NewRouter(m1)

	acme := shard.KeyString("tenant:acme")
	m2, _ := m1.WithOverride(2, acme, "pg-hot")
	if err := router.Swap(m1, m2); err != nil {
		fmt.Println(err)
	}
	fmt.Println(router.Map().Name(acme))
	// Output: pg-hot
}

// Bounded-load consistent hashing with buraksezer/consistent; the
// configurations that library panics on are errors here.
func ExampleNewConsistent() {
	_, err := shard.NewConsistent([]string{"a", "b"}, shard.ConsistentOptions{Load: 1})
	fmt.Println(err)
	c, _ := shard.NewConsistent([]string{"a", "b", "c"}, shard.ConsistentOptions{PartitionCount: 7919, Load: 1.05})
	fmt.Println(c.Len(), "shards")
	// Output:
	// shard: invalid options: Consistent Load 1: must be > 1 with 2 shards
	// 3 shards
}

// Weighted Maglev: a shard with twice the hardware takes twice the keys.
func ExampleNewMaglev() {
	g, _ := shard.NewMaglev([]string{"small", "big"}, shard.MaglevOptions{Weights: []float64{1, 2}})
	n := [2]int{}
	for i := range 300000 {
		n[g.Shard(shard.KeyUint64(uint64(i)))]++
	}
	fmt.Printf("big/small ≈ %.1f\n", float64(n[1])/float64(n[0]))
	// Output: big/small ≈ 2.0
}
