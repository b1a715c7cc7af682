package lb_test

import (
	"testing"

	"github.com/ladder-go/ladder/lb"
)

func zoned() []lb.Backend[string] {
	return []lb.Backend[string]{
		{Name: "far1", Value: "far1", Zone: "far"},
		{Name: "a", Value: "a", Zone: "near"},
		{Name: "b", Value: "b", Zone: "near"},
		{Name: "c", Value: "c", Zone: "near"},
		{Name: "far2", Value: "far2", Zone: "far"},
	}
}

func farShare(t *testing.T, p *lb.Pool[string]) float64 {
	got := count(t, p, 20000)
	return float64(got["far1"]+got["far2"]) / 20000
}

func TestLocalitySpillAndReturn(t *testing.T) {
	p := newPool(t, zoned(), lb.PoolOptions{Zones: []string{"near", "far"}, PanicThreshold: -1})
	near(t, "far share, all healthy", farShare(t, p), 0, 0)
	p.SetDown("a", true) // near 2/3 healthy × 1.4 = 93% stays
	near(t, "far share, one near down", farShare(t, p), 1-2./3*1.4, 0.01)
	p.SetDown("b", true) // 1/3 × 1.4 = 47% stays
	near(t, "far share, two near down", farShare(t, p), 1-1./3*1.4, 0.015)
	p.SetDown("c", true)
	near(t, "far share, near down", farShare(t, p), 1, 0)
	p.SetDown("a", false)
	p.SetDown("b", false)
	p.SetDown("c", false)
	near(t, "far share, healed", farShare(t, p), 0, 0)
}

func TestLocalityZonesNotListedComeLast(t *testing.T) {
	p := newPool(t, zoned(), lb.PoolOptions{Zones: []string{"far"}})
	got := count(t, p, 100)
	if got["far1"]+got["far2"] != 100 {
		t.Errorf("listed zone should take everything, got %v", got)
	}
}

func TestLocalitySpillWhenSaturated(t *testing.T) {
	p := newPool(t, zoned(), lb.PoolOptions{Zones: []string{"near", "far"}, MaxInFlight: 2})
	var held []func(lb.Outcome)
	got := map[string]int{}
	for range 8 { // near holds 3×2; the rest spills
		v, done, err := p.Pick()
		if err != nil {
			t.Fatal(err)
		}
		got[v]++
		held = append(held, done)
	}
	if got["a"] != 2 || got["b"] != 2 || got["c"] != 2 || got["far1"]+got["far2"] != 2 {
		t.Errorf("saturated near zone: %v", got)
	}
	for _, done := range held {
		done(lb.Outcome{})
	}
	if farShare(t, p) != 0 {
		t.Error("traffic did not return once near had room")
	}
}

func TestPanicIgnoresZones(t *testing.T) {
	p := newPool(t, zoned(), lb.PoolOptions{Zones: []string{"near", "far"}})
	p.SetDown("a", true)
	p.SetDown("b", true)
	p.SetDown("c", true) // 2 of 5 healthy: panic
	if got := count(t, p, 500); got["a"] != 100 || got["far1"] != 100 {
		t.Errorf("panic should spread over every member, got %v", got)
	}
}
