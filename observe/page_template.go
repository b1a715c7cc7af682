package observe

import (
	"html/template"
	"time"
)

// pageTemplate renders a pageView. html/template escapes every value: names
// of backends, queues and keys come from the outside and may hold markup.
var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"clock": func(t time.Time) string { return t.UTC().Format("15:04:05 UTC") },
	"num":   fmtNum,
	"burn":  func(v float64) string { return fmtNum(v) + "×" },
	"pct":   func(v float64) string { return fmtNum(v*100) + " %" },
	"dur":   promDuration,
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">{{end}}
<title>{{.Title}}</title>
<style>
:root{--bg:#f5f6f8;--card:#fff;--ink:#1d2330;--mute:#667085;--line:#e3e6eb;--ok:#12805c;--warn:#b25e00;--bad:#c4282d;--acc:#2f6fde}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
header{display:flex;align-items:baseline;gap:16px;padding:14px 24px;background:#1d2330;color:#fff}
header h1{margin:0;font-size:18px;font-weight:600}
header .at{color:#b8c0cc;font-size:13px}
main{padding:18px 24px;display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:16px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 16px;overflow-x:auto}
section.wide{grid-column:1/-1}
h2{margin:0 0 8px;font-size:14px;text-transform:uppercase;letter-spacing:.04em;color:var(--mute)}
table{width:100%;border-collapse:collapse}
th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:middle;white-space:nowrap}
th{font-weight:600;color:var(--mute);font-size:12px}
th:not(:first-child),td:not(:first-child){text-align:right}
td.act{text-align:right;width:1%}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:var(--ok);font-weight:600}.warn{color:var(--warn);font-weight:600}.bad{color:var(--bad);font-weight:600}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:14px}
.chart .t{display:flex;justify-content:space-between;font-size:13px}
.chart .t b{font-size:16px}
.chart svg{width:100%;height:80px;display:block;background:#fafbfc;border:1px solid var(--line);border-radius:4px}
.chart .s{color:var(--mute);font-size:12px}
.bar{display:grid;grid-template-columns:90px 1fr 80px;gap:8px;align-items:center;margin:3px 0}
.bar .track{background:#eef1f5;border-radius:3px;height:12px}
.bar .fill{background:var(--acc);height:12px;border-radius:3px}
.advice{border-left:4px solid var(--warn);padding:6px 10px;margin:8px 0;background:#fff8ef}
.advice b{display:block}
.ev{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px;color:var(--mute)}
.flash{grid-column:1/-1;padding:10px 14px;border-radius:6px;background:#e8f5ee;border:1px solid #b7e0c9}
.flash.bad{background:#fdecec;border-color:#f3b6b8}
form{margin:0;display:inline}
button{font:inherit;font-size:12px;padding:3px 10px;border:1px solid var(--acc);color:var(--acc);background:#fff;border-radius:4px;cursor:pointer}
.muted{color:var(--mute)}
</style></head>
<body>
<header><h1>{{.Title}}</h1><span class="at">{{clock .At}}{{if .Refresh}} · refreshes every {{.Refresh}} s{{end}}</span></header>
<main>
{{with .Flash}}<div class="flash{{if $.FlashBad}} bad{{end}}" id="flash">{{.}}</div>{{end}}

{{if .Charts}}<section class="wide" id="golden"><h2>Golden signals</h2><div class="charts">
{{range .Charts}}<div class="chart" data-signal="{{.Signal}}"><div class="t"><span>{{.Title}}</span><b>{{.Last}}</b></div>
<svg viewBox="0 0 300 80" preserveAspectRatio="none" role="img" aria-label="{{.Title}}">
<polygon points="{{.Area}}" fill="#2f6fde" fill-opacity="0.12"/>
<polyline points="{{.Points}}" fill="none" stroke="#2f6fde" stroke-width="1.6" vector-effect="non-scaling-stroke"/></svg>
<div class="s">{{.Span}} · max {{.Max}}</div></div>
{{end}}</div></section>{{end}}

{{with .Advice}}<section class="wide" id="advice"><h2>Scale advisor</h2>
{{if .Stale}}<p class="muted">No evaluation yet.</p>{{else}}
{{range .Advices}}<div class="advice"><b>{{.Bottleneck}}</b>→ {{.Move}}<div class="ev">{{range $i, $e := .Evidence}}{{if $i}}; {{end}}{{$e}}{{end}}</div></div>
{{else}}<p class="ok">No bottleneck: every rule is under its threshold.</p>{{end}}
{{range .Report.Failed}}<p class="bad">rule {{.Rule}} failed: {{.Err}}</p>{{end}}
{{range .Report.Actions}}<p>{{.Scaler}} scaled {{.Direction}} at {{clock .At}}{{with .Err}} <span class="bad">failed: {{.}}</span>{{end}}</p>{{end}}
<p class="muted">evaluated {{clock .Report.At}}</p>{{end}}
</section>{{end}}

{{if .SLOs}}<section class="wide" id="slos"><h2>SLOs (burn rate: long / short window)</h2><table>
<tr><th>SLO</th><th>objective</th>{{range (index .SLOs 0).Windows}}<th class="num">{{.Severity}} {{.Factor}}× · {{dur .Long}} / {{dur .Short}}</th>{{end}}<th>state</th></tr>
{{range .SLOs}}<tr><td>{{.Name}}</td><td class="num">{{pct .Objective}}</td>
{{range .Windows}}<td class="num{{if .Firing}} bad{{else if .Guarded}} warn{{end}}">{{burn .LongBurn}} / {{burn .ShortBurn}}{{if .Guarded}} (low traffic){{end}}</td>{{end}}
<td>{{if .Firing}}<span class="bad">{{.Firing}}</span>{{else}}<span class="ok">ok</span>{{end}}</td></tr>{{end}}
</table></section>{{end}}

{{define "table"}}{{$ := .}}<table><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .Cells}}<td{{with .Class}} class="{{.}}"{{end}}>{{.Text}}</td>{{end}}{{if .Action}}<td class="act">{{template "button" .Action}}</td>{{else if $.ActCol}}<td class="act"></td>{{end}}</tr>{{end}}
{{if .More}}<tr><td colspan="{{len .Head}}" class="muted">… {{.More}} more not shown</td></tr>{{end}}
</table>{{end}}
{{define "button"}}<form method="post"><input type="hidden" name="csrf" value="{{.Token}}"><input type="hidden" name="action" value="{{.Name}}"><input type="hidden" name="target" value="{{.Target}}"><button type="submit">{{.Label}}</button></form>{{end}}

{{with .Backends}}<section id="backends"><h2>Backends (lb)</h2>{{template "table" .}}</section>{{end}}
{{with .Health}}<section id="health"><h2>Health</h2>{{template "table" .}}</section>{{end}}
{{with .Breakers}}<section id="breakers"><h2>Circuit breakers</h2>{{template "table" .}}</section>{{end}}
{{with .Cache}}<section id="cache"><h2>Cache</h2>{{template "table" .}}</section>{{end}}
{{with .Queues}}<section id="queues"><h2>Queues</h2>{{template "table" .}}</section>{{end}}
{{with .Replicas}}<section id="replicas"><h2>Replicas</h2>{{template "table" .}}</section>{{end}}
{{with .Shards}}<section id="shards"><h2>Shards</h2>
<p>skew (busiest / mean): <span class="{{.Class}}" id="skew">{{.Skew}}</span></p>
{{range .Bars}}<div class="bar"><span>{{.Label}}</span><div class="track"><div class="fill" style="width:{{printf "%.1f" .Width}}%"></div></div><span class="num">{{.Value}}</span></div>{{end}}
{{if .More}}<p class="muted">… {{.More}} more shards not shown</p>{{end}}
{{if .HotKeys}}<table id="hotkeys"><tr><th>hot key</th><th>shard</th><th>requests/s</th></tr>
{{range .HotKeys}}<tr><td>{{.Key}}</td><td>{{.Shard}}</td><td class="num">{{num .Rate}}</td></tr>{{end}}{{if .HotMore}}
<tr><td colspan="3" class="muted">… {{.HotMore}} more not shown</td></tr>{{end}}</table>{{end}}
</section>{{end}}
{{if .Actions}}<section id="actions"><h2>Actions</h2>{{range .Actions}}{{template "button" .}} {{end}}</section>{{end}}
</main></body></html>
`))
