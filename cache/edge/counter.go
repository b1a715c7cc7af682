package edge

import (
	"sync/atomic"
	"unsafe"
)

// striped is a counter bumped on every hit: its cells sit on separate cache
// lines and the calling goroutine picks one by where its stack lies (the
// scheme of ladder's internal/stripe, which this adapter may not import),
// so cores serving hits at once do not pass one line between them
// (docs/CONVENTIONS.md, "Hot paths read by every core write nothing shared").
type striped struct {
	cells [16]struct {
		n atomic.Int64
		_ [56]byte
	}
}

func (s *striped) Add(n int64) {
	var here byte
	i := (uint64(uintptr(unsafe.Pointer(&here))>>11) * 0x9e3779b97f4a7c15) >> 60
	s.cells[i].n.Add(n)
}

func (s *striped) Load() int64 {
	var t int64
	for i := range s.cells {
		t += s.cells[i].n.Load()
	}
	return t
}
