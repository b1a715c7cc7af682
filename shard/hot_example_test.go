package shard_test

import (
	"fmt"

	"github.com/ladder-go/ladder/shard"
)

// Find the tenant that makes its shard hot and give it a shard of its own.
func ExampleHot() {
	j, _ := shard.NewJump(4)
	m, _ := shard.NewMap(1, []string{"a", "b", "c", "d"}, j)
	hot, _ := shard.NewHot(m.Shards(), shard.HotOptions{})
	defer hot.Close()

	record := func(tenant string) {
		h := shard.KeyString(tenant)
		hot.Record(m.Shard(h), h) // beside each query routed by m
	}
	for i := range 4000 {
		record(fmt.Sprintf("tenant-%d", i%400))
		if i%2 == 0 {
			record("tenant-big")
		}
	}

	st := hot.Stats()
	fmt.Printf("busiest shard %s, skew %.1f\n", st.Shards[st.Max], st.Skew)
	names := map[uint64]string{shard.KeyString("tenant-big"): "tenant-big"} // hashes back to tenants
	for _, k := range hot.Suggest() {
		fmt.Printf("isolate %s: %.0f%% of shard %s\n", names[k.Key], 100*k.Share, st.Shards[k.Shard])
		least := 0
		for i, c := range st.Counts {
			if c < st.Counts[least] {
				least = i
			}
		}
		// The new map version goes to a Migration (which moves the rows),
		// then to Router.Swap.
		m, _ = m.WithOverride(m.Version()+1, k.Key, st.Shards[least])
		fmt.Printf("map v%d puts it on shard %s\n", m.Version(), m.Name(k.Key))
	}
	// Output:
	// busiest shard d, skew 2.1
	// isolate tenant-big: 63% of shard d
	// map v2 puts it on shard b
}
