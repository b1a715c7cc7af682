package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/examples/app/proc"
)

// Bad input ends at once with a message and exit 2, before any stage runs.
func TestBadInputExitsTwoWithAMessage(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-stage", "7"}, `unknown stage "7"`},
		{[]string{"-stage", "0"}, `unknown stage "0"`},
		{[]string{"-stage", "cache"}, "01-single-box, 02-split-web-db"},
		{[]string{"-out", file}, "-out"},                             // a file, not a directory
		{[]string{"-out", filepath.Join(file, "sub")}, "-out"},       // under a file
		{[]string{"-out", "/proc/ladder-cannot-write-here"}, "-out"}, // not writable
		{[]string{"-step", "1ms"}, "-step"},
		{[]string{"-nope"}, "-nope"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		var out, errOut bytes.Buffer
		start := time.Now()
		code := run(context.Background(), tc.args, &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), tc.msg) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 naming %q", tc.args, code, errOut.String(), tc.msg)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%q: took %v: a stage ran", tc.args, d)
		}
		if strings.Contains(out.String(), "==") {
			t.Errorf("%q: a stage ran:\n%s", tc.args, out.String())
		}
	}
}

// -stage takes a number or a name.
func TestStageByNumberOrName(t *testing.T) {
	for in, want := range map[string]string{"3": "03-lb-replicas", "03": "03-lb-replicas", "03-lb-replicas": "03-lb-replicas", "lb-replicas": "03-lb-replicas", "6": "06-queue-workers", " 1 ": "01-single-box"} {
		st, err := findStage(in)
		if err != nil || st.name != want {
			t.Errorf("findStage(%q) = %q, %v; want %q", in, st.name, err, want)
		}
	}
}

// A child process of the ladder binary serves its stage's role; a role
// without a known stage is refused with exit 2, never run as the walk.
func TestChildDispatchesToItsStage(t *testing.T) {
	t.Setenv(proc.EnvRole, "box")
	t.Setenv(EnvStage, "")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), EnvStage) {
		t.Errorf("no stage: exit %d, stderr %q", code, errOut.String())
	}
	t.Setenv(EnvStage, "99-nope")
	errOut.Reset()
	if code := run(context.Background(), nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "99-nope") {
		t.Errorf("unknown stage: exit %d, stderr %q", code, errOut.String())
	}
	// The stage's own flag parsing answers: the child reached 01's Run.
	t.Setenv(EnvStage, "01-single-box")
	errOut.Reset()
	if code := run(context.Background(), []string{"-cpus", "0"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "01-single-box: -cpus 0") {
		t.Errorf("01's child: exit %d, stderr %q", code, errOut.String())
	}
}
