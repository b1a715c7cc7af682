// Package stripe picks the stripe of a striped hot-path counter for the
// calling goroutine: cache's hit counter and lb's round-robin turn cells use
// it (docs/CONVENTIONS.md, "Hot paths read by every core write nothing
// shared"). It is pure Go and imports nothing, so core packages may use it.
package stripe

import "unsafe"

// Of returns the calling goroutine's stripe, in [0, 1<<bits), for salt.
//
// A goroutine is known by where its stack lies: free to read, unlike a P or
// goroutine ID, and different for goroutines running at once, so they
// almost always land on different stripes; a stack that moves as it grows
// just picks another stripe. A counter moves its salt when it finds a
// stripe contended, which remaps every goroutine. bits must be in [1, 63].
func Of(salt uint64, bits uint) uint64 {
	var here byte
	return mix(uint64(uintptr(unsafe.Pointer(&here))), salt, bits)
}

// mix maps a stack address and a salt to a stripe. Stacks are at least
// 2 KiB apart. The salt is scrambled and XORed in before the multiply, so
// that a new salt separates most pairs of goroutines that shared a stripe
// (adding it moved colliding pairs together). Not all: for neighbouring
// stacks 14–31% of colliding pairs still collide under the next salt, where
// independent picks would leave 1/32; the next contended CAS moves it again.
func mix(addr, salt uint64, bits uint) uint64 {
	p := addr>>11 ^ salt*0xbf58476d1ce4e5b9
	return (p * 0x9e3779b97f4a7c15) >> (64 - bits)
}
