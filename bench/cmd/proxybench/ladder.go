package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/ladder-go/ladder/lb"
)

// ladderProxy is lb.Proxy with its defaults (round robin, passive outlier
// ejection, retries of idempotent requests, the stall watch, its own
// transport) over the backends: what `&lb.Proxy{Pool: pool}` runs. Its
// default transport keeps the idle pool the bare ReverseProxy's transport
// is given here (256 per backend).
func ladderProxy(backends []string) (http.Handler, error) {
	var bs []lb.Backend[*url.URL]
	for _, b := range backends {
		u, err := url.Parse("http://" + b)
		if err != nil {
			return nil, fmt.Errorf("backend %q: %w", b, err)
		}
		bs = append(bs, lb.Backend[*url.URL]{Value: u})
	}
	pool, err := lb.NewPool(bs, lb.PoolOptions{})
	if err != nil {
		return nil, err
	}
	return &lb.Proxy{Pool: pool, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil
}
