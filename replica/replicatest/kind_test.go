package replicatest

import (
	"strings"
	"testing"
)

func TestKindOfStatement(t *testing.T) {
	for _, c := range []struct {
		q    string
		want int
	}{
		{"SELECT 1", kindRead},
		{"  (select * from t)", kindRead},
		{"Values (1)", kindRead},
		{"EXPLAIN QUERY PLAN SELECT 1", kindRead},
		{"selection_table_insert()", kindWrite}, // a longer word is not SELECT
		{"INSERT INTO t VALUES (1)", kindWrite},
		{"WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", kindWrite},
		{"-- a comment\nSELECT 1", kindWrite}, // not recognised: shipped, which is harmless
		{"PRAGMA foreign_keys = ON", kindSession},
		{"vacuum", kindSession},
		{"ATTACH 'x.db' AS x", kindSession},
		{"BEGIN IMMEDIATE", kindControl},
		{"commit", kindControl},
		{"END TRANSACTION", kindControl},
		{"ROLLBACK", kindControl},
		{"ROLLBACK TO s", kindWrite},
		{"rollback transaction to savepoint s", kindWrite},
		{"SAVEPOINT s", kindWrite},
		{"RELEASE s", kindWrite},
		{"", kindWrite},
	} {
		if got := kind(c.q); got != c.want {
			t.Errorf("kind(%q) = %d; want %d", c.q, got, c.want)
		}
	}
}

// FuzzKind: kind never panics, and calls a statement a read only when its
// first word is SELECT, VALUES or EXPLAIN.
func FuzzKind(f *testing.F) {
	for _, s := range []string{"SELECT 1", "rollback to x", "pragma x", "(((", "BEGIN", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if kind(q) != kindRead {
			return
		}
		w := strings.ToLower(strings.TrimLeft(q, " \t\r\n(;"))
		if !strings.HasPrefix(w, "select") && !strings.HasPrefix(w, "values") && !strings.HasPrefix(w, "explain") {
			t.Fatalf("kind(%q) is read", q)
		}
	})
}
