package queue

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// Meta is stored with the job as its args are: a producer copying request
// data into Meta cannot store megabytes per job past MaxArgsSize.
func TestOversizeMetaRejected(t *testing.T) {
	m, _ := NewMemory(MemoryOptions{})
	c, err := NewClient(m, ClientOptions{MaxArgsSize: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, meta := range map[string]map[string]string{
		"value": {"k": strings.Repeat("x", 2<<10)},
		"key":   {strings.Repeat("k", 2<<10): "v"},
		"many":  manyKeys(300),
	} {
		_, err := c.Enqueue(ctx, argsA{}, EnqueueOptions{Meta: meta})
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "Meta") {
			t.Errorf("Enqueue with a %s too large for MaxArgsSize 1 KiB: %v; want ErrTooLarge naming Meta", name, err)
		}
		_, err = c.EnqueueMany(ctx, []Request{{Args: argsA{}, Options: EnqueueOptions{Meta: meta}}})
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("EnqueueMany with a %s too large: %v; want ErrTooLarge", name, err)
		}
	}
	if _, err := c.Enqueue(ctx, argsA{}, EnqueueOptions{Meta: map[string]string{"k": "v"}}); err != nil {
		t.Fatalf("small Meta: %v", err)
	}
	if st, _ := m.Stats(ctx, DefaultQueue); st.Ready != 1 {
		t.Fatalf("Stats = %+v; want only the small job stored", st)
	}
}

func manyKeys(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[strings.Repeat("k", 4)+string(rune('a'+i%26))+strings.Repeat("z", i/26)] = "v"
	}
	return m
}
