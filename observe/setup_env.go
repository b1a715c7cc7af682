package observe

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// env reads the OTEL_* variables Setup honours. The SDK and exporters
// read several of them too, but log a malformed value and carry on with a
// default (a silent no-op from the operator's side): Setup parses each one
// first and returns an error naming it.
type env struct {
	get func(string) (string, bool)
}

func (e env) lookup(name string) (string, bool) {
	v, ok := e.get(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

func envErr(name, value, why string) error {
	return fmt.Errorf("%w: %s %q: %s", ErrInvalidOptions, name, value, why)
}

// bool reads a boolean variable (true/false, any case).
func (e env) bool(name string) (bool, error) {
	v, ok := e.lookup(name)
	if !ok {
		return false, nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, envErr(name, v, "must be true or false")
}

// millis reads a duration in milliseconds (OTEL_METRIC_EXPORT_INTERVAL,
// OTEL_EXPORTER_OTLP_TIMEOUT); 0 when unset.
func (e env) millis(name string) (time.Duration, error) {
	v, ok := e.lookup(name)
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n > int64(24*time.Hour/time.Millisecond) {
		return 0, envErr(name, v, "must be a whole number of milliseconds in (0, 86400000]")
	}
	return time.Duration(n) * time.Millisecond, nil
}

// exporters reads OTEL_TRACES_EXPORTER or OTEL_METRICS_EXPORTER: a comma
// list of otlp, console, none (and, for metrics, prometheus, which Setup
// always serves).
func (e env) exporters(name string, metrics bool) (set map[string]bool, given bool, err error) {
	v, ok := e.lookup(name)
	if !ok {
		return nil, false, nil
	}
	set = map[string]bool{}
	for _, part := range strings.Split(v, ",") {
		switch p := strings.TrimSpace(strings.ToLower(part)); p {
		case "otlp", "console", "none":
			set[p] = true
		case "prometheus":
			if !metrics {
				return nil, true, envErr(name, v, "prometheus exports metrics only")
			}
			set[p] = true
		default:
			return nil, true, envErr(name, v, fmt.Sprintf("unknown exporter %q (want otlp, console or none)", p))
		}
	}
	if set["none"] && len(set) > 1 {
		return nil, true, envErr(name, v, "none cannot be combined with another exporter")
	}
	return set, true, nil
}

// sampler reads OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG; nil when
// unset.
func (e env) sampler() (sdktrace.Sampler, error) {
	raw, ok := e.lookup("OTEL_TRACES_SAMPLER")
	if !ok {
		return nil, nil
	}
	name := strings.ToLower(raw) // the switch below is case-insensitive: so is the argument's use
	ratio := 1.0
	if arg, ok := e.lookup("OTEL_TRACES_SAMPLER_ARG"); ok && strings.HasSuffix(name, "traceidratio") {
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 || r != r {
			return nil, envErr("OTEL_TRACES_SAMPLER_ARG", arg, "must be a ratio in [0, 1]")
		}
		ratio = r
	}
	switch name {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), nil
	case "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	}
	return nil, envErr("OTEL_TRACES_SAMPLER", raw, "unknown sampler (want always_on, always_off, traceidratio or their parentbased_ forms)")
}

// propagator reads OTEL_PROPAGATORS; nil when unset.
func (e env) propagator() (propagation.TextMapPropagator, error) {
	v, ok := e.lookup("OTEL_PROPAGATORS")
	if !ok {
		return nil, nil
	}
	var ps []propagation.TextMapPropagator
	for _, part := range strings.Split(v, ",") {
		switch p := strings.TrimSpace(strings.ToLower(part)); p {
		case "tracecontext":
			ps = append(ps, propagation.TraceContext{})
		case "baggage":
			ps = append(ps, propagation.Baggage{})
		case "none":
		default:
			return nil, envErr("OTEL_PROPAGATORS", v, fmt.Sprintf("unsupported propagator %q (want tracecontext, baggage or none)", p))
		}
	}
	return propagation.NewCompositeTextMapPropagator(ps...), nil
}

// endpoint checks an OTLP/HTTP endpoint: an http or https URL with a host.
// (The exporters log a malformed one and fall back to localhost:4318.)
func endpoint(name, v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil {
		return nil, envErr(name, v, "not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, envErr(name, v, "scheme must be http or https")
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, envErr(name, v, "no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, envErr(name, v, "bad port")
		}
	}
	if u.User != nil {
		return nil, envErr(name, "(redacted)", "credentials in the URL: use OTEL_EXPORTER_OTLP_HEADERS")
	}
	return u, nil
}

// headers parses OTEL_EXPORTER_OTLP_HEADERS: key=value pairs, comma
// separated, values URL-encoded (W3C baggage format without properties).
func headers(name, v string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t\r\n:") {
			// The value may be a secret: never echo it.
			return nil, fmt.Errorf("%w: %s: entry %d is not key=value", ErrInvalidOptions, name, len(out)+1)
		}
		dec, err := url.PathUnescape(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: value of %q is not URL-encoded", ErrInvalidOptions, name, k)
		}
		out[k] = dec
	}
	return out, nil
}
