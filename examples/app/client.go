package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/ladder-go/ladder/session"
)

// LoopbackSessionOptions are the session options of the examples, which
// serve plain HTTP on loopback: the cookie drops its Secure attribute. Never
// use them behind a public listener; there, keep session.Options' defaults
// (Secure) and prefer the "__Host-session" cookie name.
func LoopbackSessionOptions() session.Options {
	return session.Options{Insecure: true}
}

// ReadFeed asks the application at baseURL for its feed (GET /api/feed):
// for drills and tests that check what a reader sees.
func ReadFeed(ctx context.Context, c *http.Client, baseURL string, limit int) ([]Post, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/api/feed?limit="+strconv.Itoa(limit), nil)
	if err != nil {
		return nil, fmt.Errorf("app: feed: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("app: feed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("app: feed: HTTP %d", resp.StatusCode)
	}
	var out struct{ Posts []Post }
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("app: feed: %w", err)
	}
	return out.Posts, nil
}
