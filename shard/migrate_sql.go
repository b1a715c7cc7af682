package shard

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// tableSQL is the statements for one table, built from its catalog entry.
type tableSQL struct {
	ready                 bool
	tbl, pk, key, pkType  string // quoted names; the primary key's SQL type
	trigFn                string
	selectAfter, selFirst string // a batch in pk order: pk, key, row json
	selectRange           string // rows with lo < pk ≤ hi
	selectOpen            string // rows with pk > lo
	selectTo              string // rows with pk ≤ hi
	selectAll             string
	selectPKs             string // rows whose pk is in a JSON array
	upsert, deletePKs     string
}

func quote(id string) string {
	if s, n, ok := cutLast(id, "."); ok {
		return `"` + s + `"."` + n + `"`
	}
	return `"` + id + `"`
}

// sqlLiteral quotes s as an SQL string literal.
func sqlLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// prepare reads the table's columns and primary key type from one shard's
// catalog and builds the statements.
func (m *Migration) prepare(ctx context.Context) error {
	if m.q.ready {
		return nil
	}
	db := m.dbs[m.from.Shards()[0]]
	// The name is looked up as quoted, as every statement uses it: a
	// mixed-case name ("Orders") is not folded to another table (orders).
	rows, err := db.QueryContext(ctx, `SELECT attname, format_type(atttypid, atttypmod), attgenerated <> '', attidentity = 'a'
		FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, quote(m.t.Name))
	if err != nil {
		return fmt.Errorf("shard: migration: reading the columns of %s: %w", m.t.Name, err)
	}
	defer rows.Close()
	var cols, ins, set []string
	q := tableSQL{tbl: quote(m.t.Name), pk: quote(m.t.PKColumn), key: quote(m.t.KeyColumn)}
	for rows.Next() {
		var c, typ string
		var generated, always bool
		if err := rows.Scan(&c, &typ, &generated, &always); err != nil {
			return fmt.Errorf("shard: migration: %w", err)
		}
		if c == m.t.PKColumn {
			q.pkType = typ
		}
		cols = append(cols, c)
		// A generated column is computed again where the row is written;
		// an identity column GENERATED ALWAYS is written with OVERRIDING
		// SYSTEM VALUE and, as UPDATE cannot set it, never updated.
		if !generated {
			ins = append(ins, quote(c))
			if c != m.t.PKColumn && !always {
				set = append(set, fmt.Sprintf("%s = EXCLUDED.%s", quote(c), quote(c)))
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("shard: migration: %w", err)
	}
	if q.pkType == "" {
		return invalid("Table.PKColumn %q: not a column of %s", m.t.PKColumn, m.t.Name)
	}
	if !containsStr(cols, m.t.KeyColumn) {
		return invalid("Table.KeyColumn %q: not a column of %s", m.t.KeyColumn, m.t.Name)
	}
	// Rows are found and upserted by the primary key column alone: it must
	// be unique by itself (the primary key, or a unique index on it alone).
	var unique bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
		WHERE i.indrelid = $1::regclass AND i.indisunique AND i.indnkeyatts = 1
			AND i.indpred IS NULL AND i.indexprs IS NULL AND a.attname = $2)`, quote(m.t.Name), m.t.PKColumn).Scan(&unique); err != nil {
		return fmt.Errorf("shard: migration: reading the indexes of %s: %w", m.t.Name, err)
	}
	if !unique {
		return invalid("Table.PKColumn %q: not unique by itself in %s (a composite primary key, or no unique index on it): the migration finds rows by it", m.t.PKColumn, m.t.Name)
	}
	conflict := "DO NOTHING"
	if len(set) > 0 {
		conflict = "DO UPDATE SET " + strings.Join(set, ", ")
	}
	// One capture function per table: named by a hash of the qualified
	// name, so that tables of one name in two schemas, or long names that
	// PostgreSQL would truncate to one identifier, never share (and
	// overwrite) each other's function.
	_, base, _ := cutLast(m.t.Name, ".")
	q.trigFn = quote(fmt.Sprintf("ladder_shard_capture_%.24s_%016x", base, KeyString(m.t.Name)))
	sel := fmt.Sprintf("SELECT %s::text, %s::text, row_to_json(t)::text FROM %s t", q.pk, q.key, q.tbl)
	pkArg := func(n int) string { return fmt.Sprintf("$%d::text::%s", n, q.pkType) }
	q.selFirst = fmt.Sprintf("%s ORDER BY t.%s LIMIT $1", sel, q.pk)
	q.selectAfter = fmt.Sprintf("%s WHERE t.%s > %s ORDER BY t.%s LIMIT $2", sel, q.pk, pkArg(1), q.pk)
	q.selectRange = fmt.Sprintf("%s WHERE %s > %s AND %s <= %s", sel, q.pk, pkArg(1), q.pk, pkArg(2))
	q.selectAll = sel
	q.selectTo = fmt.Sprintf("%s WHERE %s <= %s", sel, q.pk, pkArg(1))
	q.selectOpen = fmt.Sprintf("%s WHERE %s > %s", sel, q.pk, pkArg(1))
	inPKs := fmt.Sprintf("%s IN (SELECT json_array_elements_text($1::json)::%s)", q.pk, q.pkType)
	q.selectPKs = fmt.Sprintf("%s WHERE %s", sel, inPKs)
	colList := strings.Join(ins, ", ")
	q.upsert = fmt.Sprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM json_populate_recordset(NULL::%s, $1::json) ON CONFLICT (%s) %s",
		q.tbl, colList, colList, q.tbl, q.pk, conflict)
	q.deletePKs = fmt.Sprintf("DELETE FROM %s WHERE %s", q.tbl, inPKs)
	q.ready = true
	m.q = q
	return nil
}

