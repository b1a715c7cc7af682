package proc_test

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ladder-go/ladder/examples/app/proc"
)

// A parent killed by SIGKILL runs no cleanup: its children must die with it
// (Pdeathsig), leaving nothing behind.
func TestGrandchildDiesWithItsKilledParent(t *testing.T) {
	g := newGroup(t, proc.Options{})
	mid, err := g.Start(context.Background(), proc.Spec{Role: "middle"})
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(mid.Addr())
	if err != nil {
		t.Fatalf("middle announced %q", mid.Addr())
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("grandchild %d not running: %v", pid, err)
	}
	if err := syscall.Kill(mid.Pid(), syscall.SIGKILL); err != nil { // the parent only, not its group
		t.Fatal(err)
	}
	<-mid.Done()
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("grandchild %d outlived its SIGKILLed parent", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
