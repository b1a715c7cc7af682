package observe

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// A scaler action may take minutes (a server boots): meanwhile the status
// page, which reads the advisor's last report, must still answer. (A
// regression hangs here until the test binary's -timeout.)
func TestPageAnswersWhileAScalerActionRuns(t *testing.T) {
	f := newFakeService(t)
	f.step()
	running, release := make(chan struct{}), make(chan struct{})
	fire := false
	a, err := NewAdvisor(f.reader, AdvisorOptions{
		Rules:   []Rule{{ID: "always", Bottleneck: "b", Move: "m", Check: func(Signals) (bool, []Evidence) { return fire, nil }}},
		Scalers: []Scaler{{Name: "slow", Rule: "always", Sustain: 1, Up: func(context.Context) error { close(running); <-release; return nil }}},
		Logger:  discardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Evaluate(context.Background()); err != nil { // a first report
		t.Fatal(err)
	}
	p, err := NewPage(f.reader, PageOptions{Advisor: a, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	fire = true
	done := make(chan struct{})
	go func() { defer close(done); _, _ = a.Evaluate(context.Background()) }()
	<-running
	code, body := get(t, p, "/") // hangs here if the page waits for the action
	close(release)
	<-done
	if code != http.StatusOK || !strings.Contains(body, `id="advice"`) {
		t.Fatalf("page during an action: %d", code)
	}
}
