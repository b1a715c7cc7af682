package sqlstore_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	_ "modernc.org/sqlite"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/sessiontest"
	"github.com/ladder-go/ladder/session/sqlstore"
)

func openSQLite(t *testing.T) *sql.DB {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "s.db") + "?_pragma=busy_timeout(20000)&_pragma=journal_mode(WAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func newStore(t *testing.T, db *sql.DB, d sqlstore.Dialect, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(t.Context(), db, d, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestSQLiteConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store {
		return newStore(t, openSQLite(t), sqlstore.SQLite, sqlstore.Options{})
	})
}

func TestPostgresConformance(t *testing.T) {
	db := testenv.Postgres(t).DB(t)
	sessiontest.Run(t, func(t *testing.T) session.Store {
		return newStore(t, db, sqlstore.Postgres, sqlstore.Options{})
	})
}

func TestSweep(t *testing.T) {
	db := openSQLite(t)
	now := time.Now()
	clock := func() time.Time { return now }
	s := newStore(t, db, sqlstore.SQLite, sqlstore.Options{Now: clock})
	ctx := t.Context()
	mk := func(key string, exp time.Duration) {
		if err := s.Create(ctx, key, session.Record{Values: map[string][]byte{"a": []byte("1")},
			Created: now, Expires: now.Add(exp)}); err != nil {
			t.Fatal(err)
		}
	}
	mk("live", time.Hour)
	mk("old", time.Second)
	if err := s.Destroy(ctx, "live2", time.Second); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Second)
	n, err := s.Sweep(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want 2", n, err)
	}
	var vals int
	if err := db.QueryRow(`SELECT count(*) FROM ladder_sessions_values`).Scan(&vals); err != nil || vals != 1 {
		t.Fatalf("%d value rows left (%v), want 1", vals, err)
	}
	if _, err := s.Load(ctx, "live"); err != nil {
		t.Fatalf("live session swept: %v", err)
	}
}

func TestCleanupGoroutine(t *testing.T) {
	db := openSQLite(t)
	testenv.Bubble(t, func(t *testing.T) {
		s, err := sqlstore.New(t.Context(), db, sqlstore.SQLite, sqlstore.Options{CleanupInterval: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Destroy(t.Context(), "k", time.Second); err != nil {
			t.Fatal(err)
		}
		time.Sleep(61 * time.Second)
		synctest.Wait()
	})
	var rows int
	if err := db.QueryRow(`SELECT count(*) FROM ladder_sessions`).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("%d rows after cleanup (%v), want 0", rows, err)
	}
}

func TestOptions(t *testing.T) {
	db := openSQLite(t)
	for _, c := range []struct {
		d    sqlstore.Dialect
		opts sqlstore.Options
	}{{0, sqlstore.Options{}}, {sqlstore.SQLite, sqlstore.Options{Table: "x; DROP TABLE y"}},
		{sqlstore.SQLite, sqlstore.Options{Table: "1abc"}}, {sqlstore.SQLite, sqlstore.Options{CleanupInterval: -1}}} {
		_, err := sqlstore.New(t.Context(), db, c.d, c.opts)
		if !errors.Is(err, session.ErrInvalidOptions) || !errors.Is(err, sqlstore.ErrInvalidOptions) {
			t.Errorf("New(%v, %+v): err = %v, want ErrInvalidOptions", c.d, c.opts, err)
			continue
		}
		wantOnePrefix(t, err)
	}
	_, err := sqlstore.New(t.Context(), nil, sqlstore.SQLite, sqlstore.Options{})
	if !errors.Is(err, session.ErrInvalidOptions) {
		t.Fatalf("nil db: %v", err)
	}
	wantOnePrefix(t, err)
}

// wantOnePrefix: an error of this package says "sqlstore: " first and once, and no
// other package's prefix.
func wantOnePrefix(t *testing.T, err error) {
	t.Helper()
	if msg := err.Error(); !strings.HasPrefix(msg, "sqlstore: ") || strings.Count(msg, ": invalid options") != 1 ||
		strings.Count(msg, "sqlstore: ") != 1 || strings.Contains(msg, "session: ") {
		t.Errorf("%q: want the prefix \"sqlstore: \" once, first", msg)
	}
}

func TestServersPostgres(t *testing.T) {
	pg := testenv.Postgres(t)
	sessiontest.RunServers(t, func(t *testing.T) session.Store {
		return newStore(t, pg.DB(t), sqlstore.Postgres, sqlstore.Options{})
	})
}

func TestServersSQLite(t *testing.T) {
	db := openSQLite(t)
	sessiontest.RunServers(t, func(t *testing.T) session.Store {
		return newStore(t, db, sqlstore.SQLite, sqlstore.Options{})
	})
}
