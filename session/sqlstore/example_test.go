package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite"

	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/sqlstore"
)

// Sessions in SQLite survive a restart of the web server. With PostgreSQL, open the
// primary with the pgx driver (sql.Open("pgx", dsn)) and pass sqlstore.Postgres.
func Example() {
	dir, _ := os.MkdirTemp("", "sessions")
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	serve := func(cookie *http.Cookie) *http.Cookie {
		store, err := sqlstore.New(context.Background(), db, sqlstore.SQLite, sqlstore.Options{})
		if err != nil {
			fmt.Println(err)
			return nil
		}
		defer store.Close() // a fresh server process each time
		m, _ := session.New(store, session.Options{})
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := session.From(r.Context())
			n, _ := session.Get[int](s, "visits")
			_ = session.Put(s, "visits", n+1)
			fmt.Println("visit", n+1)
		}))
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if cs := rec.Result().Cookies(); len(cs) > 0 {
			return cs[0]
		}
		return cookie
	}
	c := serve(nil)
	c = serve(c)
	serve(c)
	// Output:
	// visit 1
	// visit 2
	// visit 3
}
