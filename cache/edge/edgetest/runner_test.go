package edgetest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCasesValid(t *testing.T) {
	if err := Validate(Cases()); err != nil {
		t.Fatal(err)
	}
	if err := Validate([]Case{{ID: "x"}, {ID: "x", RFC: "1", Level: "MUST"}}); err == nil {
		t.Fatal("Validate accepted malformed cases")
	}
}

// passThrough is a "cache" that stores nothing: every request goes to the
// origin. Cases that forbid reuse pass against it, cases that expect reuse fail.
func passThrough(origin http.Handler) http.Handler { return origin }

func TestCheckPassThrough(t *testing.T) {
	clock := NewClock(Start)
	origin := NewOrigin(clock)
	tg := Target{Handler: passThrough(origin), Origin: origin, Clock: clock}
	ctx := context.Background()
	for _, c := range Cases() {
		err := Check(ctx, c, tg)
		switch c.ID {
		case "store-no-store-response":
			if err != nil {
				t.Errorf("%s: %v", c.ID, err)
			}
		case "store-max-age":
			if err == nil || !strings.Contains(err.Error(), "origin contact") {
				t.Errorf("%s: err = %v, want an origin contact failure", c.ID, err)
			}
		}
	}
}

func TestOriginListen(t *testing.T) {
	origin := NewOrigin(nil)
	url, err := origin.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer origin.Close()
	// A listening origin answers through a proxy-less target too: the URL
	// target is the origin itself, which caches nothing.
	c := Case{ID: "listen", RFC: "9111", Section: "3", Level: "MAY", Name: "n",
		Steps: notReused(ok("Cache-Control", "no-store", "X-A", "{{date:-10}}"), 10*time.Millisecond, get())}
	c.Steps[1].Expect = c.Steps[1].Expect.with(FieldCheck{"X-A", Contains, "GMT"})
	if err := Check(context.Background(), c, Target{URL: url, Origin: origin}); err != nil {
		t.Fatal(err)
	}
	if err := origin.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestExpand(t *testing.T) {
	now := Start
	for in, want := range map[string]string{
		"{{date:0}}":                 "Fri, 02 Jan 2026 03:04:05 GMT",
		"{{date:-5}}":                "Fri, 02 Jan 2026 03:04:00 GMT",
		"{{rfc850:0}}":               "Friday, 02-Jan-26 03:04:05 GMT",
		"{{asctime:0}}":              "Fri Jan  2 03:04:05 2026",
		"{{base}}/b, x":              "/n/id/b, x",
		"{{nope}}":                   "{{nope}}",
		"{{date:x}}":                 "{{date:x}}",
		"a {{date:3600}} {{base}} b": "a Fri, 02 Jan 2026 04:04:05 GMT /n/id b",
	} {
		if got := expand(in, now, "/n/id"); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCasePrefix(t *testing.T) {
	for in, want := range map[string]string{
		"/n/id": "/n/id", "/n/id/b": "/n/id", "/n/id/b/c": "/n/id", "/": "/", "": "", "/n": "/n",
	} {
		if got := casePrefix(in); got != want {
			t.Errorf("casePrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCacheStatusMember(t *testing.T) {
	vals := []string{`up; hit, ladder; fwd=stale; fwd-status=304; detail="a, b;c"`, "other; hit"}
	p, ok := cacheStatusMember(vals, "ladder")
	if !ok || p["fwd"] != "stale" || p["fwd-status"] != "304" || p["detail"] != "a, b;c" {
		t.Fatalf("member = %v, %v", p, ok)
	}
	if err := checkCacheStatus(vals, "ladder", []string{"fwd=stale", "!hit", "fwd"}); err != nil {
		t.Error(err)
	}
	if err := checkCacheStatus(vals, "ladder", []string{"hit"}); err == nil {
		t.Error("hit accepted")
	}
	if err := checkCacheStatus(vals, "none-such", []string{"none"}); err != nil {
		t.Error(err)
	}
}
