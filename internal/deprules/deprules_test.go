package deprules

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestModuleFollowsTheRules lists every package of the module with its
// imports and dependencies and fails on any import the rules forbid.
func TestModuleFollowsTheRules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("the go command is needed to list packages: %v", err)
	}
	cmd := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Imports,Deps", Module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p Package
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 2 {
		t.Fatalf("go list found %d packages; the test is not looking at the module", len(pkgs))
	}
	for _, v := range Check(pkgs) {
		t.Error(v)
	}
}

func TestCheckNamesTheRule(t *testing.T) {
	const m = Module + "/"
	cases := []struct {
		name string
		pkg  Package
		rule string // "" = allowed
	}{
		{"lb may import health", Package{ImportPath: m + "lb", Imports: []string{m + "health"}}, ""},
		{"replica may import lb", Package{ImportPath: m + "replica", Imports: []string{m + "lb", m + "health"}}, ""},
		{"pgreplica may import replica and pgx", Package{ImportPath: m + "replica/pgreplica", Imports: []string{m + "replica", "github.com/jackc/pgx/v5/stdlib"}}, ""},
		{"replicatest may import replica and SQLite", Package{ImportPath: m + "replica/replicatest", Imports: []string{m + "replica", "modernc.org/sqlite"}}, ""},
		{"pgreplica must not import lb", Package{ImportPath: m + "replica/pgreplica", Imports: []string{m + "lb"}}, ruleAdapter},
		{"replicatest must not import health", Package{ImportPath: m + "replica/replicatest", Imports: []string{m + "health"}}, ruleAdapter},
		{"replica must not import pgx", Package{ImportPath: m + "replica", Imports: []string{"github.com/jackc/pgx/v5"}}, ruleLibs},
		{"replica must not import its adapter", Package{ImportPath: m + "replica", Imports: []string{m + "replica/pgreplica"}}, ruleAdapter},
		{"replica must not depend on SQLite", Package{ImportPath: m + "replica", Deps: []string{"modernc.org/sqlite"}}, ruleHeavy},
		{"lb must not import cache", Package{ImportPath: m + "lb", Imports: []string{m + "cache"}}, ruleSibling},
		{"cache must not import lb", Package{ImportPath: m + "cache", Imports: []string{m + "lb"}}, ruleSibling},
		{"health must not import lb", Package{ImportPath: m + "health", Imports: []string{m + "lb"}}, ruleSibling},
		{"adapter imports its parent", Package{ImportPath: m + "session/redisstore", Imports: []string{m + "session", "github.com/redis/go-redis/v9"}}, ""},
		{"adapter imports another package", Package{ImportPath: m + "session/redisstore", Imports: []string{m + "cache"}}, ruleAdapter},
		{"core imports its adapter", Package{ImportPath: m + "cache", Imports: []string{m + "cache/rediscache"}}, ruleAdapter},
		{"core imports go-redis", Package{ImportPath: m + "cache", Imports: []string{"github.com/redis/go-redis/v9"}}, ruleLibs},
		{"core depends on OTel SDK", Package{ImportPath: m + "lb", Deps: []string{"go.opentelemetry.io/otel/sdk/metric"}}, ruleHeavy},
		{"core imports OTel API", Package{ImportPath: m + "lb", Imports: []string{"go.opentelemetry.io/otel/metric", "net/http"}}, ""},
		{"cache imports golang-lru", Package{ImportPath: m + "cache", Imports: []string{"github.com/hashicorp/golang-lru/v2/simplelru"}}, ""},
		{"lb imports golang-lru", Package{ImportPath: m + "lb", Imports: []string{"github.com/hashicorp/golang-lru/v2"}}, ruleLibs},
		{"health imports gobreaker", Package{ImportPath: m + "health", Imports: []string{"github.com/sony/gobreaker/v2"}}, ""},
		{"observe may use the SDK", Package{ImportPath: m + "observe", Imports: []string{"go.opentelemetry.io/otel/sdk/metric"}}, ""},
		{"observe must not import lb", Package{ImportPath: m + "observe", Imports: []string{m + "lb"}}, ruleSibling},
		{"examples import anything", Package{ImportPath: m + "examples/ladder", Imports: []string{m + "lb", m + "cache", "github.com/alicebob/miniredis/v2"}}, ""},
		{"examples import the shared example app", Package{ImportPath: m + "examples/01-single-box", Imports: []string{m + "examples/app", m + "examples/app/proc", "modernc.org/sqlite"}}, ""},
		{"examples must not import internal packages", Package{ImportPath: m + "examples/app", Imports: []string{m + "internal/stripe"}}, ruleExample},
		{"examples must not import testenv", Package{ImportPath: m + "examples/ladder", Imports: []string{m + "internal/testenv"}}, ruleExample},
		{"examples may depend on internal packages through public ones", Package{ImportPath: m + "examples/app", Imports: []string{m + "cache"}, Deps: []string{m + "internal/stripe"}}, ""},
		{"peer in an adapter", Package{ImportPath: m + "session/redisstore", Deps: []string{"github.com/alexedwards/scs/v2"}}, rulePeers},
		{"core uses testenv", Package{ImportPath: m + "cache", Deps: []string{m + "internal/testenv"}}, ruleTestenv},
		{"cache imports internal/stripe", Package{ImportPath: m + "cache", Imports: []string{m + "internal/stripe"}}, ""},
		{"shard imports internal/stripe and x/sync", Package{ImportPath: m + "shard", Imports: []string{m + "internal/stripe", "golang.org/x/sync/errgroup", "database/sql"}}, ""},
		{"shard must not import pgx", Package{ImportPath: m + "shard", Imports: []string{"github.com/jackc/pgx/v5/stdlib"}}, ruleLibs},
		{"lb imports internal/stripe", Package{ImportPath: m + "lb", Imports: []string{m + "internal/stripe", m + "health"}}, ""},
		{"core imports another internal package", Package{ImportPath: m + "cache", Imports: []string{m + "internal/other"}}, ruleHelper},
		{"core imports testenv", Package{ImportPath: m + "lb", Imports: []string{m + "internal/testenv"}}, ruleHelper},
		{"sub-package imports internal/stripe", Package{ImportPath: m + "cache/edge", Imports: []string{m + "internal/stripe"}}, ""},
		{"sub-package imports another internal package", Package{ImportPath: m + "cache/edge", Imports: []string{m + "internal/other"}}, ruleHelper},
		{"cache/assets imports cache and the OTel API", Package{ImportPath: m + "cache/assets", Imports: []string{m + "cache", "go.opentelemetry.io/otel/metric", "net/http"}}, ""},
		{"cache/assets must not import lb", Package{ImportPath: m + "cache/assets", Imports: []string{m + "lb"}}, ruleAdapter},
		{"cache/assets must not import go-redis", Package{ImportPath: m + "cache/assets", Imports: []string{"github.com/redis/go-redis/v9"}}, ruleLibs},
		{"cache/assets must not depend on the OTel SDK", Package{ImportPath: m + "cache/assets", Deps: []string{"go.opentelemetry.io/otel/sdk/metric"}}, ruleHeavy},
		{"internal/stripe uses only the standard library", Package{ImportPath: m + "internal/stripe", Imports: []string{"unsafe"}}, ""},
		{"internal/stripe imports a module", Package{ImportPath: m + "internal/stripe", Imports: []string{"golang.org/x/sys/cpu"}}, rulePure},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vs := Check([]Package{c.pkg})
			if c.rule == "" {
				if len(vs) != 0 {
					t.Fatalf("allowed import reported: %v", vs)
				}
				return
			}
			if len(vs) == 0 {
				t.Fatalf("forbidden import not reported (rule %q)", c.rule)
			}
			if !strings.Contains(vs[0].String(), c.rule) {
				t.Fatalf("message %q does not name rule %q", vs[0], c.rule)
			}
		})
	}
}
