package redisstore_test

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/redisstore"
	"github.com/ladder-go/ladder/session/sessiontest"
	"github.com/redis/go-redis/v9"
)

func newStore(t *testing.T) *redisstore.Store {
	t.Helper()
	srv := testenv.Redis(t)
	return openStore(t, srv.Client(t), srv.Prefix)
}

// openStore builds a store on c under prefix.
func openStore(t *testing.T, c redis.UniversalClient, prefix string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(c, redisstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store { return newStore(t) })
}

func TestOptions(t *testing.T) {
	srv := testenv.Redis(t)
	for _, c := range []struct {
		name string
		c    redis.UniversalClient
		opts redisstore.Options
	}{{"nil client", nil, redisstore.Options{}}, {"brace in Prefix", srv.Client(t), redisstore.Options{Prefix: "a{b"}}} {
		_, err := redisstore.New(c.c, c.opts)
		if !errors.Is(err, session.ErrInvalidOptions) || !errors.Is(err, redisstore.ErrInvalidOptions) {
			t.Errorf("%s: %v, want ErrInvalidOptions", c.name, err)
			continue
		}
		// The prefix once, first, and no other package's.
		if msg := err.Error(); !strings.HasPrefix(msg, "redisstore: invalid options: ") ||
			strings.Count(msg, "redisstore: ") != 1 || strings.Contains(msg, "session: ") {
			t.Errorf("%s: %q: want the prefix \"redisstore: \" once, first", c.name, msg)
		}
	}
}

func TestServers(t *testing.T) {
	srv := testenv.Redis(t)
	sessiontest.RunServers(t, func(t *testing.T) session.Store { return openStore(t, srv.Client(t), srv.Prefix) })
}

// Keys carry the {session:…} hash tag, expire in Redis by themselves, and tombstones and
// user indexes expire too.
func TestKeysAndExpiry(t *testing.T) {
	srv := testenv.Redis(t)
	c := srv.Client(t)
	s, err := redisstore.New(c, redisstore.Options{Prefix: srv.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	key := sessiontest.Key()
	now := time.Now()
	if err := s.Create(ctx, key, session.Record{Values: map[string][]byte{"a": []byte("1")}, User: "alice",
		Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(ctx, srv.Prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	if len(keys) != 2 || keys[0] != srv.Prefix+"{session:"+key+"}" || !strings.HasPrefix(keys[1], srv.Prefix+"{session:user:") ||
		strings.Contains(keys[1], "alice") {
		t.Fatalf("keys = %q", keys)
	}
	for _, k := range keys {
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil || ttl < 59*time.Minute || ttl > 62*time.Minute {
			t.Errorf("PTTL %s = %v, %v; want about an hour", k, ttl, err)
		}
	}
	// A tombstone lives for the grace, but never less than a minute (a resent Create
	// must still meet it; see the package doc).
	if err := s.Destroy(ctx, key, 90*time.Second); err != nil {
		t.Fatal(err)
	}
	if ttl, err := c.PTTL(ctx, keys[0]).Result(); err != nil || ttl <= 80*time.Second || ttl > 90*time.Second {
		t.Errorf("tombstone PTTL = %v, %v; want ≤ 90s", ttl, err)
	}
	if err := s.Destroy(ctx, key, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if ttl, err := c.PTTL(ctx, keys[0]).Result(); err != nil || ttl <= 50*time.Second || ttl > time.Minute {
		t.Errorf("tombstone PTTL with 30s grace = %v, %v; want a minute", ttl, err)
	}
	if n, err := c.HLen(ctx, keys[0]).Result(); err != nil || n != 1 {
		t.Errorf("tombstone has %d fields (%v); want only the marker", n, err)
	}
}

// An update with more values than one Lua unpack takes.
func TestApplyManyValues(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	key := sessiontest.Key()
	now := time.Now()
	if err := s.Create(ctx, key, session.Record{Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	u := session.Update{Set: map[string][]byte{}}
	for i := range 1234 {
		u.Set["k"+strconv.Itoa(i)] = []byte(strconv.Itoa(i))
	}
	if err := s.Apply(ctx, key, u); err != nil {
		t.Fatal(err)
	}
	del := session.Update{}
	for i := range 1000 {
		del.Delete = append(del.Delete, "k"+strconv.Itoa(i))
	}
	if err := s.Apply(ctx, key, del); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Load(ctx, key)
	if err != nil || len(rec.Values) != 234 || string(rec.Values["k1233"]) != "1233" {
		t.Fatalf("%d values (%v), want 234", len(rec.Values), err)
	}
}
