package assets_test

import (
	"bytes"
	"runtime"
	"testing"
	"testing/fstest"

	"github.com/ladder-go/ladder/cache/assets"
)

// New holds each file once: checking a .gz sibling against its file
// streams the comparison instead of decompressing into a second copy.
func TestGzipCheckDoesNotCopyTheFile(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MB
	fsys := fstest.MapFS{"big.js": {Data: big}, "big.js.gz": {Data: gz(t, big)}}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	a, err := assets.New(fsys, assets.Options{})
	runtime.ReadMemStats(&m1)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// fstest.MapFS's ReadFile copies each file (16 MB + the small .gz);
	// a decompressed copy would add 16 MB more.
	if got := m1.TotalAlloc - m0.TotalAlloc; got > 24<<20 {
		t.Errorf("New allocated %d MB for a 16 MB file and its .gz", got>>20)
	}
}
