package main

import (
	"strings"
	"testing"
)

// A DSN's password never reaches the log or the report.
func TestRedactArgsMasksPasswords(t *testing.T) {
	for _, dsn := range []string{
		"postgres://app:s3cret@127.0.0.1:5432/db?sslmode=disable",
		"postgres://app@127.0.0.1/db?password=s3cret",
		"host=127.0.0.1 user=app password=s3cret dbname=db",
		"host=127.0.0.1 password='s3 cret' dbname=db",
	} {
		got := strings.Join(redactArgs([]string{"-quick", "-pg", dsn, "-redis", "127.0.0.1:6379"}), " ")
		if strings.Contains(got, "s3") || !strings.Contains(got, "xxxxx") || !strings.Contains(got, "127.0.0.1:6379") {
			t.Errorf("%q → %q", dsn, got)
		}
	}
	if got := redactArgs([]string{"-pg", ""}); got[1] != "" {
		t.Errorf("empty DSN → %q", got[1])
	}
}
