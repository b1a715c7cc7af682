package redisstore_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/sessiontest"
)

// faultHook lets a test act on the script calls a Renew makes: fault is called with the
// command's arguments and the rest of the chain, and does what a faulty network would.
type faultHook struct {
	fault func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error
}

func (h faultHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h faultHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h faultHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		name := strings.ToLower(cmd.Name())
		if name != "evalsha" && name != "eval" {
			return next(ctx, cmd)
		}
		return h.fault(ctx, cmd.Args(), next, cmd)
	}
}

// Script arguments: {evalsha|eval, sha|source, 1, key, ARGV…}.
func isSeal(args []any, newKey string) bool { return len(args) == 7 && args[5] == newKey }

func isFreeze(args []any, newKey string) bool { return len(args) == 6 && args[4] == newKey }

func isCopy(args []any, prefix, newKey string) bool {
	return len(args) >= 8 && args[3] == prefix+"{session:"+newKey+"}"
}

// reviewEnv opens a store whose client runs fault on every script call.
func reviewEnv(t *testing.T, fault func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error) (session.Store, *redis.Client, string) {
	srv := testenv.Redis(t)
	c := srv.Client(t)
	c.AddHook(faultHook{fault: fault})
	return openStore(t, c, srv.Prefix), c, srv.Prefix
}

// lostReply is what go-redis reports when a command's reply does not arrive in time: the
// command may well have run.
var lostReply = &net.OpError{Op: "read", Net: "tcp", Err: errors.New("i/o timeout")}

// The seal runs but its reply is lost (a read timeout, or the request's context ending
// while the reply is on its way): Renew must not delete the successor the old key now
// forwards to, which would lose the session. Either Renew reports success and the
// successor holds the session, or it fails and the session is still under the old key.
func TestRenewSealReplyLost(t *testing.T) {
	for _, how := range []string{"timeout", "canceled"} {
		t.Run(how, func(t *testing.T) {
			oldKey, newKey := sessiontest.Key(), sessiontest.Key()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			s, _, _ := reviewEnv(t, func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error {
				err := next(ctx, cmd)
				if err == nil && isSeal(args, newKey) {
					if how == "canceled" {
						cancel()
						err = ctx.Err()
					} else {
						err = lostReply
					}
					cmd.SetErr(err)
				}
				return err
			})
			create(t, s, oldKey, map[string][]byte{"cart": []byte("3 books")})
			err := s.Renew(ctx, oldKey, newKey, time.Now().Add(time.Hour), time.Minute)
			bg := t.Context()
			if err == nil {
				if rec, err := s.Load(bg, newKey); err != nil || string(rec.Values["cart"]) != "3 books" {
					t.Fatalf("Renew succeeded, but the successor holds %q, %v", rec.Values, err)
				}
				return
			}
			if rec, lerr := s.Load(bg, oldKey); lerr != nil || string(rec.Values["cart"]) != "3 books" {
				t.Fatalf("Renew failed (%v) and lost the session: old key %q, %v", err, rec.Values, lerr)
			}
		})
	}
}

// The seal runs twice (go-redis resends a command whose reply timed out): the second run
// finds the tombstone this Renew left. Renew must succeed, not report ErrNotFound and
// delete the successor.
func TestRenewSealResent(t *testing.T) {
	oldKey, newKey := sessiontest.Key(), sessiontest.Key()
	s, _, _ := reviewEnv(t, runTwice(func(args []any) bool { return isSeal(args, newKey) }))
	create(t, s, oldKey, map[string][]byte{"cart": []byte("3 books")})
	if err := s.Renew(t.Context(), oldKey, newKey, time.Now().Add(time.Hour), time.Minute); err != nil {
		t.Fatalf("Renew with its seal resent: %v", err)
	}
	if rec, err := s.Load(t.Context(), newKey); err != nil || string(rec.Values["cart"]) != "3 books" {
		t.Fatalf("successor: %q, %v", rec.Values, err)
	}
	if err := s.Apply(t.Context(), oldKey, session.Update{Set: map[string][]byte{"b": []byte("2")}}); err != nil {
		t.Fatalf("Apply through the old key: %v", err)
	}
}

