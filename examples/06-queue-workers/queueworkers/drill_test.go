package queueworkers

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
)

func TestFloodDrainsAndKilledWorkerLosesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"-quick", "-redis="}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	s := out.String()
	for _, want := range []string{"miniredis", "flood absorbed and drained:  HOLDS", "worker SIGKILLed mid-job:    HOLDS", " 0 lost",
		// The advisor's queue rule, on the queue's own numbers: the quick
		// flood's oldest job waits about a second, far below the rule's
		// 30 s, so the report says why no move, never fakes one.
		"note: advisor: no move: the queue peaked at ", `observe's rule queue-workers ("add workers`, "queue.oldest_age: needs "} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

func TestBadInputFailsFast(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-rate", "-3"}, 2, "-rate"},
		{[]string{"-kdf-iter", "2000000000"}, 2, "-kdf-iter"},
		{[]string{"-json", "/nonexistent-dir/report.json"}, 2, "-json"},
		{[]string{"-signups", "0", "-quick", "-concurrency", "0"}, 2, "-concurrency"},
		{[]string{"-redis", "127.0.0.1:1"}, 1, "unreachable"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		var out, errOut bytes.Buffer
		start := time.Now()
		code := run(ctx, tc.args, &out, &errOut)
		cancel()
		if code != tc.code || !strings.Contains(errOut.String(), tc.msg) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d naming %q", tc.args, code, errOut.String(), tc.code, tc.msg)
		}
		if time.Since(start) > 15*time.Second {
			t.Errorf("%q: took %v: must fail fast", tc.args, time.Since(start))
		}
	}
}

func TestFloodOnARedisServer(t *testing.T) {
	r := testenv.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	args := []string{"-quick", "-redis", r.Addr, "-prefix", strings.TrimSuffix(r.Prefix, ":")}
	if code := run(ctx, args, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	s := out.String()
	for _, want := range []string{"Redis at " + r.Addr, "worker SIGKILLed mid-job:    HOLDS", " 0 lost"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}
