package health_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/health"
	"github.com/sony/gobreaker/v2"
)

// Every bad configuration is an ErrInvalidOptions error that names what is
// wrong and carries the package prefix once; a negative duration that is not
// documented as "turns it off" is rejected, never silently the default.
func TestInvalidOptionsErrors(t *testing.T) {
	okCheck := func(context.Context) error { return nil }
	checker := func(t *testing.T) *health.Checker {
		c, err := health.NewChecker(health.CheckerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	prober := func(t *testing.T) *health.Prober {
		p, err := health.NewProber(health.ProberOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	cases := []struct {
		name, want string
		run        func(t *testing.T) error
	}{
		{"checker timeout", "CheckerOptions.Timeout -1s", func(*testing.T) error {
			_, err := health.NewChecker(health.CheckerOptions{Timeout: -time.Second})
			return err
		}},
		{"checker interval", "CheckerOptions.Interval -1s", func(*testing.T) error {
			_, err := health.NewChecker(health.CheckerOptions{Interval: -time.Second})
			return err
		}},
		{"check empty name", "empty Name", func(t *testing.T) error {
			return checker(t).Add(health.Check{Func: okCheck})
		}},
		{"check nil func", `check "db": nil Func`, func(t *testing.T) error {
			return checker(t).Add(health.Check{Name: "db"})
		}},
		{"check timeout", `check "db": Timeout -1s`, func(t *testing.T) error {
			return checker(t).Add(health.Check{Name: "db", Func: okCheck, Timeout: -time.Second})
		}},
		{"prober interval", "ProberOptions.Interval -1s", func(*testing.T) error {
			_, err := health.NewProber(health.ProberOptions{Interval: -time.Second})
			return err
		}},
		{"prober timeout", "ProberOptions.Timeout -1s", func(*testing.T) error {
			_, err := health.NewProber(health.ProberOptions{Timeout: -time.Second})
			return err
		}},
		{"prober rise", "ProberOptions.Rise -1", func(*testing.T) error {
			_, err := health.NewProber(health.ProberOptions{Rise: -1})
			return err
		}},
		{"prober fall", "ProberOptions.Fall -2", func(*testing.T) error {
			_, err := health.NewProber(health.ProberOptions{Fall: -2})
			return err
		}},
		{"prober jitter", "ProberOptions.Jitter 2", func(*testing.T) error {
			_, err := health.NewProber(health.ProberOptions{Jitter: 2})
			return err
		}},
		{"prober add empty", "empty name", func(t *testing.T) error {
			return prober(t).Add("", health.TCPProbe("127.0.0.1:1"))
		}},
		{"prober add nil", `Prober.Add "x": nil probe`, func(t *testing.T) error {
			return prober(t).Add("x", nil)
		}},
		{"probe url", "HTTPProbe URL", func(*testing.T) error {
			_, err := health.HTTPProbe("/relative", health.HTTPProbeOptions{})
			return err
		}},
		{"probe status", "MinStatus 42", func(*testing.T) error {
			_, err := health.HTTPProbe("http://127.0.0.1/", health.HTTPProbeOptions{MinStatus: 42})
			return err
		}},
		{"probe body", "MaxBodyBytes -1", func(*testing.T) error {
			_, err := health.HTTPProbe("http://127.0.0.1/", health.HTTPProbeOptions{MaxBodyBytes: -1})
			return err
		}},
		{"throttle name", "empty name", func(*testing.T) error {
			_, err := health.NewThrottle("", health.ThrottleOptions{})
			return err
		}},
		{"throttle K", "ThrottleOptions.K 0.5", func(*testing.T) error {
			_, err := health.NewThrottle("t", health.ThrottleOptions{K: 0.5})
			return err
		}},
		{"throttle window", "ThrottleOptions.Window -1s", func(*testing.T) error {
			_, err := health.NewThrottle("t", health.ThrottleOptions{Window: -time.Second})
			return err
		}},
		{"gobreaker name", "empty name", func(*testing.T) error {
			_, err := health.NewGoBreaker("", health.GoBreakerOptions{})
			return err
		}},
		{"gobreaker buckets", "at most", func(*testing.T) error {
			_, err := health.NewGoBreaker("b", health.GoBreakerOptions{Settings: gobreaker.Settings{
				Interval: time.Hour, BucketPeriod: time.Nanosecond}})
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.run(t)
			if !errors.Is(err, health.ErrInvalidOptions) {
				t.Fatalf("err = %v, want ErrInvalidOptions", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "health: invalid options: ") || strings.Count(msg, "health:") != 1 {
				t.Errorf("message %q: want the prefix once, sentinel first", msg)
			}
			if !strings.Contains(msg, c.want) {
				t.Errorf("message %q does not name %q", msg, c.want)
			}
		})
	}
}

// Errors wrapping the package's other sentinels carry the prefix once too.
func TestSentinelErrorsPrefixOnce(t *testing.T) {
	c, err := health.NewChecker(health.CheckerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	chk := health.Check{Name: "db", Func: func(context.Context) error { return nil }}
	if err := c.Add(chk); err != nil {
		t.Fatal(err)
	}
	err = c.Add(chk)
	if !errors.Is(err, health.ErrDuplicate) || strings.Count(err.Error(), "health:") != 1 || !strings.Contains(err.Error(), `"db"`) {
		t.Errorf("duplicate: %v", err)
	}
	c.Close()
	err = c.Add(health.Check{Name: "other", Func: chk.Func})
	if !errors.Is(err, health.ErrClosed) || strings.Count(err.Error(), "health:") != 1 {
		t.Errorf("closed: %v", err)
	}
}
