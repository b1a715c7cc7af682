package observe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// PromSLO describes an SLO for [PrometheusRules]: the same windows as the
// in-process [SLO], evaluated by Prometheus over the series the exporter
// publishes.
type PromSLO struct {
	// Name labels every rule (slo="…") and names the alert (<Name>ErrorBudgetBurn
	// after turning it into an identifier).
	Name      string
	Objective float64
	// ErrorsQuery and TotalQuery are PromQL rates with $window where the range
	// goes, e.g.
	//   sum(rate(http_server_request_duration_seconds_count{error_type!=""}[$window]))
	// ([Middleware] sets error.type on 5xx answers and on panics, which
	// have no status code).
	ErrorsQuery, TotalQuery string
	// Windows; nil → WorkbookWindows.
	Windows []BurnWindow
	// MinEvents: the long window must hold at least this many events to
	// alert (the minimum-traffic guard); 0 → 100; < 0 turns it off.
	MinEvents int64
	// Labels are added to the alerts (team, runbook…).
	Labels map[string]string
}

var (
	promLabelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	notIdent      = regexp.MustCompile(`[^a-zA-Z0-9_]+`)
)

// PrometheusRules returns a Prometheus rules file (YAML) with, per SLO, one
// recording rule group (error ratio and total rate per window) and one
// alerting group (a multi-window, multi-burn-rate alert per window row with
// the minimum-traffic guard). Check it with `promtool check rules`.
func PrometheusRules(slos ...PromSLO) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("groups:\n")
	names := map[string]bool{}
	for i, s := range slos {
		if err := s.validate(i); err != nil {
			return nil, err
		}
		if names[s.Name] {
			return nil, fmt.Errorf("%w: PromSLO[%d].Name %q: duplicate", ErrInvalidOptions, i, s.Name)
		}
		names[s.Name] = true
		if s.Windows == nil {
			s.Windows = WorkbookWindows
		}
		if s.MinEvents == 0 {
			s.MinEvents = 100
		}
		writeRecording(&b, s)
		writeAlerts(&b, s)
	}
	return b.Bytes(), nil
}

func (s PromSLO) validate(i int) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: PromSLO[%d].%s", ErrInvalidOptions, i, fmt.Sprintf(format, a...))
	}
	switch {
	case s.Name == "":
		return bad("Name empty")
	case !(s.Objective > 0 && s.Objective < 1):
		return bad("Objective %v: must be in (0, 1)", s.Objective)
	case !strings.Contains(s.ErrorsQuery, "$window"):
		return bad("ErrorsQuery %q: has no $window", s.ErrorsQuery)
	case !strings.Contains(s.TotalQuery, "$window"):
		return bad("TotalQuery %q: has no $window", s.TotalQuery)
	}
	for k := range s.Labels {
		if !promLabelName.MatchString(k) || k == "slo" || k == "severity" || strings.HasPrefix(k, "__") {
			return bad("Labels key %q: not a free Prometheus label name", k)
		}
	}
	return validateWindows(fmt.Sprintf("PromSLO[%d].Windows", i), s.Windows, 0)
}

// promDuration writes d in Prometheus's duration syntax with its largest
// whole unit (3d, 6h, 30m, 90s).
func promDuration(d time.Duration) string {
	for _, u := range []struct {
		d time.Duration
		s string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.s
		}
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// q quotes s as a YAML double-quoted scalar (JSON strings are valid YAML).
func q(s string) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func windowsOf(s PromSLO) []time.Duration {
	seen := map[time.Duration]bool{}
	var out []time.Duration
	for _, w := range s.Windows {
		for _, d := range []time.Duration{w.Short, w.Long} {
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func writeRecording(b *bytes.Buffer, s PromSLO) {
	fmt.Fprintf(b, "  - name: %s\n    rules:\n", q("slo:"+s.Name+":recording"))
	for _, d := range windowsOf(s) {
		w := promDuration(d)
		errs := strings.ReplaceAll(s.ErrorsQuery, "$window", w)
		total := strings.ReplaceAll(s.TotalQuery, "$window", w)
		fmt.Fprintf(b, "      - record: slo:sli_error:ratio_rate%s\n        expr: %s\n        labels:\n          slo: %s\n",
			w, q("("+errs+")\n/\n("+total+")"), q(s.Name))
		fmt.Fprintf(b, "      - record: slo:sli_total:rate%s\n        expr: %s\n        labels:\n          slo: %s\n",
			w, q(total), q(s.Name))
	}
}

func writeAlerts(b *bytes.Buffer, s PromSLO) {
	fmt.Fprintf(b, "  - name: %s\n    rules:\n", q("slo:"+s.Name+":alerts"))
	alert := strings.Trim(notIdent.ReplaceAllString(s.Name, "_"), "_") + "ErrorBudgetBurn"
	if alert[0] >= '0' && alert[0] <= '9' {
		alert = "SLO" + alert
	}
	sel := "{slo=" + strconv.Quote(s.Name) + "}" // PromQL string literal
	budget := 1 - s.Objective
	keys := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, w := range s.Windows {
		long, short := promDuration(w.Long), promDuration(w.Short)
		thr := strconv.FormatFloat(w.Factor*budget, 'g', -1, 64)
		expr := fmt.Sprintf("slo:sli_error:ratio_rate%s%s > %s\nand\nslo:sli_error:ratio_rate%s%s > %s",
			long, sel, thr, short, sel, thr)
		if s.MinEvents > 0 {
			expr += fmt.Sprintf("\nand\nslo:sli_total:rate%s%s * %d >= %d",
				long, sel, int64(w.Long/time.Second), s.MinEvents)
		}
		fmt.Fprintf(b, "      - alert: %s\n        expr: %s\n        labels:\n          severity: %s\n          slo: %s\n          long_window: %s\n          short_window: %s\n",
			alert, q(expr), q(w.Severity), q(s.Name), q(long), q(short))
		for _, k := range keys {
			fmt.Fprintf(b, "          %s: %s\n", k, q(s.Labels[k]))
		}
		fmt.Fprintf(b, "        annotations:\n          summary: %s\n",
			q(fmt.Sprintf("SLO %s burns its error budget at ≥ %v× over %s and %s", s.Name, w.Factor, long, short)))
	}
}
