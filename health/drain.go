package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"syscall"
	"time"
)

// Shutdowner is what Drain stops; *http.Server is one.
type Shutdowner interface {
	Shutdown(ctx context.Context) error
}

// DrainOptions configures [Drain].
type DrainOptions struct {
	// Delay is how long readiness fails before the server stops accepting
	// connections, so balancers and probers notice and stop sending new
	// requests. It should exceed the balancer's probe interval × fall
	// threshold (with its jitter). Zero means 4s, which covers a default
	// [Prober] (Interval 1s ± 10%, Fall 3: Down within 3.3s) and keeps a
	// rolling restart short; raise it for balancers that probe less often
	// (Kubernetes endpoints with periodSeconds 10 and failureThreshold 3 need
	// more than 30s). A balancer that retries refused connections on another
	// backend, as lb.Proxy does, loses no request even if it notices late.
	// Negative is an error.
	Delay time.Duration
	// Timeout bounds the server's Shutdown, which waits for in-flight
	// requests; after it Drain returns the Shutdown error. Zero means 20s;
	// negative is an error.
	Timeout time.Duration
	// Signals start the drain; nil means SIGTERM and os.Interrupt, an empty
	// non-nil slice none (the drain then starts only when ctx is done).
	Signals []os.Signal
	// Logger logs the drain's steps; nil means slog.Default().
	Logger *slog.Logger
}

// Drain waits until ctx is done or one of opts.Signals arrives, then takes
// srv out of rotation without dropping requests:
//
//  1. readiness.Shutdown(): the readiness endpoint answers 503 from now on
//     (readiness may be nil if something else tells the balancer);
//  2. keep-alives off (when srv has SetKeepAlivesEnabled, as *http.Server
//     does): each response on a kept-alive connection now carries
//     "Connection: close", so clients and balancers holding connections open
//     reconnect, and their next requests go elsewhere once the balancer has
//     noticed, instead of riding the old connection until it is cut;
//  3. wait opts.Delay while balancers notice and in-flight requests go on (a
//     second signal ends the wait);
//  4. srv.Shutdown with a deadline of opts.Timeout: stop accepting, finish
//     the requests in flight, close idle connections.
//
// To drain on a call rather than a signal, cancel ctx. A nil srv (also a nil
// *http.Server), a nil signal or a negative Delay or Timeout is an
// ErrInvalidOptions error, returned at once. Drain returns nil after
// a clean shutdown, or the error of Shutdown (context.DeadlineExceeded if
// requests were still running at the deadline). It starts no goroutine that
// outlives it.
func Drain(ctx context.Context, srv Shutdowner, readiness *Checker, opts DrainOptions) error {
	if v := reflect.ValueOf(srv); srv == nil || (v.Kind() == reflect.Pointer && v.IsNil()) {
		// A nil *http.Server would panic only after the signal, mid-drain.
		return fmt.Errorf("%w: Drain: nil server", ErrInvalidOptions)
	}
	switch {
	case opts.Delay < 0:
		return fmt.Errorf("%w: DrainOptions.Delay %v: must be ≥ 0", ErrInvalidOptions, opts.Delay)
	case opts.Timeout < 0:
		return fmt.Errorf("%w: DrainOptions.Timeout %v: must be ≥ 0", ErrInvalidOptions, opts.Timeout)
	}
	for i, s := range opts.Signals {
		if s == nil { // signal.Stop spins forever on one
			return fmt.Errorf("%w: DrainOptions.Signals[%d]: nil", ErrInvalidOptions, i)
		}
	}
	if opts.Delay == 0 {
		opts.Delay = 4 * time.Second
	}
	if opts.Timeout == 0 {
		opts.Timeout = 20 * time.Second
	}
	if opts.Signals == nil {
		opts.Signals = []os.Signal{syscall.SIGTERM, os.Interrupt}
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	sigs := make(chan os.Signal, 1)
	if len(opts.Signals) > 0 {
		signal.Notify(sigs, opts.Signals...)
		defer signal.Stop(sigs)
	}
	select {
	case <-ctx.Done():
		log.Info("health: draining", "reason", "requested")
	case s := <-sigs:
		log.Info("health: draining", "reason", "signal", "signal", s.String())
	}
	if readiness != nil {
		readiness.Shutdown()
	}
	if ka, ok := srv.(interface{ SetKeepAlivesEnabled(bool) }); ok {
		// Clients that keep connections open get "Connection: close" on
		// their next response and reconnect, elsewhere.
		ka.SetKeepAlivesEnabled(false)
	}
	timer := time.NewTimer(opts.Delay)
	select {
	case <-timer.C:
	case <-sigs: // a second signal: stop waiting
		timer.Stop()
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.Timeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("health: Drain: shutdown: %w", err)
	}
	if err != nil {
		log.Warn("health: drain deadline passed with requests in flight", "timeout", opts.Timeout)
		return err
	}
	log.Info("health: drained")
	return nil
}
