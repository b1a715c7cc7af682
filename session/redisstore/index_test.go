package redisstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/redisstore"
	"github.com/ladder-go/ladder/session/sessiontest"
)

// pauseHook holds the first script call on one key until released, so a test can run
// something between a store method's index update and its script.
type pauseHook struct {
	key             string
	paused, release chan struct{}
}

func (h *pauseHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *pauseHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *pauseHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		args := cmd.Args()
		if h.paused != nil && (cmd.Name() == "evalsha" || cmd.Name() == "eval") && len(args) > 3 && args[3] == h.key {
			close(h.paused)
			h.paused = nil // the hooked client runs one command at a time here
			<-h.release
		}
		return next(ctx, cmd)
	}
}

// paused returns a store whose first script on key waits until release is closed, and a
// channel closed when it started waiting.
func pausedStore(t *testing.T, srv testenv.RedisServer, key string) (s *redisstore.Store, paused <-chan struct{}, release chan struct{}) {
	c := srv.Client(t)
	h := &pauseHook{key: srv.Prefix + "{session:" + key + "}", paused: make(chan struct{}), release: make(chan struct{})}
	c.AddHook(h)
	s, err := redisstore.New(c, redisstore.Options{Prefix: srv.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	return s, h.paused, h.release
}

func userKey(prefix, user string) string {
	sum := sha256.Sum256([]byte(user))
	return prefix + "{session:user:" + hex.EncodeToString(sum[:]) + "}"
}

// A DestroyUser that runs between an Apply's index update and its script must not drop
// the session from the index: once bound, a later DestroyUser finds it.
func TestDestroyUserDuringBindKeepsIndex(t *testing.T) {
	srv := testenv.Redis(t)
	s := newStoreOn(t, srv)
	key, user := sessiontest.Key(), "u-"+sessiontest.Key()[:8]
	now := time.Now()
	if err := s.Create(t.Context(), key, session.Record{Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	hooked, paused, release := pausedStore(t, srv, key)
	done := make(chan error, 1)
	go func() {
		done <- hooked.Apply(t.Context(), key, session.Update{SetUser: true, User: user, Expires: now.Add(time.Hour)})
	}()
	<-paused
	if _, err := s.DestroyUser(t.Context(), user, time.Minute); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if n, err := s.DestroyUser(t.Context(), user, time.Minute); err != nil || n != 1 {
		t.Fatalf("DestroyUser after the bind = %d, %v; want 1", n, err)
	}
}

// A DestroyUser that runs between a Create's index update and its script either stops
// the Create or leaves the session in the index.
func TestDestroyUserDuringCreate(t *testing.T) {
	srv := testenv.Redis(t)
	s := newStoreOn(t, srv)
	key, user := sessiontest.Key(), "u-"+sessiontest.Key()[:8]
	hooked, paused, release := pausedStore(t, srv, key)
	now := time.Now()
	done := make(chan error, 1)
	go func() {
		done <- hooked.Create(t.Context(), key, session.Record{User: user, Created: now, Expires: now.Add(time.Hour)})
	}()
	<-paused
	if _, err := s.DestroyUser(t.Context(), user, time.Minute); err != nil {
		t.Fatal(err)
	}
	close(release)
	err := <-done
	if err != nil && !errors.Is(err, session.ErrExists) {
		t.Fatalf("Create: %v", err)
	}
	n, err := s.DestroyUser(t.Context(), user, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, lerr := s.Load(t.Context(), key); !errors.Is(lerr, session.ErrNotFound) {
		t.Fatalf("session bound to the user survived DestroyUser (second DestroyUser destroyed %d): %v", n, lerr)
	}
}

// The user index lives as long as the sessions in it, also when their idle deadline
// moves forward without a new SetUser.
func TestIndexFollowsIdleRefresh(t *testing.T) {
	srv := testenv.Redis(t)
	s := newStoreOn(t, srv)
	c := srv.Client(t)
	key, user := sessiontest.Key(), "u-"+sessiontest.Key()[:8]
	now := time.Now()
	if err := s.Create(t.Context(), key, session.Record{User: user, Created: now, Expires: now.Add(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(t.Context(), key, session.Update{Expires: now.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if ttl, err := c.PTTL(t.Context(), userKey(srv.Prefix, user)).Result(); err != nil || ttl < 2*time.Hour-time.Minute {
		t.Fatalf("user index PTTL = %v, %v; want ≥ the session's (2h)", ttl, err)
	}
}

// An update that deletes more values than one Lua unpack takes (8000).
func TestApplyDeletesManyValues(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	key := sessiontest.Key()
	now := time.Now()
	rec := session.Record{Values: map[string][]byte{}, Created: now, Expires: now.Add(time.Hour)}
	del := session.Update{}
	for i := range 9000 {
		k := "k" + strconv.Itoa(i)
		rec.Values[k] = []byte("1")
		del.Delete = append(del.Delete, k)
	}
	rec.Values["keep"] = []byte("1")
	if err := s.Create(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, key, del); err != nil {
		t.Fatalf("Apply deleting 9000 values: %v", err)
	}
	if got, err := s.Load(ctx, key); err != nil || len(got.Values) != 1 {
		t.Fatalf("%d values (%v), want 1", len(got.Values), err)
	}
}

func newStoreOn(t *testing.T, srv testenv.RedisServer) *redisstore.Store {
	s, err := redisstore.New(srv.Client(t), redisstore.Options{Prefix: srv.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
