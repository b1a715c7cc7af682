package health_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ladder-go/ladder/health"
)

func ExampleProber() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer backend.Close()

	p, err := health.NewProber(health.ProberOptions{Interval: time.Second, Rise: 2, Fall: 3})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	changes, unsubscribe := p.Subscribe(16)
	defer unsubscribe()

	probe, err := health.HTTPProbe(backend.URL+"/healthz", health.HTTPProbeOptions{})
	if err != nil {
		panic(err)
	}
	if err := p.Add("backend-1", probe); err != nil {
		panic(err)
	}
	tr := <-changes
	fmt.Println(tr.Name, tr.From, "→", tr.To)
	st, _ := p.Status("backend-1")
	fmt.Println(st)
	// Output:
	// backend-1 unknown → up
	// up
}