func containsStr(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// captureSQL installs the change capture on one shard: the control and
// change tables, the trigger function (refusing writes routed by a stale
// map once the table's minimum version is set) and the trigger.
func (m *Migration) captureSQL() []string {
	q := m.q
	name := sqlLiteral(m.t.Name)
	return []string{
		`CREATE TABLE IF NOT EXISTS ladder_shard_ctl (tbl text PRIMARY KEY, min_version bigint NOT NULL DEFAULT 0)`,
		`CREATE TABLE IF NOT EXISTS ladder_shard_changes (seq bigserial PRIMARY KEY, tbl text NOT NULL, pk text NOT NULL)`,
		fmt.Sprintf(`INSERT INTO ladder_shard_ctl (tbl) VALUES (%s) ON CONFLICT DO NOTHING`, name),
		fmt.Sprintf(`CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
	mv bigint;
	v text;
BEGIN
	IF current_setting('ladder.shard_apply', true) = 'on' THEN
		RETURN NULL; -- the migration's own writes
	END IF;
	SELECT min_version INTO mv FROM ladder_shard_ctl WHERE tbl = %s;
	IF coalesce(mv, 0) > 0 THEN
		v := nullif(current_setting('ladder.shard_map_version', true), '');
		IF v IS NULL OR v::numeric < mv THEN
			RAISE EXCEPTION 'ladder_shard_stale_route: %% needs writes routed by shard map version %% or later, this one by %%', %s, mv, coalesce(v, 'an untagged map');
		END IF;
	END IF;
	IF TG_OP <> 'INSERT' THEN
		INSERT INTO ladder_shard_changes (tbl, pk) VALUES (%s, OLD.%s::text);
	END IF;
	IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.%s IS DISTINCT FROM OLD.%s) THEN
		INSERT INTO ladder_shard_changes (tbl, pk) VALUES (%s, NEW.%s::text);
	END IF;
	RETURN NULL;
END
$fn$`, q.trigFn, name, name, name, q.pk, q.pk, q.pk, name, q.pk),
		fmt.Sprintf(`DROP TRIGGER IF EXISTS ladder_shard_capture ON %s`, q.tbl),
		fmt.Sprintf(`CREATE TRIGGER ladder_shard_capture AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION %s()`, q.tbl, q.trigFn),
	}
}

// Setup creates the progress tables in the control database and installs
// the change capture on every shard. It is idempotent.
func (m *Migration) Setup(ctx context.Context) error {
	if err := m.prepare(ctx); err != nil {
		return err
	}
	for _, s := range []string{
		`CREATE TABLE IF NOT EXISTS ladder_shard_migrations (id text PRIMARY KEY, phase text NOT NULL,
			from_version bigint NOT NULL, to_version bigint NOT NULL, updated timestamptz NOT NULL DEFAULT now())`,
		`CREATE TABLE IF NOT EXISTS ladder_shard_copy (id text NOT NULL, shard text NOT NULL, last_pk text,
			done boolean NOT NULL DEFAULT false, PRIMARY KEY (id, shard))`,
	} {
		if _, err := m.ctl.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("shard: migration: creating progress tables: %w", err)
		}
	}
	phase, err := m.Phase(ctx)
	if err != nil {
		return err
	}
	if phase != "" && phase != PhaseCopying && phase != PhaseCopied {
		return fmt.Errorf("%w: Setup in phase %s", ErrPhase, phase)
	}
	for _, name := range m.shardNames() {
		tx, err := m.dbs[name].BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("shard: migration: shard %s: %w", name, err)
		}
		for _, s := range m.captureSQL() {
			if _, err = tx.ExecContext(ctx, s); err != nil {
				break
			}
		}
		if err == nil {
			err = tx.Commit()
		} else {
			_ = tx.Rollback()
		}
		if err != nil {
			return fmt.Errorf("shard: migration: installing change capture on shard %s: %w", name, err)
		}
	}
	if phase == "" {
		if err := m.setPhase(ctx, PhaseCopying); err != nil {
			return err
		}
		m.log.Info("shard migration set up", "from", m.from.Version(), "to", m.to.Version(), "table", m.t.Name)
	}
	return nil
}

