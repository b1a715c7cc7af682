package session_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/sessiontest"
)

func newMemory(t *testing.T) *session.MemoryStore {
	t.Helper()
	s, err := session.NewMemoryStore(session.MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestMemoryStoreConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store { return newMemory(t) })
}

func TestMemoryStoreSweep(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		s, err := session.NewMemoryStore(session.MemoryOptions{CleanupInterval: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		now := time.Now()
		if err := s.Create(t.Context(), "a", session.Record{Created: now, Expires: now.Add(1500 * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Create(t.Context(), "b", session.Record{Created: now, Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Destroy(t.Context(), "c", 500*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if got := s.Len(); got != 3 {
			t.Fatalf("Len = %d, want 3", got)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := s.Len(); got != 1 {
			t.Fatalf("Len after sweep = %d, want 1 (only the live session)", got)
		}
	})
}

func TestMemoryStoreOptions(t *testing.T) {
	if _, err := session.NewMemoryStore(session.MemoryOptions{CleanupInterval: -1}); err == nil {
		t.Fatal("negative CleanupInterval accepted")
	}
}

func TestServersMemory(t *testing.T) {
	st := newMemory(t) // one process: both servers share the same memory store
	sessiontest.RunServers(t, func(t *testing.T) session.Store { return st })
}
