package load_test

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/examples/app/load"
)

func server(t *testing.T) string {
	t.Helper()
	db, err := app.OpenSQLite(filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, err := app.NewSQLStore(db, nil, app.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Config{Store: store, SessionOptions: app.LoopbackSessionOptions(), KDFIterations: app.MinKDFIterations})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(func() { srv.Close(); a.Close() })
	return srv.URL
}

func TestStepsAreBoundedAndMeasured(t *testing.T) {
	url := server(t)
	var before, after []int
	res, err := load.Run(context.Background(), load.Options{
		BaseURL: url, Users: 3,
		Steps:      []load.Step{{Workers: 2, Duration: 5 * time.Second, MaxRequests: 40}, {Workers: 5, Duration: 5 * time.Second, MaxRequests: 60}},
		Mix:        load.Mix{Post: 1, Feed: 1, UserPosts: 1},
		BeforeStep: func(n int, _ load.Step) { before = append(before, n) },
		OnStep:     func(s load.StepResult) { after = append(after, s.Step) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Setup.Requests != 3 || res.Setup.Errors != 0 {
		t.Fatalf("setup %+v", res.Setup)
	}
	if len(res.Steps) != 2 || res.Steps[0].Requests != 40 || res.Steps[1].Requests != 60 {
		t.Fatalf("steps did not stop at MaxRequests: %+v", res.Steps)
	}
	for _, s := range res.Steps {
		if s.Errors != 0 || s.P50 <= 0 || s.P99 < s.P50 || s.Max < s.P99 || s.Throughput <= 0 {
			t.Fatalf("step %d: %+v", s.Step, s.Stats)
		}
	}
	// Workers beyond Users logged in first (the mix posts).
	if res.Steps[1].ByOp[load.OpLogin].Requests != 2 {
		t.Fatalf("step 2 logins: %+v", res.Steps[1].ByOp)
	}
	if len(before) != 2 || len(after) != 2 {
		t.Fatalf("hooks: before %v, after %v", before, after)
	}
	total := 0
	for _, s := range res.Timeline {
		total += s.Requests
	}
	if total != 100 {
		t.Fatalf("timeline holds %d requests, want 100", total)
	}
	var sb strings.Builder
	if err := res.WriteTable(&sb); err != nil || !strings.Contains(sb.String(), "workers") {
		t.Fatalf("table %q, %v", sb.String(), err)
	}
}

func TestStepEndsAtItsDuration(t *testing.T) {
	url := server(t)
	res, err := load.Run(context.Background(), load.Options{
		BaseURL: url, Users: 1,
		Steps: []load.Step{{Workers: 1, Duration: 200 * time.Millisecond, MaxRequests: 10_000_000}},
		Think: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Steps[0].Requests; n == 0 || n > 30 {
		t.Fatalf("%d requests in a 200 ms step with 10 ms think time", n)
	}
}

func TestServerDownIsAClearError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = load.Run(context.Background(), load.Options{BaseURL: "http://" + addr, Steps: load.Rising(1, 1, 1, time.Second, 10)})
	if err == nil || !strings.Contains(err.Error(), "every signup of the setup failed") {
		t.Fatalf("error %v", err)
	}
}

func TestBadOptions(t *testing.T) {
	ok := load.Step{Workers: 1, Duration: time.Second, MaxRequests: 1}
	for _, o := range []load.Options{
		{BaseURL: "ftp://x", Steps: []load.Step{ok}},
		{BaseURL: "http://127.0.0.1:1"},
		{BaseURL: "http://127.0.0.1:1", Steps: []load.Step{{Workers: 1, MaxRequests: 1}}},
		{BaseURL: "http://127.0.0.1:1", Steps: []load.Step{{Workers: 1, Duration: time.Second}}},
		{BaseURL: "http://127.0.0.1:1", Steps: []load.Step{ok}, Mix: load.Mix{Feed: -1}},
		{BaseURL: "http://127.0.0.1:1", Steps: []load.Step{ok}, Think: -time.Second},
	} {
		if _, err := load.Run(context.Background(), o); !errors.Is(err, load.ErrInvalidOptions) {
			t.Errorf("%+v: %v, want ErrInvalidOptions", o, err)
		}
	}
}

func TestBackgroundWindowsSplitAtAFault(t *testing.T) {
	url := server(t)
	bg := load.Start(context.Background(), load.Options{
		BaseURL: url, Users: 2, Interval: 20 * time.Millisecond,
		Steps: []load.Step{{Workers: 2, Duration: 300 * time.Millisecond, MaxRequests: 1_000_000}},
	})
	if err := bg.WaitStarted(); err != nil {
		t.Fatal(err)
	}
	mid := time.Now()
	res, err := bg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	at := res.Since(mid)
	all, before, after := res.Window(0, 0), res.Window(0, at), res.Window(at, 0)
	if all.Requests != res.Steps[0].Requests || before.Requests+after.Requests > all.Requests || before.Requests == 0 && after.Requests == 0 {
		t.Fatalf("all %+v, before %+v, after %+v, step %d", all, before, after, res.Steps[0].Requests)
	}
}

func TestBackgroundReportsASetupFailure(t *testing.T) {
	bg := load.Start(context.Background(), load.Options{BaseURL: "http://127.0.0.1:1", Steps: load.Rising(1, 1, 1, time.Second, 1)})
	if err := bg.WaitStarted(); err == nil {
		t.Fatal("no error from a run whose setup failed")
	}
	if _, err := bg.Wait(); err == nil {
		t.Fatal("Wait: no error")
	}
}
