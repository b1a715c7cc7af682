package sessiontest

import (
	"errors"
	"testing"

	"github.com/ladder-go/ladder/session"
)

func testApplyMaxSize(t *testing.T, s session.Store) {
	key := Key()
	// 1+5 + 1+5 bytes: "a"="12345", "b"="12345"
	mustCreate(t, s, key, record(map[string]string{"a": "12345", "b": "12345"}, ""))
	big := session.Update{Set: map[string][]byte{"c": []byte("1234567890")}, MaxSize: 20}
	if err := s.Apply(t.Context(), key, big); !errors.Is(err, session.ErrTooLarge) {
		t.Fatalf("Apply over MaxSize: err = %v, want ErrTooLarge", err)
	}
	wantValues(t, mustLoad(t, s, key), map[string]string{"a": "12345", "b": "12345"})
	// Replacing and deleting count: 1+5 + 1+10 = 17 ≤ 20.
	ok := session.Update{Set: map[string][]byte{"a": []byte("12345"), "c": []byte("1234567890")}, Delete: []string{"b"}, MaxSize: 20}
	if err := s.Apply(t.Context(), key, ok); err != nil {
		t.Fatalf("Apply within MaxSize: %v", err)
	}
	wantValues(t, mustLoad(t, s, key), map[string]string{"a": "12345", "c": "1234567890"})
	// Multi-byte keys count in bytes: "é" is 2.
	if err := s.Apply(t.Context(), key, session.Update{Set: map[string][]byte{"é": []byte("x")}, MaxSize: 19}); !errors.Is(err, session.ErrTooLarge) {
		t.Fatalf("Apply of a 3-byte entry to a 17-byte session with MaxSize 19: err = %v, want ErrTooLarge", err)
	}
	if err := s.Apply(t.Context(), key, session.Update{Set: map[string][]byte{"é": []byte("x")}, MaxSize: 20}); err != nil {
		t.Fatalf("Apply to exactly MaxSize: %v", err)
	}
}
