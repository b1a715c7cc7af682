package queueworkers

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The number README tells the reader to watch is the queue's oldest age: the
// flood drill's outcome must give its peak, not the age at the moment the
// depth peaked (early in the flood, long before the oldest job waited most).
func TestFloodOutcomeGivesThePeakOldestAge(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"-quick", "-redis="}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	s := out.String()
	var maxAge time.Duration
	row := regexp.MustCompile(`^\s+\S+\s+\d+\s+\d+\s+\d+\s+(\S+)\s+\d+$`)
	for _, l := range strings.Split(s, "\n") {
		if m := row.FindStringSubmatch(l); m != nil {
			if d, err := time.ParseDuration(m[1]); err == nil {
				maxAge = max(maxAge, d)
			}
		}
	}
	m := regexp.MustCompile(`oldest job waited at most ([^\s;]+)`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("the flood outcome does not give the oldest age's peak:\n%s", s)
	}
	got, err := time.ParseDuration(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if got < maxAge {
		t.Errorf("outcome says the oldest job waited at most %v; the table shows %v", got, maxAge)
	}
}
