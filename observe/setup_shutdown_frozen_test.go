package observe_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/observe"
)

// A collector that accepts and never answers: Shutdown gives up when its
// ctx ends, well before the exporters' own 10 s timeout and retries.
func TestSetupShutdownHonoursCtxWithAFrozenCollector(t *testing.T) {
	cleanEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never read
			mu.Unlock()
		}
	}()
	defer func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	tel, err := observe.Setup(context.Background(), observe.SetupOptions{OTLPEndpoint: "http://" + ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tel.TracerProvider.Tracer("test").Start(context.Background(), "work")
	span.End()
	c, _ := tel.MeterProvider.Meter("test").Int64Counter("ladder.test.frozen")
	c.Add(context.Background(), 1)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = tel.Shutdown(ctx)
	if took := time.Since(start); took > 8*time.Second {
		t.Fatalf("Shutdown took %v with a 500ms ctx", took)
	}
	if err == nil {
		t.Error("Shutdown reported success though nothing reached the collector")
	}
	if err2 := tel.Shutdown(context.Background()); err2 != err {
		t.Errorf("second Shutdown %v, want the first's %v", err2, err)
	}
}
