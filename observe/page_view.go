package observe

import (
	"sort"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// The status page's view: built from one snapshot, the chart history, the
// advisor's last report and the SLOs. Every section is nil when the
// instruments it reads did not report, so a package shows up on the page as
// soon as it records, with no wiring.
type pageView struct {
	Title    string
	At       time.Time
	Refresh  int // seconds; 0: no auto-refresh
	Flash    string
	FlashBad bool
	Token    string // CSRF token for action forms
	CanAct   bool

	Charts   []chartView
	Backends *tableView
	Health   *tableView
	Breakers *tableView
	Cache    *tableView
	Queues   *tableView
	Replicas *tableView
	Shards   *shardView
	SLOs     []SLOStatus
	Advice   *adviceView
	Actions  []actionView // registered actions with no row of their own
}

type tableView struct {
	Head   []string
	Rows   []rowView
	ActCol bool // the last column holds action buttons
	More   int  // rows left out (see maxSectionRows)
}

// maxSectionRows bounds each section of the page: a fleet (or a
// misconfigured attribute) with thousands of series must not make a page
// of thousands of rows, nor the quadratic work of building them. The
// section says how many it left out.
const maxSectionRows = 100

// capRows keeps the first maxSectionRows names and counts the rest.
func capRows(names []string) ([]string, int) {
	if len(names) <= maxSectionRows {
		return names, 0
	}
	return names[:maxSectionRows], len(names) - maxSectionRows
}

type rowView struct {
	Cells  []cellView
	Action *actionView // a button at the end of the row
}

type cellView struct {
	Text  string
	Class string // "ok", "warn", "bad", "num" or ""
}

type actionView struct {
	Name, Label, Target, Token string
}

type shardView struct {
	Skew    string
	Class   string
	Bars    []barView
	More    int // bars left out
	HotKeys []HotKey
	HotMore int // hot keys left out
}

type barView struct {
	Label, Value string
	Width        float64 // 0–100, percent of the busiest
}

type adviceView struct {
	Report  Report
	Stale   bool
	Advices []Advice
}

// HotKey is one hot key shown in the page's shard section, supplied by
// PageOptions.HotKeys (shard.Hot.TopKeys has them; no metric carries keys).
type HotKey struct {
	Key, Shard string
	Rate       float64 // requests per second
}

func num(v float64) cellView { return cellView{Text: fmtNum(v), Class: "num"} }

func classed(text, class string) cellView { return cellView{Text: text, Class: class} }

// pickAction returns the registered action of that name for target, or nil.
func (p *Page) pickAction(name, target string) *actionView {
	if a, ok := p.actions[name]; ok {
		return &actionView{Name: name, Label: a.label, Target: target, Token: p.viewToken}
	}
	return nil
}

func (p *Page) backends(s *Snapshot) *tableView {
	if !s.Has(instLBInflight) && !s.Has(instLBRequests) {
		return nil
	}
	names := union(s.Keys(instLBInflight, keyLBBackend), s.Keys(instLBRequests, keyLBBackend))
	names, more := capRows(names)
	infl, reqs := s.By(instLBInflight, keyLBBackend), s.By(instLBRequests, keyLBBackend)
	errs, ej := s.By(instLBErrors, keyLBBackend), s.By(instLBEjections, keyLBBackend)
	t := &tableView{Head: []string{"backend", "in flight", "requests", "errors", "error %", "ejections", ""}, ActCol: true, More: more}
	for _, n := range names {
		ratio := 0.0
		if reqs[n] > 0 {
			ratio = errs[n] / reqs[n]
		}
		cls := "ok"
		switch {
		case ratio >= 0.05:
			cls = "bad"
		case ratio >= 0.01 || ej[n] > 0:
			cls = "warn"
		}
		t.Rows = append(t.Rows, rowView{Cells: []cellView{
			classed(n, cls), num(infl[n]), num(reqs[n]), num(errs[n]), pct(ratio), num(ej[n]),
		}, Action: p.pickAction(ActionDrainBackend, n)})
	}
	return t
}

func (p *Page) health(s *Snapshot) *tableView {
	if !s.Has(instProbeStatus) && !s.Has("ladder.health.check.status") {
		return nil
	}
	t := &tableView{Head: []string{"name", "kind", "status"}}
	add := func(kind, inst string, key attribute.Key) {
		st := s.By(inst, key)
		names, more := capRows(sortedKeys(st))
		t.More += more
		for _, n := range names {
			t.Rows = append(t.Rows, rowView{Cells: []cellView{{Text: n}, {Text: kind}, healthCell(st[n])}})
		}
	}
	add("probe", instProbeStatus, keyProbe)
	add("check", "ladder.health.check.status", attribute.Key("ladder.health.check"))
	return t
}

func healthCell(v float64) cellView {
	switch v {
	case 1:
		return classed("up", "ok")
	case 2:
		return classed("degraded", "warn")
	case 3:
		return classed("down", "bad")
	}
	return classed("unknown", "")
}

func (p *Page) breakers(s *Snapshot) *tableView {
	if !s.Has(instBreakerState) {
		return nil
	}
	st := s.By(instBreakerState, keyBreaker)
	t := &tableView{Head: []string{"breaker", "state"}}
	names, more := capRows(sortedKeys(st))
	t.More += more
	for _, n := range names {
		var c cellView
		switch st[n] {
		case 0:
			c = classed("closed", "ok")
		case 1:
			c = classed("half-open", "warn")
		case breakerOpen:
			c = classed("open", "bad")
		case 3:
			c = classed("throttling", "warn")
		default:
			c = classed(fmtNum(st[n]), "")
		}
		t.Rows = append(t.Rows, rowView{Cells: []cellView{{Text: n}, c}})
	}
	return t
}

func (p *Page) cache(s *Snapshot, sig Signals) *tableView {
	if !s.Has(instCacheHits) {
		return nil
	}
	hits, misses := s.By(instCacheHits, keyCacheName), s.By(instCacheMisses, keyCacheName)
	stale, ev := s.By(instCacheStale, keyCacheName), s.By(instCacheEvict, keyCacheName)
	t := &tableView{Head: []string{"cache", "hits", "misses", "hit ratio (all time)", "stale served", "evictions"}}
	names, more := capRows(sortedKeys(hits))
	t.More += more
	for _, n := range names {
		r := 0.0
		if hits[n]+misses[n] > 0 {
			r = hits[n] / (hits[n] + misses[n])
		}
		name := n
		if name == "" {
			name = "(unnamed)"
		}
		t.Rows = append(t.Rows, rowView{Cells: []cellView{{Text: name}, num(hits[n]), num(misses[n]), ratioCell(r, 0.8, 0.5), num(stale[n]), num(ev[n])}})
	}
	if h, ok := sig[SigCacheHit]; ok {
		t.Rows = append(t.Rows, rowView{Cells: []cellView{{Text: "all, last interval"}, {}, {}, ratioCell(h, 0.8, 0.5), {}, {}}})
	}
	return t
}

func (p *Page) queues(s *Snapshot) *tableView {
	if !s.Has(instQueueDepth) && !s.Has(instQueueDead) && !s.Has(instQueueAge) {
		return nil
	}
	names := union(s.Keys(instQueueDepth, keyQueueName), s.Keys(instQueueDead, keyQueueName), s.Keys(instQueueAge, keyQueueName))
	names, more := capRows(names)
	t := &tableView{Head: []string{"queue", "ready", "scheduled", "running", "oldest ready", "dead letters", ""}, ActCol: true, More: more}
	for _, n := range names {
		q := keyQueueName.String(n)
		age := 0.0
		for _, pt := range s.Points(instQueueAge) {
			if matches(pt.Attrs, []attribute.KeyValue{q}) {
				age = max(age, pt.Value)
			}
		}
		dead := s.Sum(instQueueDead, q)
		ageCls := "ok"
		switch {
		case age >= 300:
			ageCls = "bad"
		case age >= 30:
			ageCls = "warn"
		}
		deadCls := "num"
		if dead > 0 {
			deadCls = "warn"
		}
		row := rowView{Cells: []cellView{{Text: n},
			num(s.Sum(instQueueDepth, q, keyQueueState.String("ready"))),
			num(s.Sum(instQueueDepth, q, keyQueueState.String("scheduled"))),
			num(s.Sum(instQueueDepth, q, keyQueueState.String("running"))),
			classed(fmtDur(age), ageCls), classed(fmtNum(dead), deadCls)}}
		if dead > 0 {
			row.Action = p.pickAction(ActionRetryDead, n)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (p *Page) replicas(s *Snapshot) *tableView {
	if !s.Has(instRepLag) && !s.Has(instRepQueries) {
		return nil
	}
	lag, lagB := s.By(instRepLag, keyRepNode), s.By("ladder.replica.lag.bytes", keyRepNode)
	t := &tableView{Head: []string{"replica", "lag", "lag (bytes)"}}
	names, more := capRows(sortedKeys(lag))
	t.More += more
	for _, n := range names {
		cls := "ok"
		switch {
		case lag[n] >= 5:
			cls = "bad"
		case lag[n] >= 1:
			cls = "warn"
		}
		t.Rows = append(t.Rows, rowView{Cells: []cellView{{Text: n}, classed(fmtDur(lag[n]), cls), num(lagB[n])}})
	}
	roles := s.By(instRepQueries, keyRepRole)
	rot := s.Sum(instRepRotation)
	t.Rows = append(t.Rows, rowView{Cells: []cellView{{Text: "queries: primary / replicas"},
		{Text: fmtNum(roles["primary"]) + " / " + fmtNum(roles["replica"]), Class: "num"},
		{Text: "rotation changes " + fmtNum(rot), Class: "num"}}})
	return t
}

func (p *Page) shards(s *Snapshot) *shardView {
	if !s.Has(instShardSkew) && !s.Has(instShardRate) {
		return nil
	}
	skew := s.Max(instShardSkew)
	v := &shardView{Skew: fmtNum(skew), Class: ratioCell(-skew, -1.5, -2).Class}
	rates := s.By(instShardRate, keyShard)
	top := 0.0
	for _, r := range rates {
		top = max(top, r)
	}
	names, more := capRows(sortedKeys(rates))
	v.More = more
	for _, n := range names {
		w := 0.0
		if top > 0 {
			w = rates[n] / top * 100
		}
		v.Bars = append(v.Bars, barView{Label: n, Value: fmtNum(rates[n]) + "/s", Width: w})
	}
	return v
}

// ratioCell colours v: ok at ≥ good, bad under bad, warn between.
func ratioCell(v, good, bad float64) cellView {
	c := pct(v)
	switch {
	case v >= good:
		c.Class = "ok"
	case v < bad:
		c.Class = "bad"
	default:
		c.Class = "warn"
	}
	return c
}

func pct(v float64) cellView {
	return cellView{Text: fmtNum(v*100) + " %", Class: "num"}
}

func fmtDur(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(100 * time.Microsecond).String()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func union(lists ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}
