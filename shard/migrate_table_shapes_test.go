package shard_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/shard"
)

// shapeEnv is three shards a, b, c (jump 2 → 3) holding one table created
// by ddl, and a control database.
type shapeEnv struct {
	dbs      map[string]*sql.DB
	ctl      *sql.DB
	from, to *shard.Map
	r        *shard.Router
}

func newShapeEnv(t *testing.T, ddl string) *shapeEnv {
	t.Helper()
	j2, _ := shard.NewJump(2)
	j3, _ := shard.NewJump(3)
	e := &shapeEnv{dbs: map[string]*sql.DB{}}
	e.from, _ = shard.NewMap(1, []string{"a", "b"}, j2)
	e.to, _ = shard.NewMap(2, []string{"a", "b", "c"}, j3)
	e.r = shard.NewRouter(e.from)
	for _, n := range []string{"a", "b", "c"} {
		db := testenv.Postgres(t).DB(t)
		if _, err := db.Exec(ddl); err != nil {
			t.Fatal(err)
		}
		e.dbs[n] = db
	}
	e.ctl = testenv.Postgres(t).DB(t)
	return e
}

// insert writes rows (key, args…) with the statement q on the shard of
// key under the current map.
func (e *shapeEnv) insert(t *testing.T, q string, rows [][]any) {
	t.Helper()
	for _, r := range rows {
		key := r[0].(string)
		if _, err := e.dbs[e.r.Map().Name(shard.KeyString(key))].Exec(q, r...); err != nil {
			t.Fatal(err)
		}
	}
}

// count returns, per shard, the rows whose key the map places there and the
// rows it does not.
func (e *shapeEnv) count(t *testing.T, table, keyCol string, live *shard.Map) (placed, misplaced int) {
	t.Helper()
	for name, db := range e.dbs {
		rs, err := db.Query(fmt.Sprintf(`SELECT %s FROM %s`, keyCol, table))
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var k string
			if err := rs.Scan(&k); err != nil {
				t.Fatal(err)
			}
			if live.Name(shard.KeyString(k)) == name {
				placed++
			} else {
				misplaced++
			}
		}
		if err := rs.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return placed, misplaced
}

