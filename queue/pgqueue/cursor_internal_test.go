package pgqueue

import (
	"errors"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
)

func FuzzDeadCursor(f *testing.F) {
	for _, s := range []string{"", ".", "1.2", "-1.5", "1796616206015978.3", "1.0", "x.y", "1.2.3",
		"99999999999999999999.1", "1.-2", formatCursor(time.Unix(1e9, 0), 42)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, id, err := parseCursor(s)
		if err != nil {
			if !errors.Is(err, queue.ErrInvalidOptions) {
				t.Fatalf("parseCursor(%q): %v does not wrap ErrInvalidOptions", s, err)
			}
			return
		}
		if id <= 0 {
			t.Fatalf("parseCursor(%q): id %d", s, id)
		}
		if back := formatCursor(at, id); back != s {
			// Only canonical forms round-trip ("+1.2", "01.2" parse too).
			if at2, id2, err := parseCursor(back); err != nil || !at2.Equal(at) || id2 != id {
				t.Fatalf("cursor %q → %v %d → %q does not parse back", s, at, id, back)
			}
		}
	})
}
