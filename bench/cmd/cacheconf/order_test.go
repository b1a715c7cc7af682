package main

import (
	"slices"
	"sort"
	"testing"
)

func TestSectionOrder(t *testing.T) {
	got := []string{"4.10", "4.2.1", "3", "4.2", "5.2.2.1", "4.2.10", "4.2.3"}
	sort.Slice(got, func(i, j int) bool { return sectionLess(got[i], got[j]) })
	want := []string{"3", "4.2", "4.2.1", "4.2.3", "4.2.10", "4.10", "5.2.2.1"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
