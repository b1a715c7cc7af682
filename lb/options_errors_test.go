package lb_test

import (
	"errors"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/lb"
)

// TestInvalidOptionsErrors walks bad configurations of every lb constructor
// and validator: each error wraps ErrInvalidOptions, starts with
// "lb: invalid options: ", names the field, and never repeats "lb:".
func TestInvalidOptionsErrors(t *testing.T) {
	bs := backends("a,b")
	pool := func(o lb.PoolOptions) error {
		p, err := lb.NewPool(bs, o)
		if err == nil {
			p.Close()
		}
		return err
	}
	u, _ := url.Parse("http://127.0.0.1:1")
	urlPool, err := lb.NewPool([]lb.Backend[*url.URL]{{Value: u}}, lb.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer urlPool.Close()
	proxy := func(p *lb.Proxy) error { p.Pool = urlPool; return p.Validate() }
	transport := func(r lb.RetryOptions) error { return (&lb.Transport{Pool: urlPool, Retry: r}).Validate() }
	tests := []struct {
		field string
		err   error
	}{
		{"Overprovisioning", pool(lb.PoolOptions{Overprovisioning: -1})},
		{"MaxInFlight", pool(lb.PoolOptions{MaxInFlight: -1})},
		{"PanicThreshold", pool(lb.PoolOptions{PanicThreshold: 2})},
		{"Zones", pool(lb.PoolOptions{Zones: []string{"z", "z"}})},
		{"Outlier.BaseEjectionTime", pool(lb.PoolOptions{Outlier: lb.OutlierOptions{BaseEjectionTime: -1}})},
		{"Outlier.MaxEjectionTime", pool(lb.PoolOptions{Outlier: lb.OutlierOptions{MaxEjectionTime: time.Second}})},
		{"Outlier.MaxEjectedShare", pool(lb.PoolOptions{Outlier: lb.OutlierOptions{MaxEjectedShare: 2}})},
		{"SlowStart.Window", pool(lb.PoolOptions{SlowStart: lb.SlowStartOptions{Window: -1}})},
		{"SlowStart.Aggression", pool(lb.PoolOptions{SlowStart: lb.SlowStartOptions{Aggression: -1}})},
		{"SlowStart.MinWeight", pool(lb.PoolOptions{SlowStart: lb.SlowStartOptions{MinWeight: 2}})},
		{"PeakEWMA.Decay", pool(lb.PoolOptions{Policy: lb.PeakEWMA(lb.PeakEWMAOptions{Decay: -time.Second})})},
		{"PeakEWMA.Penalty", pool(lb.PoolOptions{Policy: lb.PeakEWMA(lb.PeakEWMAOptions{Penalty: -time.Second})})},
		{"Name", func() error { _, err := lb.NewPool(backends("a,a"), lb.PoolOptions{}); return err }()},
		{"Weight", func() error { _, err := lb.NewPool(backends("a", -1), lb.PoolOptions{}); return err }()},
		{"NewPool", new(lb.Pool[string]).Update(bs)},
		{"TrustedProxies", func() error { _, err := lb.ParseTrusted("10.0.0.0/33"); return err }()},
		{"URL", func() error { _, err := lb.ParseBackends("ftp://x"); return err }()},
		{"Retry.Attempts", proxy(&lb.Proxy{Retry: lb.RetryOptions{Attempts: -1}})},
		{"Retry.PerTryTimeout", proxy(&lb.Proxy{Retry: lb.RetryOptions{PerTryTimeout: -1}})},
		{"Retry.Budget", proxy(&lb.Proxy{Retry: lb.RetryOptions{Budget: 2000}})},
		{"Retry.MinRetries", proxy(&lb.Proxy{Retry: lb.RetryOptions{MinRetries: -1}})},
		{"Sticky.Key", proxy(&lb.Proxy{Sticky: &lb.StickyOptions{Key: []byte("short")}})},
		{"Sticky.Cookie", proxy(&lb.Proxy{Sticky: &lb.StickyOptions{Cookie: "a b"}})},
		{"Sticky.MaxAge", proxy(&lb.Proxy{Sticky: &lb.StickyOptions{MaxAge: -time.Second}})},
		{"EscapedSlashes", proxy(&lb.Proxy{EscapedSlashes: 7})},
		{"Retry.Budget", transport(lb.RetryOptions{Budget: math.NaN()})}, // < 0 turns retries off
		{"nil URL", func() error {
			p, err := lb.NewPool([]lb.Backend[*url.URL]{{Name: "x"}}, lb.PoolOptions{})
			if err != nil {
				return err
			}
			defer p.Close()
			prober, err := health.NewProber(health.ProberOptions{})
			if err != nil {
				return err
			}
			defer prober.Close()
			_, err = lb.ProbeHTTP(p, prober, "/healthz", health.HTTPProbeOptions{})
			return err
		}()},
	}
	for _, tt := range tests {
		switch msg := errString(tt.err); {
		case !errors.Is(tt.err, lb.ErrInvalidOptions):
			t.Errorf("%s: %v, want ErrInvalidOptions", tt.field, tt.err)
		case !strings.HasPrefix(msg, "lb: invalid options: "), strings.Count(msg, "lb:") != 1:
			t.Errorf("%s: %q, want the prefix once, sentinel first", tt.field, msg)
		case !strings.Contains(msg, tt.field):
			t.Errorf("%s: %q does not name the field", tt.field, msg)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
