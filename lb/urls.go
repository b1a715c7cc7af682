package lb

import (
	"fmt"
	"net/url"
)

// ParseBackends turns absolute http or https URLs into backends for a
// [Proxy] or [Transport] pool, named by their URL, and fails with
// ErrInvalidOptions naming the first invalid one.
func ParseBackends(rawURLs ...string) ([]Backend[*url.URL], error) {
	out := make([]Backend[*url.URL], 0, len(rawURLs))
	for i, raw := range rawURLs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return nil, fmt.Errorf("%w: backend %d: URL %q: must be an absolute http or https URL without credentials", ErrInvalidOptions, i, raw)
		}
		out = append(out, Backend[*url.URL]{Name: u.String(), Value: u})
	}
	return out, nil
}
