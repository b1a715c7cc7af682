package lb_test

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// TestProxyValidate: a bad configuration is reported by Validate, before
// any request, and the first Validate freezes the configuration: a later
// change is ignored, so the result does not change either.
func TestProxyValidate(t *testing.T) {
	bs := lbtest.Start(t, 1)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	for name, p := range map[string]*lb.Proxy{
		"Retry.Budget":   {Pool: pool, Logger: quiet, Retry: lb.RetryOptions{Budget: 2000}},
		"Sticky.Key":     {Pool: pool, Logger: quiet, Sticky: &lb.StickyOptions{Key: []byte("fifteen bytes!!")}},
		"Retry.Attempts": {Pool: pool, Logger: quiet, Retry: lb.RetryOptions{Attempts: -1}},
	} {
		if err := p.Validate(); !errors.Is(err, lb.ErrInvalidOptions) {
			t.Errorf("%s: Validate = %v, want ErrInvalidOptions", name, err)
		}
		p.Retry, p.Sticky = lb.RetryOptions{}, nil // too late: frozen
		if err := p.Validate(); !errors.Is(err, lb.ErrInvalidOptions) {
			t.Errorf("%s: second Validate = %v, want the first result", name, err)
		}
		w := httptest.NewRecorder()
		p.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if w.Code != 500 {
			t.Errorf("%s: request answered %d, want 500", name, w.Code)
		}
	}
	good := &lb.Proxy{Pool: pool, Logger: quiet, Sticky: &lb.StickyOptions{Key: []byte("sixteen bytes!!!")}}
	if err := good.Validate(); err != nil {
		t.Errorf("valid proxy: %v", err)
	}
}

// TestTransportValidate: the same for Transport.
func TestTransportValidate(t *testing.T) {
	bs := lbtest.Start(t, 1)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	tr := &lb.Transport{Pool: pool, Retry: lb.RetryOptions{MinRetries: 2e6}}
	if err := tr.Validate(); !errors.Is(err, lb.ErrInvalidOptions) {
		t.Errorf("Validate = %v, want ErrInvalidOptions", err)
	}
	tr.Retry = lb.RetryOptions{}
	if err := tr.Validate(); !errors.Is(err, lb.ErrInvalidOptions) {
		t.Errorf("second Validate = %v, want the first result", err)
	}
	if err := (&lb.Transport{Pool: pool}).Validate(); err != nil {
		t.Errorf("valid transport: %v", err)
	}
}
