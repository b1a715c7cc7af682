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
			return nil, fmt.Errorf("%w: backend %d: URL %s: must be an absolute http or https URL without credentials", ErrInvalidOptions, i, shownURL(u, err))
		}
		out = append(out, Backend[*url.URL]{Name: u.String(), Value: u})
	}
	return out, nil
}

// shownURL is what an error may show of a URL that failed parsing or
// checks: startup code logs such errors, so never its password or query
// (which may hold a token), and nothing of it without a host, since
// url.Parse then reads no userinfo ("user:pw@host:80" parses as a scheme
// and an opaque part).
func shownURL(u *url.URL, err error) string {
	if err != nil || u.Host == "" {
		return "(not shown)"
	}
	c := *u
	if c.RawQuery != "" {
		c.RawQuery = "[redacted]"
	}
	c.Fragment, c.RawFragment = "", ""
	return fmt.Sprintf("%q", c.Redacted())
}
