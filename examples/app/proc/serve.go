package proc

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Serve serves h on ln until ctx ends, then shuts down gracefully (in-flight
// requests get up to 5 s). The server has header, idle and write timeouts,
// so a slow client cannot hold it.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := NewServer(h)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}

// NewServer returns an http.Server for h with the timeouts every example
// uses.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
}

// ServeLocal serves h in this process on a free loopback port, in a
// goroutine that stop ends (gracefully, as Serve) and waits for. It returns
// the server's base URL ("http://127.0.0.1:port").
func ServeLocal(ctx context.Context, h http.Handler) (url string, stop func(), err error) {
	ln, _, err := Listen("")
	if err != nil {
		return "", nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = Serve(sctx, ln, h)
	}()
	return "http://" + ln.Addr().String(), func() { cancel(); <-done }, nil
}
