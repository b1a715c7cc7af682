package observe

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/internal/testenv"
)

var testPromSLOs = []PromSLO{
	{
		Name: "api-availability", Objective: 0.999,
		ErrorsQuery: `sum(rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[$window]))`,
		TotalQuery:  `sum(rate(http_server_request_duration_seconds_count[$window]))`,
		Labels:      map[string]string{"team": `web "core"`, "runbook": "https://example.com/slo?a=1&b=<2>\nline"},
	},
	{
		Name: "9 jobs", Objective: 0.99, MinEvents: -1,
		ErrorsQuery: `sum(rate(ladder_queue_outcomes_total{ladder_queue_outcome="failed"}[$window]))`,
		TotalQuery:  `sum(rate(ladder_queue_outcomes_total[$window]))`,
		Windows:     []BurnWindow{{"page", 90 * 60e9, 5 * 60e9, 10}},
	},
}

func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if testenv.Required() {
			t.Fatalf("promtool not found (Debian package prometheus; scripts/servers.sh installs it), but %s=required", testenv.EnvIntegration)
		}
		t.Skip("promtool not found: install Debian's prometheus package (scripts/test does)")
	}
	return p
}

func TestPrometheusRulesPassPromtool(t *testing.T) {
	out, err := PrometheusRules(testPromSLOs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"slo:sli_error:ratio_rate5m", "slo:sli_error:ratio_rate1h", "slo:sli_error:ratio_rate30m",
		"slo:sli_error:ratio_rate6h", "slo:sli_error:ratio_rate3d", "slo:sli_error:ratio_rate90m",
		"14.4", "api_availabilityErrorBudgetBurn", "SLO9_jobsErrorBudgetBurn", "* 3600 >= 100",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rules lack %q", want)
		}
	}
	file := filepath.Join(t.TempDir(), "slo.rules.yml")
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool(t), "check", "rules", file)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s\n--- rules:\n%s", err, b, out)
	}
}

// Prometheus itself evaluates the generated rules over a synthetic series
// (promtool test rules): a 2 % error rate pages through the 1 h / 5 m row,
// and traffic under the minimum-traffic guard does not.
func TestPrometheusRulesFireInPromtool(t *testing.T) {
	slo := PromSLO{
		Name: "api", Objective: 0.999,
		ErrorsQuery: `sum(rate(reqs_total{code="500"}[$window]))`,
		TotalQuery:  `sum(rate(reqs_total[$window]))`,
	}
	rules, err := PrometheusRules(slo)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slo.yml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	// Per minute: 980 good and 20 bad requests (burn 20×) on one instance;
	// 1 request a minute on another, all failing (under the guard on its own).
	tests := `rule_files: [slo.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'reqs_total{code="200"}'
        values: '0+980x120'
      - series: 'reqs_total{code="500"}'
        values: '0+20x120'
    alert_rule_test:
      - eval_time: 90m
        alertname: apiErrorBudgetBurn
        exp_alerts:
          - exp_labels: {severity: page, slo: api, long_window: 1h, short_window: 5m}
            exp_annotations: {summary: "SLO api burns its error budget at ≥ 14.4× over 1h and 5m"}
          - exp_labels: {severity: page, slo: api, long_window: 6h, short_window: 30m}
            exp_annotations: {summary: "SLO api burns its error budget at ≥ 6× over 6h and 30m"}
          - exp_labels: {severity: ticket, slo: api, long_window: 3d, short_window: 6h}
            exp_annotations: {summary: "SLO api burns its error budget at ≥ 1× over 3d and 6h"}
  - interval: 1m
    input_series:
      - series: 'reqs_total{code="500"}'
        values: '0+1x120'
    alert_rule_test:
      - eval_time: 90m
        alertname: apiErrorBudgetBurn
        exp_alerts: []
`
	if err := os.WriteFile(filepath.Join(dir, "slo_test.yml"), []byte(tests), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool(t), "test", "rules", "slo_test.yml")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s\n--- rules:\n%s", err, b, rules)
	}
}

func TestPrometheusRulesRejectBadInput(t *testing.T) {
	ok := testPromSLOs[0]
	for name, mut := range map[string]func(*PromSLO){
		"no name":         func(s *PromSLO) { s.Name = "" },
		"objective":       func(s *PromSLO) { s.Objective = 1.5 },
		"no $window":      func(s *PromSLO) { s.ErrorsQuery = "sum(rate(x[5m]))" },
		"bad label":       func(s *PromSLO) { s.Labels = map[string]string{"a-b": "x"} },
		"reserved label":  func(s *PromSLO) { s.Labels = map[string]string{"severity": "x"} },
		"inverted window": func(s *PromSLO) { s.Windows = []BurnWindow{{"page", 60e9, 120e9, 2}} },
	} {
		s := ok
		mut(&s)
		if _, err := PrometheusRules(s); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: %v, want ErrInvalidOptions", name, err)
		}
	}
	if _, err := PrometheusRules(ok, ok); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("duplicate names: %v", err)
	}
}
