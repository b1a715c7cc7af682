package redisstore_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/sessiontest"
)

func create(t *testing.T, s session.Store, key string, values map[string][]byte) {
	t.Helper()
	now := time.Now()
	if err := s.Create(t.Context(), key, session.Record{Values: values, Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

// A renewer that dies between taking its lease and sealing (the lease fields are set by
// hand here, as its freeze left them): writers wait, change nothing while the lease runs,
// and go through once it runs out; a later Renew succeeds.
func TestRenewerDiesHoldingLease(t *testing.T) {
	srv := testenv.Redis(t)
	c := srv.Client(t)
	s := openStore(t, c, srv.Prefix)
	ctx := t.Context()
	key := sessiontest.Key()
	create(t, s, key, nil)
	now, err := c.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	const lease = time.Second
	if err := c.HSet(ctx, srv.Prefix+"{session:"+key+"}", "m:r", "dead-renewer",
		"m:rd", now.Add(lease).UnixMilli()).Err(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Apply(ctx, key, session.Update{Set: map[string][]byte{"a": []byte("1")}}) }()
	time.Sleep(lease / 5)
	if rec, err := s.Load(ctx, key); err != nil || rec.Values["a"] != nil {
		t.Fatalf("during the lease: Load = %q, %v; want the session unchanged", rec.Values, err)
	}
	select {
	case err := <-done:
		t.Fatalf("Apply returned %v during the lease; want it to wait", err)
	default:
	}
	if err := <-done; err != nil {
		t.Fatalf("Apply after the lease: %v", err)
	}
	next := sessiontest.Key()
	if err := s.Renew(ctx, key, next, time.Now().Add(time.Hour), time.Minute); err != nil {
		t.Fatalf("Renew after a dead renewer's lease: %v", err)
	}
	if rec, err := s.Load(ctx, next); err != nil || string(rec.Values["a"]) != "1" {
		t.Fatalf("successor: %q, %v", rec.Values, err)
	}
}

// A Renew that fails after taking its lease releases it at once, so writers do not wait.
func TestFailedRenewReleasesLease(t *testing.T) {
	srv := testenv.Redis(t)
	c := srv.Client(t)
	s := openStore(t, c, srv.Prefix)
	ctx := t.Context()
	key, taken := sessiontest.Key(), sessiontest.Key()
	create(t, s, key, map[string][]byte{"a": []byte("1")})
	create(t, s, taken, nil)
	if err := s.Renew(ctx, key, taken, time.Now().Add(time.Hour), time.Minute); !errors.Is(err, session.ErrExists) {
		t.Fatalf("Renew onto a taken key: %v, want ErrExists", err)
	}
	held, err := c.HExists(ctx, srv.Prefix+"{session:"+key+"}", "m:rd").Result()
	if err != nil || held {
		t.Fatalf("lease still held after the failed Renew (%v)", err)
	}
	if rec, err := s.Load(ctx, taken); err != nil || len(rec.Values) != 0 {
		t.Fatalf("the taken key was changed: %q, %v", rec.Values, err)
	}
}

// Two Renews of one session to different successors, while writers keep updating it:
// exactly one wins, the other finds no session (never two live successors), and every
// acknowledged write is in the winner.
func TestConcurrentRenewsOneSuccessor(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	for round := range 10 {
		oldKey, a, b := sessiontest.Key(), sessiontest.Key(), sessiontest.Key()
		create(t, s, oldKey, map[string][]byte{"base": []byte("1")})
		start := make(chan struct{})
		errs := make([]error, 2)
		var acked []string
		var wg sync.WaitGroup
		for i, next := range []string{a, b} {
			wg.Go(func() {
				<-start
				errs[i] = s.Renew(ctx, oldKey, next, time.Now().Add(time.Hour), time.Minute)
			})
		}
		wg.Go(func() {
			<-start
			for i := range 20 {
				k := "w" + strconv.Itoa(i)
				if err := s.Apply(ctx, oldKey, session.Update{Set: map[string][]byte{k: []byte(k)}}); err != nil {
					t.Errorf("Apply %s: %v", k, err)
					return
				}
				acked = append(acked, k)
			}
		})
		close(start)
		wg.Wait()
		var won []string
		for i, next := range []string{a, b} {
			switch {
			case errs[i] == nil:
				won = append(won, next)
			case !errors.Is(errs[i], session.ErrNotFound):
				t.Fatalf("round %d: Renew: %v", round, errs[i])
			}
		}
		if len(won) != 1 {
			t.Fatalf("round %d: %d Renews succeeded (%v); want exactly one", round, len(won), errs)
		}
		for _, k := range []string{a, b} {
			rec, err := s.Load(ctx, k)
			if k != won[0] {
				if err == nil {
					t.Fatalf("round %d: the losing successor is live: %q", round, rec.Values)
				}
				continue
			}
			if err != nil {
				t.Fatalf("round %d: winner: %v", round, err)
			}
			for _, w := range acked {
				if rec.Values[w] == nil {
					t.Fatalf("round %d: acknowledged write %s missing from the successor", round, w)
				}
			}
		}
	}
}

// A renewer that stalls between its copy and its seal past its lease: a writer waiting on
// the lease goes through once it runs out, so the seal must see the change and Renew copy
// again; the acknowledged write is in the successor, and Renew still succeeds.
func TestStalledRenewerCopiesAgain(t *testing.T) {
	oldKey, newKey := sessiontest.Key(), sessiontest.Key()
	sealing, written := make(chan struct{}), make(chan struct{})
	var seals atomic.Int32
	var once sync.Once
	s, _, _ := faultEnv(t, func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error {
		if isSeal(args, newKey) && seals.Add(1) == 1 {
			once.Do(func() { close(sealing) })
			<-written // stalled until the writer got in after the lease
		}
		return next(ctx, cmd)
	})
	create(t, s, oldKey, map[string][]byte{"base": []byte("1")})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(written)
		// Runs once the Renew holds the lease (its first seal is blocked meanwhile).
		<-sealing
		if err := s.Apply(t.Context(), oldKey, session.Update{Set: map[string][]byte{"late": []byte("1")}}); err != nil {
			t.Errorf("Apply: %v", err)
		}
	})
	err := s.Renew(t.Context(), oldKey, newKey, time.Now().Add(time.Hour), time.Minute)
	once.Do(func() { close(sealing) }) // should Renew fail before sealing
	wg.Wait()
	if err != nil {
		t.Fatalf("Renew: %v", err)
	}
	if rec, err := s.Load(t.Context(), newKey); err != nil || string(rec.Values["late"]) != "1" {
		t.Fatalf("successor %q, %v; want the write made after the lease ran out", rec.Values, err)
	}
	if n := seals.Load(); n < 2 {
		t.Fatalf("%d seals; want a second after the first saw the change", n)
	}
}
