package multidc

// The region's control API, for the parent (loopback only), and helpers.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/shard"
)

func (s *sharded) handler(storeHandler http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/store/", storeHandler)
	mux.HandleFunc("POST /region/peer", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1024))
		s.repl.mu.Lock()
		s.repl.peer = string(b)
		s.repl.mu.Unlock()
	})
	mux.HandleFunc("POST /region/apply", func(w http.ResponseWriter, r *http.Request) {
		var batch []write
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<20)).Decode(&batch); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.apply(r.Context(), batch); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("POST /region/seed", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("users"))
		per, _ := strconv.Atoi(r.URL.Query().Get("posts"))
		reply(w, nil, s.seed(r.Context(), n, per))
	})
	mux.HandleFunc("GET /region/stats", func(w http.ResponseWriter, r *http.Request) {
		s.repl.mu.Lock()
		queued := len(s.repl.queue)
		s.repl.mu.Unlock()
		m := s.users.Map()
		reply(w, regionStats{Region: s.region, Acked: s.repl.acked.Load(), Shipped: s.repl.shipped.Load(),
			Received: s.repl.received.Load(), Queued: queued, Map: m.String(), Shards: m.Shards()}, nil)
	})
	mux.HandleFunc("GET /region/bodies", func(w http.ResponseWriter, r *http.Request) {
		bodies, err := s.bodies(r.Context(), r.URL.Query().Get("prefix"))
		reply(w, bodies, err)
	})
	mux.HandleFunc("GET /region/where", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		m := s.posts.Map()
		sh := m.Name(shard.KeyString(name))
		var users, posts int
		db := s.db(sh)
		err := db.QueryRowContext(r.Context(), `SELECT count(*) FROM app_users`).Scan(&users)
		if err == nil {
			err = db.QueryRowContext(r.Context(), s.q(`SELECT count(*) FROM app_posts WHERE author <> ?`), name).Scan(&posts)
		}
		reply(w, map[string]any{"shard": sh, "users_on_shard": users, "others_posts_on_shard": posts}, err)
	})
	mux.HandleFunc("POST /region/reshard", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("shards"))
		cur := s.users.Map()
		j, err := shard.NewJump(n)
		if err != nil {
			reply(w, nil, err)
			return
		}
		next, err := shard.NewMap(cur.Version()+1, shardNames(n), j)
		if err != nil {
			reply(w, nil, err)
			return
		}
		rep, err := s.move(r.Context(), next)
		reply(w, rep, err)
	})
	mux.HandleFunc("POST /region/isolate", func(w http.ResponseWriter, r *http.Request) {
		next, err := isolateMap(s.users.Map(), r.URL.Query().Get("tenant"))
		if err != nil {
			reply(w, nil, err)
			return
		}
		rep, err := s.move(r.Context(), next)
		reply(w, rep, err)
	})
	mux.HandleFunc("POST /region/hot/reset", func(w http.ResponseWriter, r *http.Request) {
		hot, err := shard.NewHot(s.users.Map().Shards(), shard.HotOptions{})
		if err == nil {
			s.mu.Lock()
			s.hot.Close()
			s.hot = hot
			s.mu.Unlock()
		}
		reply(w, nil, err)
	})
	mux.HandleFunc("GET /region/hot", func(w http.ResponseWriter, r *http.Request) {
		s.mu.RLock()
		st, sug := s.hot.Stats(), s.hot.Suggest()
		s.mu.RUnlock()
		reply(w, hotReport{Shards: st.Shards, Counts: st.Counts, Skew: st.Skew, Max: st.Max, Suggest: sug}, nil)
	})
	return mux
}

type regionStats struct {
	Region                   string
	Acked, Shipped, Received int64
	Queued                   int
	Map                      string
	Shards                   []string
}

type hotReport struct {
	Shards  []string
	Counts  []int64
	Skew    float64
	Max     int
	Suggest []shard.HotKey
}

// seed inserts n users with per posts each, the same in every region (the
// data a region starts with), straight into the shards.
func (s *sharded) seed(ctx context.Context, n, per int) error {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		name := fmt.Sprintf("seed-%05d", i)
		// Untagged, not copied to the other region (seeded alike): no move
		// runs yet.
		if err := s.route(s.users, name).CreateUser(ctx, app.User{Name: name, Created: base}, "seeded"); err != nil && !errors.Is(err, app.ErrTaken) {
			return err
		}
		for k := range per {
			p := app.Post{Author: name, Body: fmt.Sprintf("seed post %d of %s", k, name), Created: base.Add(time.Duration(i*per+k) * time.Second)}
			if err := s.route(s.posts, name).CreatePost(ctx, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// bodies returns every post body starting with prefix, on every shard the
// current map names.
func (s *sharded) bodies(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	for _, sh := range s.posts.Map().Shards() {
		rows, err := s.db(sh).QueryContext(ctx, s.q(`SELECT body FROM app_posts WHERE substr(body, 1, ?) = ?`), len(prefix), prefix)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var b string
			if err := rows.Scan(&b); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, b)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// q rebinds ? placeholders for PostgreSQL.
func (s *sharded) q(query string) string {
	if s.pg == "" {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// createPG creates database name on the server of admin (dropping a
// leftover of that name first) and opens it.
func createPG(ctx context.Context, admin, name string) (*sql.DB, error) {
	a, err := app.OpenPostgres(ctx, admin, app.PostgresOptions{ApplicationName: "ladder-ex05"})
	if err != nil {
		return nil, err
	}
	defer a.Close()
	if _, err := a.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
		return nil, fmt.Errorf("drop database %s: %w", name, err)
	}
	if _, err := a.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	dsn, err := withDatabase(admin, name)
	if err != nil {
		return nil, err
	}
	db, err := app.OpenPostgres(ctx, dsn, app.PostgresOptions{ApplicationName: "ladder-ex05"})
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	return db, nil
}

// withDatabase returns the URL DSN dsn naming database name instead.
func withDatabase(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("postgres DSN %q: want a URL postgres://user@host:port/db?…", redactDSN(dsn))
	}
	u.Path = "/" + name
	return u.String(), nil
}

func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		if q := u.Query(); q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	// keyword/value form: password=secret, password = 'se cret'
	return kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
}

var kvPassword = regexp.MustCompile(`(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)`)

// dropPG drops every database of this run (named tag_…) on the server.
func dropPG(ctx context.Context, admin, tag string) error {
	a, err := app.OpenPostgres(ctx, admin, app.PostgresOptions{ApplicationName: "ladder-ex05"})
	if err != nil {
		return err
	}
	defer a.Close()
	rows, err := a.QueryContext(ctx, `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, tag+"_")
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	rows.Close()
	var errs []error
	for _, n := range names {
		if _, err := a.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+n+`" WITH (FORCE)`); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func reply(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	json.NewEncoder(w).Encode(v)
}

// postJSON posts in as JSON and decodes the answer into out (if not nil).
func postJSON(ctx context.Context, c *http.Client, url string, in, out any) error {
	return callJSON(ctx, c, http.MethodPost, url, in, out)
}

func callJSON(ctx context.Context, c *http.Client, method, url string, in, out any) error {
	var body io.Reader
	if in != nil {
		switch v := in.(type) {
		case string:
			body = bytes.NewBufferString(v)
		default:
			b, err := json.Marshal(in)
			if err != nil {
				return err
			}
			body = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s %s: %s", method, url, e.Error)
		}
		return fmt.Errorf("%s %s: HTTP %d", method, url, resp.StatusCode)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
