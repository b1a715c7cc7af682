package health

import (
	"context"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
)

// keepAliveServer is a fakeServer that records SetKeepAlivesEnabled.
type keepAliveServer struct {
	fakeServer
	off chan struct{} // closed when keep-alives are turned off
}

func (k *keepAliveServer) SetKeepAlivesEnabled(on bool) {
	if !on {
		close(k.off)
	}
}

// Drain turns keep-alives off when it starts, before its Delay, so
// clients holding connections reconnect (elsewhere) while it waits.
func TestDrainTurnsKeepAlivesOff(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		srv := &keepAliveServer{off: make(chan struct{})}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- Drain(ctx, srv, nil, DrainOptions{Delay: 3 * time.Second, Signals: []os.Signal{}, Logger: quiet})
		}()
		synctest.Wait()
		select {
		case <-srv.off:
			t.Fatal("keep-alives off before the drain started")
		default:
		}
		cancel()
		synctest.Wait()
		select {
		case <-srv.off:
		default:
			t.Fatal("keep-alives still on while draining")
		}
		srv.mu.Lock()
		early := !srv.at.IsZero()
		srv.mu.Unlock()
		if early {
			t.Fatal("shut down before Delay")
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// A second signal ends Drain's wait: the server shuts down at once.
func TestDrainSecondSignalEndsDelay(t *testing.T) {
	srv := &keepAliveServer{off: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		// SIGWINCH is ignored by default, so a stray one harms nothing.
		done <- Drain(ctx, srv, nil, DrainOptions{Delay: time.Hour, Signals: []os.Signal{syscall.SIGWINCH}, Logger: quiet})
	}()
	cancel() // the first "signal": the drain starts
	<-srv.off
	if err := syscall.Kill(os.Getpid(), syscall.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a second signal did not end the 1h Delay")
	}
}
