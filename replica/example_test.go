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

// Read-your-writes on a replica that lags: the naive split (RYWOff) reads
// the old value, causal wait reads the new one (here from the primary, as
// the replica never catches up within WaitTimeout).
func Example_readYourWrites() {
	for _, mode := range []replica.ReadYourWrites{replica.RYWOff, replica.RYWCausalWait} {
		c := openCluster("r1") // an in-memory primary and a replica that replays only when told
		router, _ := replica.New(c.db("primary"), c.replicas("r1"), replica.Options{
			Positions:      fakePositions{},
			ReadYourWrites: mode,
			WaitTimeout:    10 * time.Millisecond,
			Logger:         quiet,
		})
		ctx := replica.NewContext(context.Background(), new(replica.Session))
		_, _ = router.ExecContext(ctx, "SET", "greeting", "hello")
		var v string
		_ = router.QueryRowContext(ctx, "GET", "greeting").Scan(&v)
		fmt.Printf("%s: %q\n", mode, v)
		_ = router.Close()
		c.close()
	}
	// Output:
	// off: ""
	// causal_wait: "hello"
}