func (e *shapeEnv) migration(t *testing.T, tbl shard.Table) *shard.Migration {
	t.Helper()
	m, err := shard.NewMigration(e.ctl, e.dbs, tbl, e.r, e.from, e.to,
		shard.MigrateOptions{Batch: 7, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func keyRows(n int, extra func(i int) []any) [][]any {
	out := make([][]any, n)
	for i := range out {
		out[i] = append([]any{fmt.Sprintf("tenant-%d", i)}, extra(i)...)
	}
	return out
}

// Tables of the shapes users have: a quoted mixed-case name and columns,
// an identity primary key (GENERATED ALWAYS) with a generated column, text
// and uuid primary keys. Each migrates 2 → 3 shards with every row ending
// on the shard the new map names, none lost or duplicated.
func TestMigrationTableShapes(t *testing.T) {
	t.Parallel()
	const n = 60
	cases := []struct {
		name, ddl, insert string
		tbl               shard.Table
		keyCol, table     string
		extra             func(i int) []any
	}{{
		name:   "mixed case",
		ddl:    `CREATE TABLE "Orders" ("ID" bigint PRIMARY KEY, "Tenant" text NOT NULL, "Total" numeric)`,
		insert: `INSERT INTO "Orders" ("Tenant", "ID", "Total") VALUES ($1, $2, $3)`,
		tbl:    shard.Table{Name: "Orders", KeyColumn: "Tenant", PKColumn: "ID"},
		keyCol: `"Tenant"`, table: `"Orders"`,
		extra: func(i int) []any { return []any{i, i * 10} },
	}, {
		name: "identity and generated columns",
		ddl: `CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant text NOT NULL,
			total numeric NOT NULL, doubled numeric GENERATED ALWAYS AS (total * 2) STORED)`,
		insert: `INSERT INTO orders (tenant, id, total) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3)`,
		tbl:    shard.Table{Name: "orders", KeyColumn: "tenant", PKColumn: "id"},
		keyCol: "tenant", table: "orders",
		extra: func(i int) []any { return []any{i + 1, i} },
	}, {
		name:   "text primary key",
		ddl:    `CREATE TABLE orders (code text PRIMARY KEY, tenant text NOT NULL)`,
		insert: `INSERT INTO orders (tenant, code) VALUES ($1, $2)`,
		tbl:    shard.Table{Name: "orders", KeyColumn: "tenant", PKColumn: "code"},
		keyCol: "tenant", table: "orders",
		extra: func(i int) []any { return []any{fmt.Sprintf("Code-%03d é", i)} },
	}, {
		name:   "uuid primary key",
		ddl:    `CREATE TABLE orders (id uuid PRIMARY KEY, tenant text NOT NULL)`,
		insert: `INSERT INTO orders (tenant, id) VALUES ($1, $2)`,
		tbl:    shard.Table{Name: "orders", KeyColumn: "tenant", PKColumn: "id"},
		keyCol: "tenant", table: "orders",
		extra: func(i int) []any { return []any{fmt.Sprintf("00000000-0000-4000-8000-%012x", i*7919)} },
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newShapeEnv(t, c.ddl)
			e.insert(t, c.insert, keyRows(n, c.extra))
			m := e.migration(t, c.tbl)
			if err := m.Run(context.Background()); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if err := m.Cleanup(context.Background()); err != nil {
				t.Fatalf("Cleanup: %v", err)
			}
			placed, misplaced := e.count(t, c.table, c.keyCol, e.to)
			if placed != n || misplaced != 0 {
				t.Errorf("after the migration: %d rows placed by the new map, %d elsewhere; want %d and 0", placed, misplaced, n)
			}
		})
	}
}

// A PKColumn the migration cannot find rows by (a column of a composite
// primary key, a column without a unique index) is refused up front with
// ErrInvalidOptions, before any change capture is installed: not half way
// through the copy.
func TestMigrationRejectsNonUniquePKColumn(t *testing.T) {
	t.Parallel()
	for name, ddl := range map[string]string{
		"composite": `CREATE TABLE orders (tenant text NOT NULL, id bigint NOT NULL, PRIMARY KEY (tenant, id))`,
		"no index":  `CREATE TABLE orders (tenant text NOT NULL, id bigint NOT NULL)`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newShapeEnv(t, ddl)
			e.insert(t, `INSERT INTO orders (tenant, id) VALUES ($1, $2)`, keyRows(20, func(i int) []any { return []any{i} }))
			m := e.migration(t, shard.Table{Name: "orders", KeyColumn: "tenant", PKColumn: "id"})
			err := m.Run(context.Background())
			if !errors.Is(err, shard.ErrInvalidOptions) {
				t.Fatalf("Run: %v, want ErrInvalidOptions", err)
			}
			t.Log(err)
			var triggers int
			if err := e.dbs["a"].QueryRow(`SELECT count(*) FROM pg_trigger WHERE tgname = 'ladder_shard_capture'`).Scan(&triggers); err != nil {
				t.Fatal(err)
			}
			if triggers != 0 {
				t.Errorf("change capture installed on shard a before the table was refused")
			}
		})
	}
}

// A row whose shard key is NULL cannot be routed by any map: the
// migration stops with an error naming the row and the column, not a
// driver's scan error, and nothing is cut over.
func TestMigrationNullShardKeyIsNamed(t *testing.T) {
	t.Parallel()
	e := newShapeEnv(t, `CREATE TABLE orders (id bigint PRIMARY KEY, tenant text)`)
	e.insert(t, `INSERT INTO orders (tenant, id) VALUES ($1, $2)`, keyRows(20, func(i int) []any { return []any{i} }))
	if _, err := e.dbs["a"].Exec(`INSERT INTO orders (id, tenant) VALUES (4242, NULL)`); err != nil {
		t.Fatal(err)
	}
	m := e.migration(t, shard.Table{Name: "orders", KeyColumn: "tenant", PKColumn: "id"})
	err := m.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "4242") || !strings.Contains(err.Error(), "NULL") {
		t.Fatalf("Run with a NULL shard key: %v, want an error naming row 4242 and NULL", err)
	}
	t.Log(err)
	if e.r.Map() != e.from {
		t.Errorf("router holds %v", e.r.Map())
	}
}

