package shard

import (
	"errors"
	"strings"
	"testing"

	"github.com/buraksezer/consistent"
)

// A panic the up-front checks did not foresee is recovered into an error.
func TestConsistentLibraryPanicBecomesError(t *testing.T) {
	_, err := newRing([]string{"a"}, consistent.Config{Hasher: Hasher{}, PartitionCount: 271, ReplicationFactor: 1, Load: 1.25})
	if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), "not enough room") {
		t.Fatalf("err = %v, want ErrInvalidOptions carrying the panic", err)
	}
}
