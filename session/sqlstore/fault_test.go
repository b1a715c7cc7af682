package sqlstore_test

import (
	"database/sql"
	"net/url"
	"testing"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session/sessiontest"
	"github.com/ladder-go/ladder/session/sqlstore"
)

// A PostgreSQL outage gives the handler a clear error, and service resumes with the
// session intact once the database is reachable again.
func TestPostgresOutageAndRecovery(t *testing.T) {
	pg := testenv.Postgres(t)
	u, err := url.Parse(pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.Proxy(t, u.Host)
	u.Host = proxy.Addr
	q := u.Query()
	q.Set("connect_timeout", "1")
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	store := newStore(t, db, sqlstore.Postgres, sqlstore.Options{})
	sessiontest.RunOutage(t, store, proxy.Break, proxy.Restore)
}
