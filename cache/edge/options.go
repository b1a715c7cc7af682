package edge

import (
	"log/slog"
	"net/http"
	"net/textproto"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Options configures a [Cache]. The zero value is right for most users.
type Options struct {
	// MaxBytes bounds the stored bytes (status line, headers and body of
	// every stored response); 0 → 256 MiB.
	MaxBytes int64
	// MaxObjectSize is the largest response stored; larger ones stream
	// through uncached. 0 → 16 MiB.
	MaxObjectSize int64
	// MaxVariants bounds the Vary variants stored for one URL (Traffic
	// Server's max_alts): a client sending random values of a field the
	// response varies on (Accept-Language, Cookie) replaces variants of
	// that URL instead of evicting every other object. 0 → 32.
	MaxVariants int
	// Name is this cache's name in Cache-Status; "" → "ladder".
	Name string
	// Targeted lists the targeted cache-control fields this cache obeys,
	// highest precedence first (RFC 9213); nil → []string{"CDN-Cache-Control"}.
	// An empty non-nil list obeys none.
	Targeted []string
	// StripTargeted removes the Targeted fields from responses sent
	// downstream (RFC 9213 §2.1 allows it).
	StripTargeted bool
	// Heuristic is the fraction of (Date − Last-Modified) used as the
	// heuristic freshness lifetime (RFC 9111 §4.2.2); 0 → 0.1; < 0 turns
	// heuristic freshness off.
	Heuristic float64
	// MaxHeuristic caps a heuristic lifetime; 0 → 24h.
	MaxHeuristic time.Duration
	// StaleIfError is the stale-if-error window applied when a response
	// names none; 0 → none. It never overrides must-revalidate,
	// proxy-revalidate, s-maxage or no-cache.
	StaleIfError time.Duration
	// OriginTimeout bounds the origin's silence during a fetch: until its
	// header, then between its body writes (a hung or trickling origin),
	// as Varnish's between_bytes_timeout and nginx's proxy_read_timeout
	// do; and how long a fill too large to store waits for clients that
	// have all stopped reading. It does not bound a whole download: a
	// large body streams to a slow client for as long as both keep
	// moving. 0 → 30s. Clients waiting for the header get 504 (or a stale
	// response stale-if-error allows) when it expires; a body cut short is
	// cut for every client and never stored. An origin handler that
	// ignores its request's context keeps running past it, and Close
	// waits for it.
	OriginTimeout time.Duration
	// SurrogateKeyHeader is the response field holding space-separated
	// surrogate keys; "" → "Surrogate-Key". It is removed downstream.
	SurrogateKeyHeader string
	// Key computes the primary cache key; nil → scheme://host/path?query
	// with the host lowercased and the default port dropped.
	Key func(*http.Request) string
	// Now drives Date, Age and every freshness decision; nil → time.Now.
	Now func() time.Time

	MeterProvider  metric.MeterProvider
	TracerProvider trace.TracerProvider
	Logger         *slog.Logger
}

// Validate reports the first invalid field.
func (o Options) Validate() error {
	switch {
	case o.MaxBytes < 0:
		return invalid("MaxBytes %d: must be ≥ 0", o.MaxBytes)
	case o.MaxObjectSize < 0:
		return invalid("MaxObjectSize %d: must be ≥ 0", o.MaxObjectSize)
	case o.MaxVariants < 0:
		return invalid("MaxVariants %d: must be ≥ 0", o.MaxVariants)
	case o.MaxHeuristic < 0:
		return invalid("MaxHeuristic %v: must be ≥ 0", o.MaxHeuristic)
	case o.StaleIfError < 0:
		return invalid("StaleIfError %v: must be ≥ 0", o.StaleIfError)
	case o.OriginTimeout < 0:
		return invalid("OriginTimeout %v: must be ≥ 0", o.OriginTimeout)
	case o.Heuristic > 1:
		return invalid("Heuristic %v: must be ≤ 1", o.Heuristic)
	}
	for i, f := range o.Targeted {
		if !validToken(f) {
			return invalid("Targeted[%d] %q: not a field name", i, f)
		}
	}
	if o.SurrogateKeyHeader != "" && !validToken(o.SurrogateKeyHeader) {
		return invalid("SurrogateKeyHeader %q: not a field name", o.SurrogateKeyHeader)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.MaxBytes == 0 {
		o.MaxBytes = 256 << 20
	}
	if o.MaxObjectSize == 0 {
		o.MaxObjectSize = 16 << 20
	}
	if o.MaxVariants == 0 {
		o.MaxVariants = 32
	}
	if o.Name == "" {
		o.Name = "ladder"
	}
	if o.Targeted == nil {
		o.Targeted = []string{"CDN-Cache-Control"}
	}
	ts := make([]string, len(o.Targeted))
	for i, f := range o.Targeted {
		ts[i] = textproto.CanonicalMIMEHeaderKey(f)
	}
	o.Targeted = ts
	if o.Heuristic == 0 {
		o.Heuristic = 0.1
	}
	if o.MaxHeuristic == 0 {
		o.MaxHeuristic = 24 * time.Hour
	}
	if o.OriginTimeout == 0 {
		o.OriginTimeout = 30 * time.Second
	}
	if o.SurrogateKeyHeader == "" {
		o.SurrogateKeyHeader = "Surrogate-Key"
	}
	o.SurrogateKeyHeader = textproto.CanonicalMIMEHeaderKey(o.SurrogateKeyHeader)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