// Phase returns the phase persisted in the control database ("" before
// Setup).
func (m *Migration) Phase(ctx context.Context) (string, error) {
	var phase string
	err := m.ctl.QueryRowContext(ctx, `SELECT phase FROM ladder_shard_migrations WHERE id = $1`, m.o.ID).Scan(&phase)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil && isUndefinedTable(err):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("shard: migration: reading progress: %w", err)
	}
	return phase, nil
}

func isUndefinedTable(err error) bool {
	return strings.Contains(err.Error(), "42P01") || strings.Contains(err.Error(), "does not exist")
}

func (m *Migration) setPhase(ctx context.Context, phase string) error {
	_, err := m.ctl.ExecContext(ctx, `INSERT INTO ladder_shard_migrations (id, phase, from_version, to_version)
		VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET phase = EXCLUDED.phase, updated = now()`,
		m.o.ID, phase, int64(m.from.Version()), int64(m.to.Version()))
	if err != nil {
		return fmt.Errorf("shard: migration: saving phase %s: %w", phase, err)
	}
	return nil
}

// row is one row read from a shard: its primary key and shard key as text
// and the whole row as JSON (row_to_json), which is also what its checksum
// is taken over.
type row struct {
	pk, key, js string
}

func scanRows(rs *sql.Rows) ([]row, error) {
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		var key sql.NullString
		if err := rs.Scan(&r.pk, &key, &r.js); err != nil {
			return nil, err
		}
		if !key.Valid {
			return nil, fmt.Errorf("the row with primary key %s has a NULL shard key, which no map can route: give it a key (or delete it) and run the migration again", r.pk)
		}
		r.key = key.String
		out = append(out, r)
	}
	return out, rs.Err()
}

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// upsertRows writes rows (their JSON) on one shard, as the migration (the
// capture trigger ignores it).
func (m *Migration) upsertRows(ctx context.Context, tx queryer, rows []row) error {
	if len(rows) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(r.js)
	}
	b.WriteByte(']')
	_, err := tx.ExecContext(ctx, m.q.upsert, b.String())
	return err
}

func (m *Migration) deleteKeys(ctx context.Context, tx queryer, pks []string) error {
	if len(pks) == 0 {
		return nil
	}
	js, _ := json.Marshal(pks)
	_, err := tx.ExecContext(ctx, m.q.deletePKs, string(js))
	return err
}

func (m *Migration) rowsByKeys(ctx context.Context, db queryer, pks []string) ([]row, error) {
	js, _ := json.Marshal(pks)
	rs, err := db.QueryContext(ctx, m.q.selectPKs, string(js))
	if err != nil {
		return nil, err
	}
	return scanRows(rs)
}

// applyTx begins a transaction on db whose writes the capture trigger
// ignores.
func applyTx(ctx context.Context, db *sql.DB) (*sql.Tx, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `SELECT set_config('ladder.shard_apply', 'on', true)`); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	return tx, nil
}

// TagTx tags tx with the version of the map its writes were routed by.
// Once a migration has cut over, the shards it touched refuse writes
// tagged with an older version (or untagged) until its Cleanup, with an
// error [IsStaleRoute] recognises: reload the map and retry. Tag every
// write transaction while a migration may be running.
func TagTx(ctx context.Context, tx *sql.Tx, m *Map) error {
	_, err := tx.ExecContext(ctx, `SELECT set_config('ladder.shard_map_version', $1, true)`, fmt.Sprint(m.Version()))
	if err != nil {
		return fmt.Errorf("shard: tagging a transaction: %w", err)
	}
	return nil
}

// IsStaleRoute reports whether err is a shard refusing a write routed by a
// map older than the one a migration cut over to (see [TagTx]).
func IsStaleRoute(err error) bool {
	return err != nil && strings.Contains(err.Error(), "ladder_shard_stale_route")
}
