package shard_test

import (
	"context"
	"database/sql"
	"log"

	"github.com/ladder-go/ladder/shard"
)

// Reshard the users table from 4 to 5 PostgreSQL databases while the
// service keeps writing. (Not run: it needs the databases.)
func ExampleMigration() {
	ctx := context.Background()
	open := func(dsn string) *sql.DB { db, _ := sql.Open("pgx", dsn); return db }
	dbs := map[string]*sql.DB{
		"a": open("postgres://db-a/app"), "b": open("postgres://db-b/app"), "c": open("postgres://db-c/app"),
		"d": open("postgres://db-d/app"), "e": open("postgres://db-e/app"), // e: the new, empty shard
	}
	j4, _ := shard.NewJump(4)
	j5, _ := shard.NewJump(5)
	from, _ := shard.NewMap(1, []string{"a", "b", "c", "d"}, j4)
	to, _ := shard.NewMap(2, []string{"a", "b", "c", "d", "e"}, j5)
	router := shard.NewRouter(from) // the one the service routes by

	m, err := shard.NewMigration(dbs["a"], dbs, shard.Table{Name: "users", KeyColumn: "org_id", PKColumn: "id"},
		router, from, to, shard.MigrateOptions{})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("moving %.0f%% of the rows", 100*m.Plan().Moved)
	// Setup, Copy, CatchUp, Cutover; run it again after a crash to resume.
	if err := m.Run(ctx); err != nil {
		log.Fatal(err) // a failed verify (shard.ErrVerify) leaves the old map in place
	}
	// The service now routes by version 2. Meanwhile each write transaction
	// does shard.TagTx(ctx, tx, router.Map()) and retries on
	// shard.IsStaleRoute(err). If something is wrong: m.Rollback(ctx).
	// Once satisfied, drop the old copies and the change capture:
	if err := m.Cleanup(ctx); err != nil {
		log.Fatal(err)
	}
}

// A write through the router during a migration: tagged with the map it
// was routed by, retried when a cutover made that map stale.
func ExampleTagTx() {
	var router *shard.Router
	var dbs map[string]*sql.DB
	write := func(ctx context.Context, orgID string, query string, args ...any) error {
		for {
			m := router.Map()
			tx, err := dbs[m.Name(shard.KeyString(orgID))].BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if err := shard.TagTx(ctx, tx, m); err != nil {
				_ = tx.Rollback()
				return err
			}
			if _, err = tx.ExecContext(ctx, query, args...); err == nil {
				err = tx.Commit()
			} else {
				_ = tx.Rollback()
			}
			if !shard.IsStaleRoute(err) {
				return err
			}
		}
	}
	_ = write
}