// Two tables of the same name in different schemas (a schema per tenant)
// migrate at the same time: each one's change capture records its own
// table's writes. Writes made to the first after the second's Setup are
// replayed by the first's migration, not lost.
func TestMigrationSameTableNameInTwoSchemas(t *testing.T) {
	t.Parallel()
	e := newShapeEnv(t, `CREATE SCHEMA s1; CREATE SCHEMA s2;
		CREATE TABLE s1.orders (id bigint PRIMARY KEY, tenant text NOT NULL);
		CREATE TABLE s2.orders (id bigint PRIMARY KEY, tenant text NOT NULL)`)
	e.insert(t, `INSERT INTO s1.orders (tenant, id) VALUES ($1, $2)`, keyRows(20, func(i int) []any { return []any{i} }))
	ctx := context.Background()
	m1 := e.migration(t, shard.Table{Name: "s1.orders", KeyColumn: "tenant", PKColumn: "id"})
	if err := m1.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m1.Copy(ctx); err != nil {
		t.Fatal(err)
	}
	m2 := e.migration(t, shard.Table{Name: "s2.orders", KeyColumn: "tenant", PKColumn: "id"})
	if err := m2.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	late := keyRows(60, func(i int) []any { return []any{1000 + i} })[20:] // tenants 20…59, new rows
	e.insert(t, `INSERT INTO s1.orders (tenant, id) VALUES ($1, $2)`, late)
	if err := m1.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m1.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	placed, misplaced := e.count(t, "s1.orders", "tenant", e.to)
	if placed != 60 || misplaced != 0 {
		t.Errorf("s1.orders after its migration: %d rows placed by the new map, %d elsewhere; want 60 and 0", placed, misplaced)
	}
	if _, err := m2.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
}

// Rows whose shard key changes after the copy (the application moves
// each to its new key's shard: a delete on one shard, an insert on
// another, under the same primary key, or an UPDATE in place, which the
// replay moves), and rows deleted after it, end where the new map names their new key, or
// nowhere, once the migration has run: none lost, duplicated or revived.
func TestMigrationShardKeyChangesAndDeletesAfterCopy(t *testing.T) {
	t.Parallel()
	e := newShapeEnv(t, `CREATE TABLE orders (id bigint PRIMARY KEY, tenant text NOT NULL)`)
	e.insert(t, `INSERT INTO orders (tenant, id) VALUES ($1, $2)`, keyRows(60, func(i int) []any { return []any{i} }))
	ctx := context.Background()
	m := e.migration(t, shard.Table{Name: "orders", KeyColumn: "tenant", PKColumn: "id"})
	if err := m.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Copy(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		old := fmt.Sprintf("tenant-%d", i)
		db := e.dbs[e.from.Name(shard.KeyString(old))]
		var err error
		switch i % 3 {
		case 0: // the application moves the row to its new key's shard
			renamed := fmt.Sprintf("renamed-%d", i)
			if i%2 == 1 { // … or changes the key in place (the migration moves it)
				_, err = db.Exec(`UPDATE orders SET tenant = $2 WHERE id = $1`, i, renamed)
				break
			}
			if _, err = db.Exec(`DELETE FROM orders WHERE id = $1`, i); err == nil {
				_, err = e.dbs[e.from.Name(shard.KeyString(renamed))].Exec(`INSERT INTO orders (id, tenant) VALUES ($1, $2)`, i, renamed)
			}
		case 1:
			_, err = db.Exec(`DELETE FROM orders WHERE id = $1`, i)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	placed, misplaced := e.count(t, "orders", "tenant", e.to)
	if placed != 40 || misplaced != 0 {
		t.Errorf("%d rows placed by the new map, %d elsewhere; want 40 and 0", placed, misplaced)
	}
}
