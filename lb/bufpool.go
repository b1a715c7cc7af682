package lb

import "sync"

// copyBufSize is the size of the buffers response bodies are copied
// through: httputil.ReverseProxy's own, which it allocates (and the
// garbage collector then clears and collects) once per request when it
// has no BufferPool. At 64-byte responses that one buffer was four fifths
// of the bytes a proxied request allocated.
const copyBufSize = 32 << 10

// bufPool is an httputil.BufferPool of copyBufSize buffers. It stores
// pointers to arrays, so neither Get nor Put allocates.
type bufPool struct{ p sync.Pool }

var copyBufs = &bufPool{p: sync.Pool{New: func() any { return new([copyBufSize]byte) }}}

func (b *bufPool) Get() []byte { return b.p.Get().(*[copyBufSize]byte)[:] }

func (b *bufPool) Put(buf []byte) {
	if cap(buf) == copyBufSize {
		b.p.Put((*[copyBufSize]byte)(buf[:copyBufSize]))
	}
}
