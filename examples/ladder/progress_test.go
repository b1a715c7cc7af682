package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The phase shown on the progress line is the stage's last complete,
// non-empty output line, whatever the writes' boundaries.
func TestLineWriterKeepsTheLastLine(t *testing.T) {
	var sink bytes.Buffer
	l := &lineWriter{w: &sink}
	for _, w := range []string{"== 01-single-box: one box\n   … step 1", ": 4 users\n\n", "   drill kill:", " HOLDS"} {
		fmt.Fprint(l, w)
	}
	if got := l.last(); got != "… step 1: 4 users" {
		t.Errorf("last line %q", got)
	}
	if sink.String() != "== 01-single-box: one box\n   … step 1: 4 users\n\n   drill kill: HOLDS" {
		t.Errorf("passed on %q", sink.String())
	}
	fmt.Fprint(l, strings.Repeat("x", 10_000)) // a line without end stays bounded
	if len(l.partial) > 4096 {
		t.Errorf("partial line holds %d bytes", len(l.partial))
	}
}

// Off a terminal (a pipe, a CI log) progress is one plain line per stage,
// never a carriage return or an escape sequence.
func TestProgressOffATerminalIsPlainLines(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, 6)
	stop := p.start(3, "03-lb-replicas", time.Now(), func() string { return "drill 2" })
	stop(&result{})
	if got := out.String(); got != "[3/6] 03-lb-replicas: running…\n" {
		t.Errorf("progress %q", got)
	}
	if c := clip("ab€defgh", 5); c != "ab€d…" {
		t.Errorf("clip %q", c)
	}
}
