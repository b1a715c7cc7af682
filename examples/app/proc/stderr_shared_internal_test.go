package proc

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// Several children's output copiers write to the one Options.Stderr at
// once: the Group serialises them, so a plain bytes.Buffer is safe (go test
// -race reports the copiers' writes otherwise) and no line is torn.
func TestStderrSharedByChildren(t *testing.T) {
	var buf bytes.Buffer
	g, err := NewGroup(Options{Stderr: &buf})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b", "c", "d"} {
		w := &prefixWriter{w: g.opts.Stderr, prefix: "[" + name + "] "}
		wg.Go(func() {
			for range 200 {
				w.Write([]byte("line\n"))
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	for _, l := range lines {
		if len(l) != len("[a] line") || !strings.HasSuffix(l, "] line") {
			t.Fatalf("torn line %q", l)
		}
	}
}
