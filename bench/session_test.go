package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	redigo "github.com/gomodule/redigo/redis"
	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/session"
	ladderredis "github.com/ladder-go/ladder/session/redisstore"
)

// BenchmarkMiddleware serves one user's requests through the session middleware with
// its Redis store on the same redis-server: "read" loads the session and reads a counter,
// "write" also increments it. rt/op counts client round trips to Redis per request.
func BenchmarkMiddleware(b *testing.B) {
	addr := os.Getenv("LADDER_REDIS_ADDR")
	if addr == "" {
		b.Skip("LADDER_REDIS_ADDR not set: start redis-server (scripts/bench does)")
	}
	for _, write := range []bool{false, true} {
		variant := "redis-read"
		if write {
			variant = "redis-write"
		}
		b.Run("ladder-"+variant, func(b *testing.B) { benchLadder(b, addr, write) })
		b.Run("scs-"+variant, func(b *testing.B) { benchSCS(b, addr, write) })
	}
}

// rtHook counts go-redis round trips (a pipeline is one).
type rtHook struct{ n *atomic.Int64 }

func (h rtHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h rtHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h rtHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

// countConn counts redigo round trips: every Do (which flushes pending Sends) and Flush.
// Do("") with nothing pending, which the pool calls when a connection is returned, does no
// I/O and is not counted.
type countConn struct {
	redigo.Conn
	n *atomic.Int64
}

func (c countConn) Do(cmd string, args ...any) (any, error) {
	if cmd != "" {
		c.n.Add(1)
	}
	return c.Conn.Do(cmd, args...)
}

func (c countConn) Flush() error { c.n.Add(1); return c.Conn.Flush() }

// ladderManager is a session manager with default options over a Redis
// store whose keys live under prefix.
func ladderManager(b *testing.B, client *redis.Client, prefix string) *session.Manager {
	store, err := ladderredis.New(client, ladderredis.Options{Prefix: prefix})
	if err != nil {
		b.Fatal(err)
	}
	m, err := session.New(store, session.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func benchLadder(b *testing.B, addr string, write bool) {
	var rts atomic.Int64
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true}) // as redisstore.New advises
	defer client.Close()
	client.AddHook(rtHook{&rts})
	m := ladderManager(b, client, "bench:ladder:")
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		n, _ := session.Get[int](s, "n")
		if write || n == 0 {
			if err := session.Put(s, "n", n+1); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		}
	}))
	run(b, h, "session", &rts)
}

func benchSCS(b *testing.B, addr string, write bool) {
	var rts atomic.Int64
	pool := &redigo.Pool{MaxIdle: 16, IdleTimeout: time.Minute, Dial: func() (redigo.Conn, error) {
		c, err := redigo.Dial("tcp", addr)
		if err != nil {
			return nil, err
		}
		return countConn{c, &rts}, nil
	}}
	defer pool.Close()
	sm := scs.New()
	sm.Store = redisstore.NewWithPrefix(pool, "bench:scs:")
	h := sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := sm.GetInt(r.Context(), "n")
		if write || n == 0 {
			sm.Put(r.Context(), "n", n+1)
		}
	}))
	run(b, h, sm.Cookie.Name, &rts)
}

// run logs in once (first request creates the session), then serves b.Loop requests
// carrying its cookie.
func run(b *testing.B, h http.Handler, cookieName string, rts *atomic.Int64) {
	serve := func(cookie string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "http://example.com/", nil)
		req.RemoteAddr = net.JoinHostPort("127.0.0.1", "1")
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		return rec
	}
	var token string
	for _, c := range serve("").Result().Cookies() {
		if c.Name == cookieName {
			token = c.Value
		}
	}
	if token == "" {
		b.Fatal("no session cookie")
	}
	b.ReportAllocs()
	rts.Store(0)
	n := 0
	for b.Loop() {
		serve(token)
		n++
	}
	b.ReportMetric(float64(rts.Load())/float64(n), "rt/op")
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkConcurrentWrites sends 8 concurrent requests of one session, each putting
// its own key, and reports lost% (keys missing afterwards): whole-session stores lose
// writes to the last writer, per-key stores must not.
func BenchmarkConcurrentWrites(b *testing.B) {
	addr := os.Getenv("LADDER_REDIS_ADDR")
	if addr == "" {
		b.Skip("LADDER_REDIS_ADDR not set: start redis-server (scripts/bench does)")
	}
	b.Run("ladder-redis", func(b *testing.B) {
		client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true}) // as redisstore.New advises
		defer client.Close()
		m := ladderManager(b, client, "bench:ladder-race:")
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := session.From(r.Context())
			k := r.URL.Query().Get("k")
			if k == "" {
				_ = session.Put(s, "init", 1)
				return
			}
			if k == "count" {
				n := 0
				for i := range writers {
					if _, err := session.Get[int](s, fmt.Sprint("k", i)); err == nil {
						n++
					}
				}
				fmt.Fprint(w, n)
				return
			}
			_ = session.Put(s, k, 1)
		}))
		raceRun(b, h, session.DefaultCookieName)
	})
	b.Run("scs-redis", func(b *testing.B) {
		pool := &redigo.Pool{MaxIdle: 16, Dial: func() (redigo.Conn, error) { return redigo.Dial("tcp", addr) }}
		defer pool.Close()
		sm := scs.New()
		sm.Store = redisstore.NewWithPrefix(pool, "bench:scs-race:")
		h := sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k := r.URL.Query().Get("k")
			if k == "" {
				sm.Put(r.Context(), "init", 1)
				return
			}
			if k == "count" {
				n := 0
				for i := range writers {
					if sm.Exists(r.Context(), fmt.Sprint("k", i)) {
						n++
					}
				}
				fmt.Fprint(w, n)
				return
			}
			sm.Put(r.Context(), k, 1)
		}))
		raceRun(b, h, sm.Cookie.Name)
	})
}

const writers = 8

func raceRun(b *testing.B, h http.Handler, cookieName string) {
	serve := func(cookie, q string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "http://example.com/?"+q, nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	b.ReportAllocs()
	lost, total := 0, 0
	for b.Loop() {
		var token string
		for _, c := range serve("", "").Result().Cookies() {
			token = c.Value
		}
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() { serve(token, fmt.Sprint("k=k", i)) })
		}
		wg.Wait()
		var kept int
		fmt.Sscan(serve(token, "k=count").Body.String(), &kept)
		lost += writers - kept
		total += writers
	}
	b.ReportMetric(100*float64(lost)/float64(total), "lost%")
}
