package rediscache_test

import (
	"fmt"
	"testing"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/cache/rediscache"
	"github.com/ladder-go/ladder/internal/testenv"
)

// On a real three-master Redis Cluster, two instances share L2 across
// slots and masters, and Set and Delete on one evict the other's L1
// (PUBLISH reaches subscribers on every node), with nothing reported as an
// L2 failure.
func TestTwoInstancesOnCluster(t *testing.T) {
	env := testenv.RedisCluster(t)
	a := newInstance(t, env.Client(t), env.Prefix, rediscache.Options{})
	b := newInstance(t, env.Client(t), env.Prefix, rediscache.Options{})
	ready(t, a, b)
	ctx := t.Context()
	src := &db{rows: map[string]user{}}
	const n = 30 // enough keys to land on every master
	for i := range n {
		k := fmt.Sprint("u", i)
		src.put(k, user{i, "v1"})
		if u, err := a.Get(ctx, k, src.load); err != nil || u.Name != "v1" {
			t.Fatalf("a.Get(%s) = %v, %v", k, u, err)
		}
		if u, err := b.Get(ctx, k, src.load); err != nil || u.Name != "v1" {
			t.Fatalf("b.Get(%s) = %v, %v", k, u, err)
		}
	}
	if got := src.reads.Load(); got != n {
		t.Fatalf("db reads = %d, want %d: b must be answered by the shared L2", got, n)
	}
	for i := range n {
		k := fmt.Sprint("u", i)
		if i%2 == 0 {
			if err := a.Set(ctx, k, user{i, "v2"}, cache.Meta{}); err != nil {
				t.Fatalf("a.Set(%s): %v", k, err)
			}
		} else {
			src.put(k, user{i, "v2"})
			if err := a.Delete(ctx, k); err != nil {
				t.Fatalf("a.Delete(%s): %v", k, err)
			}
		}
	}
	for i := range n {
		k := fmt.Sprint("u", i)
		eventually(t, "b's L1 eviction of "+k, func() bool { u, ok := b.L1().Peek(k); return !ok || u.Name == "v2" })
		if u, err := b.Get(ctx, k, src.load); err != nil || u.Name != "v2" {
			t.Fatalf("b.Get(%s) after a's write = %v, %v; want v2", k, u, err)
		}
	}
}
