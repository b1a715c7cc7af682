package cachecdn

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"time"
)

// assetRef finds the hashed asset URLs a page references.
var assetRef = regexp.MustCompile(`(?:href|src)="(/assets/[^"]+)"`)

// pageAssets returns the asset paths a page references.
func pageAssets(html []byte) []string {
	var out []string
	for _, m := range assetRef.FindAllSubmatch(html, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

// fetch GETs u and returns its status and body (up to 1 MiB).
func fetch(ctx context.Context, client *http.Client, u string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

// viewStats are page views: the page, then its assets in parallel, as a
// browser with an empty cache loads them (a new visitor).
type viewStats struct {
	Views, Failed int
	P50, P99      time.Duration
}

// pageViews runs visitors loading base's front page with its assets, until
// d passes or max views are done.
func pageViews(ctx context.Context, base string, visitors int, d time.Duration, max int) (viewStats, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: 4 * visitors, Proxy: nil}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	view := func() error {
		code, body, err := fetch(ctx, client, base+"/")
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("page: HTTP %d", code)
		}
		refs := pageAssets(body)
		if len(refs) == 0 {
			return fmt.Errorf("page references no assets")
		}
		errs := make([]error, len(refs))
		var wg sync.WaitGroup
		for i, ref := range refs {
			wg.Go(func() {
				code, _, err := fetch(ctx, client, base+ref)
				if err == nil && code != http.StatusOK {
					err = fmt.Errorf("%s: HTTP %d", ref, code)
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	}
	var (
		mu     sync.Mutex
		times  []time.Duration
		failed int
		n      int
	)
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for range visitors {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(end) {
				mu.Lock()
				if n >= max {
					mu.Unlock()
					return
				}
				n++
				mu.Unlock()
				start := time.Now()
				err := view()
				took := time.Since(start)
				mu.Lock()
				if err != nil {
					failed++
				} else {
					times = append(times, took)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return viewStats{}, err
	}
	slices.Sort(times)
	s := viewStats{Views: len(times) + failed, Failed: failed}
	if len(times) > 0 {
		s.P50 = times[len(times)*50/100]
		s.P99 = times[min(len(times)-1, len(times)*99/100)]
	}
	return s, nil
}
