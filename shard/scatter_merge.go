package shard

import "container/heap"

// Concat returns parts one after another, at most limit rows (limit ≤ 0:
// all).
func Concat[T any](parts [][]T, limit int) []T {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if limit > 0 && n > limit {
		n = limit
	}
	out := make([]T, 0, n)
	for _, p := range parts {
		if len(out)+len(p) > n {
			p = p[:n-len(out)]
		}
		out = append(out, p...)
		if len(out) == n {
			break
		}
	}
	return out
}

// Merge merges parts, each sorted by cmp, into one slice sorted by cmp
// holding at most limit rows (limit ≤ 0: all). It is a k-way merge over a
// heap of the parts' heads: O(limit · log k) comparisons, no sort of the
// whole, and it stops at the limit. Rows that compare equal keep the order
// of their parts (a stable merge). It allocates the result and one small
// heap, nothing per row. A nil cmp gives no order to merge by: Merge then
// returns Concat(parts, limit).
func Merge[T any](parts [][]T, cmp func(a, b T) int, limit int) []T {
	if cmp == nil {
		return Concat(parts, limit)
	}
	n := 0
	h := &mergeHeap[T]{cmp: cmp, heads: make([]cursor, 0, len(parts))}
	h.parts = parts
	for i, p := range parts {
		n += len(p)
		if len(p) > 0 {
			h.heads = append(h.heads, cursor{part: i})
		}
	}
	if limit > 0 && n > limit {
		n = limit
	}
	out := make([]T, 0, n)
	heap.Init(h)
	for len(out) < n {
		c := &h.heads[0]
		p := parts[c.part]
		out = append(out, p[c.pos])
		c.pos++
		if c.pos == len(p) { // this part is done: drop its head
			last := len(h.heads) - 1
			h.heads[0] = h.heads[last]
			h.heads = h.heads[:last]
			if last == 0 {
				break
			}
		}
		heap.Fix(h, 0)
	}
	return out
}

type cursor struct{ part, pos int }

// mergeHeap orders the parts' heads; Push and Pop are never used by Merge
// (it replaces and fixes the top in place, so nothing is boxed per row).
type mergeHeap[T any] struct {
	parts [][]T
	heads []cursor
	cmp   func(a, b T) int
}

func (h *mergeHeap[T]) Len() int { return len(h.heads) }

func (h *mergeHeap[T]) Less(i, j int) bool {
	a, b := h.heads[i], h.heads[j]
	if c := h.cmp(h.parts[a.part][a.pos], h.parts[b.part][b.pos]); c != 0 {
		return c < 0
	}
	return a.part < b.part
}

func (h *mergeHeap[T]) Swap(i, j int) { h.heads[i], h.heads[j] = h.heads[j], h.heads[i] }

func (h *mergeHeap[T]) Push(x any) { h.heads = append(h.heads, x.(cursor)) }

func (h *mergeHeap[T]) Pop() any {
	x := h.heads[len(h.heads)-1]
	h.heads = h.heads[:len(h.heads)-1]
	return x
}
