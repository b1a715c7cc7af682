package replica

import (
	"strings"
	"testing"
)

func TestOperationNamesTheFirstKeyword(t *testing.T) {
	for _, c := range []struct {
		q, want string
	}{
		{"SELECT 1", "SELECT"},
		{"  select v from t", "SELECT"},
		{"(SELECT 1) UNION (SELECT 2)", "SELECT"},
		{"-- a comment\nINSERT INTO t VALUES (1)", "INSERT"},
		{"/* x */ /* y */update t set v=1", "UPDATE"},
		{"DELETE FROM t", "DELETE"},
		{"WITH x AS (SELECT 1) SELECT * FROM x", "WITH"},
		{"SELECT", "SELECT"},
		{"SELECTED", ""},
		{"SELECT_ 1", ""},
		{"GET", ""},
		{"", ""},
		{"/* never closed", ""},
		{"-- only a comment", ""},
		{"VACUUM", ""},
		{"sélect 1", ""},
	} {
		got := ""
		if i := operation(c.q); i < opNone {
			got = operations[i]
		}
		if got != c.want {
			t.Errorf("operation(%q) = %q, want %q", c.q, got, c.want)
		}
	}
}

// operation never panics, returns a known index, and never reads past a
// keyword it reports.
func FuzzOperation(f *testing.F) {
	for _, s := range []string{"SELECT 1", "/**/select", "--\n", "/*", "((((", "with", "Insert\tx", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		i := operation(q)
		if i < 0 || i > opNone {
			t.Fatalf("operation(%q) = %d", q, i)
		}
		if i < opNone && !strings.Contains(strings.ToUpper(q), operations[i]) {
			t.Fatalf("operation(%q) = %s, not in the query", q, operations[i])
		}
	})
}