// The copy to the successor runs twice (resent after a lost reply): the second run finds
// the copy the first made. Renew must succeed, not fail with ErrExists.
func TestRenewCopyResent(t *testing.T) {
	oldKey, newKey := sessiontest.Key(), sessiontest.Key()
	var prefix string
	s, _, prefix := reviewEnv(t, runTwice(func(args []any) bool { return isCopy(args, prefix, newKey) }))
	create(t, s, oldKey, map[string][]byte{"cart": []byte("3 books")})
	if err := s.Renew(t.Context(), oldKey, newKey, time.Now().Add(time.Hour), time.Minute); err != nil {
		t.Fatalf("Renew with its copy resent: %v", err)
	}
	if rec, err := s.Load(t.Context(), newKey); err != nil || string(rec.Values["cart"]) != "3 books" {
		t.Fatalf("successor: %q, %v", rec.Values, err)
	}
}

// The freeze runs but its reply is lost: Renew fails, and must release the lease it may
// hold, so that the session's writers do not wait it out.
func TestRenewFreezeReplyLostReleasesLease(t *testing.T) {
	oldKey, newKey := sessiontest.Key(), sessiontest.Key()
	s, c, prefix := reviewEnv(t, func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err == nil && isFreeze(args, newKey) {
			err = lostReply
			cmd.SetErr(err)
		}
		return err
	})
	create(t, s, oldKey, nil)
	if err := s.Renew(t.Context(), oldKey, newKey, time.Now().Add(time.Hour), time.Minute); err == nil {
		t.Fatal("Renew succeeded although its freeze failed")
	}
	held, err := c.HExists(t.Context(), prefix+"{session:"+oldKey+"}", "m:rd").Result()
	if err != nil || held {
		t.Fatalf("lease still held after the failed Renew (%v)", err)
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
	s, _, _ := reviewEnv(t, func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error {
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

// runTwice is a fault that runs the script calls matching match twice, as go-redis does
// when it resends a command whose reply timed out.
func runTwice(match func(args []any) bool) func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error {
	return func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error {
		if match(args) {
			if err := next(ctx, cmd); err != nil {
				return err
			}
		}
		return next(ctx, cmd)
	}
}

// A Create that runs twice finds the session its first run made: it must succeed, not
// fail with ErrExists (which the Manager answers with an error page at login).
func TestCreateResent(t *testing.T) {
	key := sessiontest.Key()
	var prefix string
	s, _, prefix := reviewEnv(t, runTwice(func(args []any) bool { return args[3] == prefix+"{session:"+key+"}" }))
	create(t, s, key, map[string][]byte{"a": []byte("1")})
	if rec, err := s.Load(t.Context(), key); err != nil || string(rec.Values["a"]) != "1" {
		t.Fatalf("Load: %q, %v", rec.Values, err)
	}
	// A Create of a taken key still fails, resent or not.
	if err := s.Create(t.Context(), key, session.Record{Created: time.Now(), Expires: time.Now().Add(time.Hour)}); !errors.Is(err, session.ErrExists) {
		t.Fatalf("second Create of the key: %v, want ErrExists", err)
	}
}

// A Take that runs twice must return the value (taken by its first run), not lose it.
func TestTakeResent(t *testing.T) {
	key := sessiontest.Key()
	var prefix string
	s, _, prefix := reviewEnv(t, runTwice(func(args []any) bool {
		return args[3] == prefix+"{session:"+key+"}" && len(args) == 6 && args[4] == "flash"
	}))
	create(t, s, key, map[string][]byte{"flash": []byte("saved!")})
	v, err := s.Take(t.Context(), key, "flash")
	if err != nil || string(v) != "saved!" {
		t.Fatalf("Take resent: %q, %v; want the value", v, err)
	}
	if _, err := s.Take(t.Context(), key, "flash"); !errors.Is(err, session.ErrNoValue) {
		t.Fatalf("a second Take: %v, want ErrNoValue", err)
	}
	if rec, err := s.Load(t.Context(), key); err != nil || len(rec.Values) != 0 {
		t.Fatalf("after Take: %q, %v; want no values", rec.Values, err)
	}
}

// A Take runs, its reply is lost, and a login renews the session before go-redis resends
// it: the resend reaches the old key, now a tombstone forwarding to the successor, which
// the copy made without the value. Take must still return the value its first run took.
func TestTakeResentAcrossRenew(t *testing.T) {
	oldKey, newKey := sessiontest.Key(), sessiontest.Key()
	var s session.Store
	var prefix string
	var renewed atomic.Bool
	s, _, prefix = reviewEnv(t, func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error {
		if len(args) == 6 && args[3] == prefix+"{session:"+oldKey+"}" && args[4] == "flash" && !renewed.Load() {
			if err := next(ctx, cmd); err != nil {
				return err // NOSCRIPT: go-redis runs it again with EVAL
			}
			renewed.Store(true)
			// The reply is lost; meanwhile another request renews the session.
			if err := s.Renew(ctx, oldKey, newKey, time.Now().Add(time.Hour), time.Minute); err != nil {
				return err
			}
		}
		return next(ctx, cmd)
	})
	create(t, s, oldKey, map[string][]byte{"flash": []byte("saved!"), "keep": []byte("1")})
	v, err := s.Take(t.Context(), oldKey, "flash")
	if err != nil || string(v) != "saved!" {
		t.Fatalf("Take resent across a Renew: %q, %v; want the value its first run took", v, err)
	}
	if rec, err := s.Load(t.Context(), newKey); err != nil || len(rec.Values) != 1 || string(rec.Values["keep"]) != "1" {
		t.Fatalf("successor: %q, %v; want only keep", rec.Values, err)
	}
}

// DestroyUser's script on a session runs twice (resent after its reply timed out): the
// second run finds the tombstone its first run left. The session was destroyed by this
// call and must be counted.
func TestDestroyUserResentCounts(t *testing.T) {
	key := sessiontest.Key()
	var prefix string
	s, _, prefix := reviewEnv(t, runTwice(func(args []any) bool {
		return len(args) >= 6 && args[3] == prefix+"{session:"+key+"}" && args[5] == "alice"
	}))
	now := time.Now()
	if err := s.Create(t.Context(), key, session.Record{User: "alice", Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	n, err := s.DestroyUser(t.Context(), "alice", time.Minute)
	if err != nil || n != 1 {
		t.Fatalf("DestroyUser resent: %d, %v; want 1", n, err)
	}
	if _, err := s.Load(t.Context(), key); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load after DestroyUser: %v", err)
	}
	// A second DestroyUser finds nothing live: 0.
	if n, err := s.DestroyUser(t.Context(), "alice", time.Minute); err != nil || n != 0 {
		t.Fatalf("second DestroyUser: %d, %v; want 0", n, err)
	}
}

// The first copy runs but its reply is lost: Renew fails and the session stays under the
// old key, so the copy must go too. Left behind, it is a second live session of the user
// (counted by DestroyUser, alive after the user logs out of the real one).
func TestRenewCopyReplyLostLeavesNoCopy(t *testing.T) {
	oldKey, newKey := sessiontest.Key(), sessiontest.Key()
	var prefix string
	s, _, prefix := reviewEnv(t, func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err == nil && isCopy(args, prefix, newKey) {
			err = lostReply
			cmd.SetErr(err)
		}
		return err
	})
	now := time.Now()
	if err := s.Create(t.Context(), oldKey, session.Record{User: "alice", Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Renew(t.Context(), oldKey, newKey, now.Add(time.Hour), time.Minute); err == nil {
		t.Fatal("Renew succeeded although its copy failed")
	}
	if rec, err := s.Load(t.Context(), newKey); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the failed Renew left a live copy at the successor: %+v, %v", rec, err)
	}
	if n, err := s.DestroyUser(t.Context(), "alice", time.Minute); err != nil || n != 1 {
		t.Fatalf("DestroyUser: %d, %v; want 1 (the session under the old key)", n, err)
	}
}
