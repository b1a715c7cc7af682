// Package deprules holds the import rules of docs/CONVENTIONS.md and
// /shared DESIGN.md ("Dependency rules") and checks packages against them.
// Its test runs `go list -deps` over the module and fails on any import a
// rule forbids, naming the rule.
package deprules

import (
	"fmt"
	"slices"
	"strings"
)

// Module is ladder's module path.
const Module = "github.com/ladder-go/ladder"

// Package is what the rules need to know about one package: its import
// path, its direct imports and all its transitive dependencies.
type Package struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// Violation is one forbidden import and the rule it breaks.
type Violation struct {
	Package, Import, Rule string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s imports %s: breaks rule %q", v.Package, v.Import, v.Rule)
}

// core packages and the ladder siblings each may import. Their sub-packages
// (adapters such as replica/pgreplica, helpers such as replica/replicatest)
// import their parent's tree only, and may use heavy modules (pgx, SQLite).
var coreSiblings = map[string][]string{
	"health":  nil,
	"lb":      {"health"},
	"replica": {"lb", "health"},
	"cache":   nil,
	"shard":   nil,
	"queue":   nil,
	"session": nil,
	"observe": nil,
}

// Internal helpers core packages may import, each named: pure Go, importing
// only the standard library. internal/ as a whole is not allowed (testenv is
// for tests only).
var coreInternal = []string{
	Module + "/internal/stripe", // striped hot-path counters (cache, cache/edge, lb, shard)
}

// Third-party modules a core package may import directly, beyond the
// standard library and the OpenTelemetry API.
var coreLibs = map[string][]string{
	"health": {"github.com/sony/gobreaker/v2"},
	"cache":  {"github.com/hashicorp/golang-lru/v2"},
	"shard":  {"github.com/buraksezer/consistent"},
}

// Sub-packages held to their parent's library rules (standard library,
// OTel API, the parent's design-card libraries; nothing heavy), because
// users import them into every service as they would a core package:
// a static-asset handler has no reason to pull in a driver.
var leanSubs = map[string]bool{
	"cache/assets": true,
}

// Every core package may use golang.org/x/sync and the OTel API.
var commonLibs = []string{
	"golang.org/x/sync",
	"go.opentelemetry.io/otel",
}

// Modules that only observe, adapters, examples and tests may pull in: a
// user who imports a core package must compile none of them.
var heavy = []string{
	"go.opentelemetry.io/otel/sdk",
	"go.opentelemetry.io/otel/exporters",
	"github.com/prometheus/",
	"github.com/redis/go-redis",
	"github.com/jackc/",
	"github.com/alicebob/miniredis",
	"modernc.org/",
	"github.com/lib/pq",
}

// Peer libraries live only in bench/, its own module.
var peers = []string{
	"github.com/maypok86/otter", "github.com/dgraph-io/ristretto", "github.com/go-redis/cache",
	"github.com/go-kratos/", "github.com/zeromicro/", "github.com/alexedwards/scs",
	"github.com/gorilla/sessions", "github.com/hibiken/asynq", "github.com/riverqueue/",
	"github.com/alexliesenfeld/health", "github.com/dgryski/",
}

const (
	ruleSibling = "core packages import no sibling, except lb ─► health and replica ─► lb, health"
	ruleAdapter = "x/adapter ─► its parent only"
	ruleLibs    = "core packages import only the standard library, the OpenTelemetry API and their design-card libraries"
	ruleHeavy   = "core packages never depend on the OTel SDK, go-redis, pgx or other heavy modules"
	rulePeers   = "peer libraries live only in bench/"
	ruleTestenv = "only tests import internal/testenv"
	ruleHelper  = "core packages and their sub-packages import no internal package but the named dependency-free helpers (internal/stripe)"
	rulePure    = "an internal helper that core packages import uses only the standard library"
	ruleExample = "examples import only public packages (people copy them out of the repo)"
)

// Check returns every violation among pkgs, sorted by package.
func Check(pkgs []Package) []Violation {
	var out []Violation
	for _, p := range pkgs {
		out = append(out, checkOne(p)...)
	}
	return out
}

func checkOne(p Package) []Violation {
	rel, ok := strings.CutPrefix(p.ImportPath, Module+"/")
	if !ok {
		return nil
	}
	top, sub, _ := strings.Cut(rel, "/")
	var out []Violation
	bad := func(imp, rule string) { out = append(out, Violation{p.ImportPath, imp, rule}) }

	for _, d := range p.Deps {
		if hasPrefix(d, peers) && !slices.Contains(out, Violation{p.ImportPath, d, rulePeers}) {
			bad(d, rulePeers)
		}
		if d == Module+"/internal/testenv" && top != "internal" {
			bad(d, ruleTestenv)
		}
	}
	if slices.Contains(coreInternal, p.ImportPath) {
		for _, imp := range p.Imports {
			if !isStd(imp) {
				bad(imp, rulePure)
			}
		}
	}
	if top == "examples" {
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, Module+"/internal/") {
				bad(imp, ruleExample)
			}
		}
	}
	if _, isCore := coreSiblings[top]; !isCore {
		return out // examples (public packages), internal: any package
	}
	for _, imp := range p.Imports {
		irel, own := strings.CutPrefix(imp, Module+"/")
		if !own {
			continue
		}
		itop, _, _ := strings.Cut(irel, "/")
		switch {
		case itop == "internal":
			if !slices.Contains(coreInternal, imp) {
				bad(imp, ruleHelper)
			}
		case sub != "": // an adapter or sub-package: its parent (and the parent's subtree) only
			if itop != top {
				bad(imp, ruleAdapter)
			}
		case itop != top && !slices.Contains(coreSiblings[top], itop):
			bad(imp, ruleSibling)
		case itop == top && irel != top: // a core package importing its own adapter
			bad(imp, ruleAdapter)
		}
	}
	if sub != "" && !leanSubs[rel] || top == "observe" {
		return out // adapters and observe may use heavier modules
	}
	for _, imp := range p.Imports {
		if isStd(imp) || strings.HasPrefix(imp, Module+"/") {
			continue
		}
		if !hasPrefix(imp, commonLibs) && !hasPrefix(imp, coreLibs[top]) || hasPrefix(imp, heavy) {
			bad(imp, ruleLibs)
		}
	}
	seen := map[string]bool{} // report each heavy module once, not each of its packages
	for _, d := range p.Deps {
		for _, h := range heavy {
			if hasPrefix(d, []string{h}) && !seen[h] && !slices.Contains(p.Imports, d) {
				seen[h] = true
				bad(d, ruleHeavy)
			}
		}
	}
	return out
}

// hasPrefix reports whether path is one of prefixes or below one of them.
func hasPrefix(path string, prefixes []string) bool {
	for _, pre := range prefixes {
		if path == pre || strings.HasPrefix(path, strings.TrimSuffix(pre, "/")+"/") ||
			(strings.HasSuffix(pre, "/") && strings.HasPrefix(path, pre)) {
			return true
		}
	}
	return false
}

// isStd reports whether an import path belongs to the standard library:
// its first element has no dot.
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
