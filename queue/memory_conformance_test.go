package queue_test

import (
	"testing"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/queuetest"
)

// The in-memory backend keeps every promise of queue.Backend. Both handles
// of a pair are the same Memory: one process shares one store.
func TestMemoryConformance(t *testing.T) {
	t.Parallel()
	queuetest.Run(t, func(t *testing.T) (a, b queue.Backend) {
		m, err := queue.NewMemory(queue.MemoryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return m, m
	}, queuetest.Options{})
}
