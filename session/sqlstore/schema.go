package sqlstore

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// Dialect names the SQL database behind the *sql.DB.
type Dialect int

const (
	// Postgres is PostgreSQL (e.g. the pgx stdlib driver "pgx"); it works through PgBouncer
	// in transaction mode.
	Postgres Dialect = iota + 1
	// SQLite is SQLite (e.g. modernc.org/sqlite, driver "sqlite"). Open it with a busy
	// timeout, e.g. "file:app.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)".
	SQLite
)

func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "Postgres"
	case SQLite:
		return "SQLite"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// queries holds the statements for one table name and dialect, built once.
type queries struct {
	schema                                   []string
	load, create, clearVals, upsertVal       string
	touch, touchAll, forward                 string
	renewSeal, renewInsert, moveVals         string
	destroy, destroyVals, destroyUser, sweep string
	sweepVals                                string
	delVal, takeVal, size                    string
	// isolated is how DestroyUser's transactions run (see DestroyUser).
	isolated *sql.TxOptions
}

func newQueries(d Dialect, table string) queries {
	s, v := table, table+"_values"
	blob := "BYTEA"
	if d == SQLite {
		blob = "BLOB"
	}
	q := queries{
		schema: []string{
			`CREATE TABLE IF NOT EXISTS ` + s + ` (k TEXT PRIMARY KEY, created BIGINT NOT NULL,
				expires BIGINT NOT NULL, usr TEXT NOT NULL DEFAULT '', ver BIGINT NOT NULL DEFAULT 0,
				tomb INTEGER NOT NULL DEFAULT 0, fwd TEXT NOT NULL DEFAULT '')`,
			`CREATE INDEX IF NOT EXISTS ` + s + `_usr ON ` + s + ` (usr) WHERE usr <> ''`,
			`CREATE INDEX IF NOT EXISTS ` + s + `_expires ON ` + s + ` (expires)`,
			`CREATE TABLE IF NOT EXISTS ` + v + ` (k TEXT NOT NULL, name TEXT NOT NULL, v ` + blob + ` NOT NULL,
				PRIMARY KEY (k, name))`,
		},
		load: `SELECT s.created, s.expires, s.usr, v.name, v.v FROM ` + s + ` s LEFT JOIN ` + v +
			` v ON v.k = s.k WHERE s.k = ? AND s.tomb = 0 AND s.expires > ?`,
		// An expired row (session or tombstone) may be replaced; a live one may not.
		create: `INSERT INTO ` + s + ` (k, created, expires, usr, ver, tomb, fwd) VALUES (?, ?, ?, ?, 0, 0, '')
			ON CONFLICT (k) DO UPDATE SET created = excluded.created, expires = excluded.expires,
			usr = excluded.usr, ver = 0, tomb = 0, fwd = '' WHERE ` + s + `.expires <= ?`,
		clearVals: `DELETE FROM ` + v + ` WHERE k = ?`,
		upsertVal: `INSERT INTO ` + v + ` (k, name, v) VALUES (?, ?, ?)
			ON CONFLICT (k, name) DO UPDATE SET v = excluded.v`,
		delVal:  `DELETE FROM ` + v + ` WHERE k = ? AND name = ?`,
		takeVal: `DELETE FROM ` + v + ` WHERE k = ? AND name = ? RETURNING v`,
		size:    `SELECT COALESCE(SUM(length(CAST(name AS BLOB)) + length(v)), 0) FROM ` + v + ` WHERE k = ?`,
		// touch locks the live row first, so every update of one session is serialised
		// against Renew and Destroy.
		touch: `UPDATE ` + s + ` SET ver = ver + 1 WHERE k = ? AND tomb = 0 AND expires > ?`,
		touchAll: `UPDATE ` + s + ` SET ver = ver + 1, usr = CASE WHEN ? = 1 THEN ? ELSE usr END,
			expires = CASE WHEN ? = 1 THEN ? ELSE expires END WHERE k = ? AND tomb = 0 AND expires > ?`,
		forward:   `SELECT fwd FROM ` + s + ` WHERE k = ? AND tomb = 1 AND expires > ?`,
		renewSeal: `UPDATE ` + s + ` SET tomb = 1, fwd = ?, expires = ? WHERE k = ? AND tomb = 0 AND expires > ? RETURNING created, usr`,
		renewInsert: `INSERT INTO ` + s + ` (k, created, expires, usr, ver, tomb, fwd) VALUES (?, ?, ?, ?, 0, 0, '')
			ON CONFLICT (k) DO UPDATE SET created = excluded.created, expires = excluded.expires,
			usr = excluded.usr, ver = 0, tomb = 0, fwd = '' WHERE ` + s + `.expires <= ?`,
		moveVals: `UPDATE ` + v + ` SET k = ? WHERE k = ?`,
		destroy: `INSERT INTO ` + s + ` (k, created, expires, usr, ver, tomb, fwd) VALUES (?, ?, ?, '', 0, 1, '')
			ON CONFLICT (k) DO UPDATE SET tomb = 1, fwd = '', usr = '', expires = excluded.expires`,
		destroyVals: `DELETE FROM ` + v + ` WHERE k = ?`,
		destroyUser: `UPDATE ` + s + ` SET tomb = 1, fwd = '', usr = '', expires = ?
			WHERE usr = ? AND tomb = 0 AND expires > ? RETURNING k`,
		sweepVals: `DELETE FROM ` + v + ` WHERE k IN (SELECT k FROM ` + s + ` WHERE expires <= ?)`,
		sweep:     `DELETE FROM ` + s + ` WHERE expires <= ?`,
	}
	if d == Postgres {
		q.isolated = &sql.TxOptions{Isolation: sql.LevelRepeatableRead}
		for _, p := range []*string{&q.load, &q.create, &q.clearVals, &q.upsertVal, &q.delVal, &q.touch,
			&q.touchAll, &q.forward, &q.renewSeal, &q.renewInsert, &q.moveVals, &q.destroy,
			&q.destroyVals, &q.destroyUser, &q.sweepVals, &q.sweep, &q.takeVal, &q.size} {
			*p = numbered(*p)
		}
		q.size = `SELECT COALESCE(SUM(octet_length(name) + octet_length(v)), 0) FROM ` + v + ` WHERE k = $1`
		// PostgreSQL needs the CASE parameters typed.
		q.touchAll = strings.Replace(q.touchAll, "WHEN $1 = 1", "WHEN $1::int = 1", 1)
		q.touchAll = strings.Replace(q.touchAll, "WHEN $3 = 1", "WHEN $3::int = 1", 1)
		q.touchAll = strings.Replace(q.touchAll, "THEN $2 ELSE", "THEN $2::text ELSE", 1)
		q.touchAll = strings.Replace(q.touchAll, "THEN $4 ELSE", "THEN $4::bigint ELSE", 1)
	}
	return q
}

// numbered rewrites ? placeholders as $1, $2, … for PostgreSQL.
func numbered(q string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// validTable accepts plain SQL identifiers only, since the name is spliced into statements.
func validTable(name string) bool {
	if name == "" || len(name) > 48 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
