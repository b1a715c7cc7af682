package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Probe checks one remote target once. It must return when ctx is done.
type Probe interface {
	Probe(ctx context.Context) error
}

// ProbeFunc adapts a function to [Probe].
type ProbeFunc func(ctx context.Context) error

// Probe calls f(ctx).
func (f ProbeFunc) Probe(ctx context.Context) error { return f(ctx) }

// HTTPProbeOptions configures [HTTPProbe]. The zero value is a GET expecting a
// 2xx or 3xx status, through the probe's own client and transport.
type HTTPProbeOptions struct {
	// Client sends the request. Nil means a client with its own
	// *http.Transport, so probes never share connections with traffic.
	// Redirects are never followed, with either client: a 3xx is judged as is.
	// Timeouts come from the Prober's context, not from the client.
	Client *http.Client
	// Method is the request method; "" means GET.
	Method string
	// Header is sent with every request (for example Host or a token).
	Header http.Header
	// MinStatus and MaxStatus bound the accepted response status, inclusive;
	// zero means 200 and 399.
	MinStatus, MaxStatus int
	// MaxBodyBytes caps how much of the response body is read (and
	// discarded, so the connection can be reused). Zero means 4096; a larger
	// body is not read further and its connection is dropped.
	MaxBodyBytes int64
}

// HTTPProbe returns a Probe that sends a request to rawURL and succeeds when
// the response status lies in the expected range. rawURL must be an absolute
// http or https URL.
func HTTPProbe(rawURL string, opts HTTPProbeOptions) (Probe, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, password included
		}
		return nil, invalid("HTTPProbe URL: %v", err)
	}
	if u.Host == "" {
		// Without a host, url.Parse did not read a user:password@ part, so
		// Redacted would show a password ("host:80" and "user:pw@host"
		// parse as a scheme and an opaque part): show nothing of the URL.
		return nil, invalid("HTTPProbe URL: no host: must be an absolute http or https URL (scheme://host/…)")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, invalid("HTTPProbe URL %q: must be an absolute http or https URL", u.Redacted())
	}
	p := &httpProbe{url: u.String(), shown: u.Redacted(), method: opts.Method, header: opts.Header.Clone(),
		min: opts.MinStatus, max: opts.MaxStatus, maxBody: opts.MaxBodyBytes}
	if p.method == "" {
		p.method = http.MethodGet
	}
	if p.min == 0 {
		p.min = 200
	}
	if p.max == 0 {
		p.max = 399
	}
	switch {
	case p.min < 100 || p.min > 999:
		return nil, invalid("HTTPProbe MinStatus %d: must be in 100..999", p.min)
	case p.max < p.min || p.max > 999:
		return nil, invalid("HTTPProbe MaxStatus %d: must be in MinStatus(%d)..999", p.max, p.min)
	case p.maxBody < 0:
		return nil, invalid("HTTPProbe MaxBodyBytes %d: must be ≥ 0", p.maxBody)
	case p.maxBody == 0:
		p.maxBody = 4096
	}
	if _, err := http.NewRequest(p.method, p.url, nil); err != nil {
		return nil, invalid("HTTPProbe Method %q: %v", p.method, err)
	}
	if opts.Client != nil {
		c := *opts.Client
		p.client = &c
	} else {
		p.transport = &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        1,
			MaxIdleConnsPerHost: 1,
			IdleConnTimeout:     90 * time.Second,
		}
		p.client = &http.Client{Transport: p.transport}
	}
	p.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return p, nil
}

type httpProbe struct {
	url       string
	shown     string // url without the password, for errors and logs
	method    string
	header    http.Header
	min, max  int
	maxBody   int64
	client    *http.Client
	transport *http.Transport // own transport, nil when the caller gave a Client
}

func (p *httpProbe) Probe(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, p.method, p.url, nil)
	if err != nil {
		return fmt.Errorf("health: probe %s: %w", p.shown, err)
	}
	for k, v := range p.header {
		req.Header[k] = v
	}
	if h := p.header.Get("Host"); h != "" {
		req.Host = h
	}
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, password included
		}
		return fmt.Errorf("health: probe %s: %w", p.shown, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, p.maxBody))
	_ = resp.Body.Close()
	if resp.StatusCode < p.min || resp.StatusCode > p.max {
		return fmt.Errorf("%w: probe %s: status %d not in %d..%d", ErrBadStatus, p.shown, resp.StatusCode, p.min, p.max)
	}
	return nil
}

// CloseIdleConnections closes the idle keep-alive connections of the probe's
// own transport (not those of a Client the caller gave). The Prober calls it
// when a target is removed or the Prober closes.
func (p *httpProbe) CloseIdleConnections() {
	if p.transport != nil {
		p.transport.CloseIdleConnections()
	}
}

// TCPProbe returns a Probe that succeeds when a TCP connection to addr
// (host:port) can be opened; the connection is closed at once.
func TCPProbe(addr string) Probe { return tcpProbe(addr) }

type tcpProbe string

func (a tcpProbe) Probe(ctx context.Context) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", string(a))
	if err != nil {
		return fmt.Errorf("health: probe tcp %s: %w", string(a), err)
	}
	return c.Close()
}
