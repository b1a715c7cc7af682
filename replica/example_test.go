package replica_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/ladder-go/ladder/replica"
	"github.com/ladder-go/ladder/replica/pgreplica"
	"github.com/ladder-go/ladder/replica/replicatest"
)

// A router over a PostgreSQL primary and two replicas, with causal reads:
// every handler behind the middleware reads its user's own writes back, even
// from another instance sharing the token key.
func Example() {
	primary, _ := sql.Open("pgx", os.Getenv("DATABASE_URL"))
	r1, _ := sql.Open("pgx", os.Getenv("DATABASE_REPLICA1_URL"))
	r2, _ := sql.Open("pgx", os.Getenv("DATABASE_REPLICA2_URL"))
	router, err := replica.New(primary, []replica.Replica{
		{Name: "r1", DB: r1, Zone: "eu-west-1a"},
		{Name: "r2", DB: r2, Zone: "eu-west-1b"},
	}, replica.Options{
		Positions: pgreplica.Positions{},
		Zones:     []string{"eu-west-1a", "eu-west-1b"},
		TokenKey:  []byte(os.Getenv("RYW_TOKEN_KEY")), // ≥ 16 bytes, shared by every instance
	})
	if err != nil {
		log.Fatal(err)
	}
	defer router.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := router.Check(ctx); err != nil {
		log.Print(err) // a node down, or a replica DSN that points at a primary
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /posts", func(w http.ResponseWriter, req *http.Request) {
		// Exec goes to the primary; the session records the commit's LSN.
		_, err := router.ExecContext(req.Context(), "INSERT INTO posts (body) VALUES ($1)", req.FormValue("body"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		http.Redirect(w, req, "/posts", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /posts", func(w http.ResponseWriter, req *http.Request) {
		// A replica that has replayed the user's last write, or the primary.
		rows, err := router.QueryContext(req.Context(), "SELECT body FROM posts ORDER BY id DESC LIMIT 20")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer rows.Close()
		// …
	})
	log.Fatal(http.ListenAndServe(":8080", router.Middleware(mux)))
}

// A query that writes must say so: the router never parses SQL.
func ExampleWithPrimary() {
	var router *replica.Router // from replica.New
	ctx := context.Background()
	var id int64
	err := router.QueryRowContext(replica.WithPrimary(ctx),
		"INSERT INTO posts (body) VALUES ($1) RETURNING id", "hello").Scan(&id)
	if err == nil {
		router.Wrote(ctx) // the session reads it back from now on
	}
}

// Read-your-writes on a replica that lags, with the embedded SQLite pair of
// package replicatest: the naive split (RYWOff) misses the write, causal
// wait reads it back (here from the primary, as the paused replica does not
// catch up within WaitTimeout).
func Example_readYourWrites() {
	for _, mode := range []replica.ReadYourWrites{replica.RYWOff, replica.RYWCausalWait} {
		pair, err := replicatest.New(replicatest.Options{Paused: true}) // replication paused: the replica lags
		if err != nil {
			log.Fatal(err)
		}
		router, err := replica.New(pair.Primary(), []replica.Replica{{Name: "replica", DB: pair.Replica()}}, replica.Options{
			Positions:      pair,
			ReadYourWrites: mode,
			WaitTimeout:    10 * time.Millisecond,
		})
		if err != nil {
			log.Fatal(err)
		}
		ctx := replica.NewContext(context.Background(), new(replica.Session))
		_, _ = router.ExecContext(ctx, "CREATE TABLE greetings (word TEXT)")
		pair.Resume()
		_ = pair.Sync(ctx) // the replica has the table
		pair.Pause()
		_, _ = router.ExecContext(ctx, "INSERT INTO greetings VALUES ('hello')")
		var n int
		_ = router.QueryRowContext(ctx, "SELECT count(*) FROM greetings").Scan(&n)
		fmt.Printf("%s: %d greeting(s)\n", mode, n)
		_ = router.Close()
		_ = pair.Close()
	}
	// Output:
	// off: 0 greeting(s)
	// causal_wait: 1 greeting(s)
}
