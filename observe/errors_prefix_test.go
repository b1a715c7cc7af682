package observe

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Every configuration error names the package once, the sentinel first.
func TestErrorsNamePackageOnce(t *testing.T) {
	up := func(context.Context) error { return nil }
	var errs []error
	_, err := NewAdvisor(nopCollector{}, AdvisorOptions{Scalers: []Scaler{{Name: "s", Rule: "r", Up: up, Sustain: -1}}})
	errs = append(errs, err)
	_, err = NewAdvisor(nopCollector{}, AdvisorOptions{Rules: []Rule{{ID: "x"}}})
	errs = append(errs, err)
	_, err = NewSLO("x", SLOOptions{Objective: 0.9, Windows: []BurnWindow{{"page", time.Hour, time.Minute, -1}}})
	errs = append(errs, err)
	_, err = PrometheusRules(PromSLO{Name: "x", Objective: 0.9, ErrorsQuery: "$window", TotalQuery: "$window",
		Windows: []BurnWindow{{"page", time.Minute, time.Hour, 1}}})
	errs = append(errs, err)
	_, err = NewPage(nopCollector{}, PageOptions{History: -2})
	errs = append(errs, err)
	_, err = Collect(context.Background(), failingCollector{})
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("no error")
		}
		msg := err.Error()
		if strings.Count(msg, "observe:") != 1 || !strings.HasPrefix(msg, "observe: ") {
			t.Errorf("%q: want one leading \"observe:\"", msg)
		}
	}
	if !errors.Is(errs[3], ErrInvalidOptions) || !strings.Contains(errs[3].Error(), "PromSLO[0].Windows[0]") {
		t.Errorf("%v: want the field path", errs[3])
	}
}

type failingCollector struct{}

func (failingCollector) Collect(context.Context, *metricdata.ResourceMetrics) error {
	return errors.New("reader shut down")
}

// Whatever names and labels a user passes, the generated rules stay one
// YAML document of the expected shape: every value is a quoted scalar on
// its own line, nothing a string holds can start a key or a list item.
func FuzzPrometheusRulesQuoting(f *testing.F) {
	f.Add("api", "team", "web \"core\"\nsummary: injected", `sum(rate(x{a="$window"}[$window]))`)
	f.Add("a: b", "x", "- y", "$window\n- record: evil")
	f.Add("ü🙂\u2028", "runbook", "\x00\t\r", "$window")
	line := regexp.MustCompile(`^(groups:|  - name: "[^\n]*"|    rules:|      - (record|alert): [A-Za-z0-9_:]+|        (expr|labels|annotations):( "[^\n]*")?|          [A-Za-z_][A-Za-z0-9_]*: "[^\n]*")$`)
	f.Fuzz(func(t *testing.T, name, key, value, query string) {
		out, err := PrometheusRules(PromSLO{Name: name, Objective: 0.99, ErrorsQuery: query, TotalQuery: query,
			Labels: map[string]string{key: value}})
		if err != nil {
			if !errors.Is(err, ErrInvalidOptions) {
				t.Fatalf("error %v does not wrap ErrInvalidOptions", err)
			}
			return
		}
		for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
			if !line.MatchString(l) {
				t.Fatalf("unexpected line %q in\n%s", l, out)
			}
		}
	})
}
