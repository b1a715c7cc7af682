package observe

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, h http.Handler, target string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

func TestPageShowsOnlySectionsWhoseInstrumentsReport(t *testing.T) {
	f := newFakeService(t)
	empty, err := NewPage(newFakeService(t).reader, PageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	code, body := get(t, empty, "/")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	for _, id := range []string{`id="golden"`, `id="backends"`, `id="queues"`, `id="cache"`, `id="shards"`, `id="advice"`} {
		if strings.Contains(body, id) {
			t.Errorf("empty service page has %s", id)
		}
	}

	now := time0
	p, _ := NewPage(f.reader, PageOptions{Now: func() time.Time { return now }, Interval: time.Second})
	for range 4 {
		f.step()
		if _, _, err := p.Sample(context.Background()); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	_, body = get(t, p, "/")
	for _, want := range []string{
		`id="golden"`, `data-signal="http.requests.rate"`, `data-signal="http.errors.ratio"`, `data-signal="http.latency.p99"`,
		`data-signal="http.active_requests"`, `data-signal="queue.ready"`, `data-signal="cache.hit_ratio"`,
		`id="backends"`, "web-1:8080", `id="health"`, `id="breakers"`, ">open<", `id="cache"`, "users",
		`id="queues"`, "mail", `id="replicas"`, "replica-b", `id="shards"`, "shard-c", "<polyline points=",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Names come from outside: escaped, never markup.
	if strings.Contains(body, "web-<3>") || !strings.Contains(body, "web-&lt;3&gt;:8080") {
		t.Error("backend name not escaped")
	}
	// No actions registered and no Authorize: no buttons.
	if strings.Contains(body, "<button") {
		t.Error("buttons without registered actions")
	}
}

func TestPageShowsAdviceSLOsAndHotKeys(t *testing.T) {
	f := newFakeService(t)
	now := time0
	clock := func() time.Time { return now }
	a, _ := NewAdvisor(f.reader, AdvisorOptions{Now: clock})
	slo, _ := NewSLO(`checkout <api>`, SLOOptions{Objective: 0.999, Now: clock})
	slo.Add(10000, 500)
	p, _ := NewPage(f.reader, PageOptions{Advisor: a, SLOs: []*SLO{slo}, Now: clock,
		HotKeys: func() []HotKey { return []HotKey{{Key: `user:<script>alert(1)</script>`, Shard: "shard-c", Rate: 180}} }})
	_, body := get(t, p, "/")
	if !strings.Contains(body, "No evaluation yet") {
		t.Error("advisor section before any evaluation")
	}
	for range 2 {
		f.step()
		if _, err := a.Evaluate(context.Background()); err != nil {
			t.Fatal(err)
		}
		now = now.Add(10 * time.Second)
	}
	_, body = get(t, p, "/")
	for _, want := range []string{
		"replicas lag behind the primary", "replica.lag 6.5 ≥ 5", "one shard is hot", "shard.skew 2.6 ≥ 2",
		`id="slos"`, "checkout &lt;api&gt;", "page 14.4× · 1h / 5m", `<span class="bad">page</span>`,
		`id="hotkeys"`, "user:&lt;script&gt;alert(1)&lt;/script&gt;",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Error("unescaped script")
	}
}

func TestPageHistoryIsBounded(t *testing.T) {
	f := newFakeService(t)
	now := time0
	p, _ := NewPage(f.reader, PageOptions{History: 3, Interval: time.Second, Now: func() time.Time { return now }})
	for range 10 {
		f.step()
		now = now.Add(time.Second)
		_, _, _ = p.Sample(context.Background())
	}
	h := p.hist.all()
	if len(h) != 3 || !h[0].At.Before(h[2].At) || !h[2].At.Equal(time0.Add(10*time.Second)) {
		t.Fatalf("history %d samples, %v … %v", len(h), h[0].At, h[len(h)-1].At)
	}
	// Sampling faster than Interval adds nothing.
	_, _, _ = p.Sample(context.Background())
	if got := p.hist.all(); !got[2].At.Equal(h[2].At) {
		t.Error("a sample inside the interval was kept")
	}
}

func TestPageRunSamplesUntilCancelled(t *testing.T) {
	f := newFakeService(t)
	p, _ := NewPage(f.reader, PageOptions{Interval: time.Millisecond, History: 4})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	for {
		f.step()
		p.mu.Lock()
		n := len(p.hist.all())
		p.mu.Unlock()
		if n == 4 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run returned %v", err)
	}
}

func TestPageSurvivesPanickingHotKeys(t *testing.T) {
	f := newFakeService(t)
	f.step()
	p, _ := NewPage(f.reader, PageOptions{Logger: discardLogger(), HotKeys: func() []HotKey { panic("hot keys bug") }})
	code, body := get(t, p, "/")
	if code != 200 || !strings.Contains(body, `id="shards"`) || strings.Contains(body, `id="hotkeys"`) {
		t.Fatalf("status %d, shards shown %v", code, strings.Contains(body, `id="shards"`))
	}
}
