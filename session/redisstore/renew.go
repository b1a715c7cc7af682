package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/session"
)

// Renew implements session.Store. It takes a lease on oldKey (its writers wait), copies
// the session to newKey, then seals oldKey into a tombstone forwarding to newKey. Each
// step touches one key, for Cluster. Should the lease run out before the seal (a stalled
// renewer) and a write slip in, the seal's version check fails and Renew copies again.
func (s *Store) Renew(ctx context.Context, oldKey, newKey string, expires time.Time, grace time.Duration) error {
	lease := strconv.FormatInt(renewLease.Milliseconds(), 10)
	for try := range maxRenewTry {
		res, _, err := s.call(ctx, freezeScript, oldKey, []any{newKey, lease}, nil)
		if err != nil {
			// The freeze may have run and lost its reply: release the lease it took.
			_ = s.thaw(ctx, oldKey, newKey)
			return s.abandon(ctx, oldKey, newKey, try > 0, wrap("renew", err))
		}
		r, ok := res.([]any)
		if !ok {
			return s.abandon(ctx, oldKey, newKey, try > 0, session.ErrNotFound)
		}
		rec, version, err := parseFrozen(r[1])
		if err == nil {
			rec.Expires = expires
			// The copy names its origin: a retry replaces this Renew's earlier copy
			// (and a resent copy its first run), never someone else's session.
			err = s.create(ctx, newKey, rec, copyTag(oldKey))
		}
		if err != nil {
			_ = s.thaw(ctx, oldKey, newKey)
			switch {
			case errors.Is(err, errDestroyed):
				// DestroyUser got to the successor's key (indexed before the copy)
				// first, and destroys the old key too: the session is gone.
				return session.ErrNotFound
			case errors.Is(err, session.ErrExists):
				return err // newKey holds someone else's session: leave it
			}
			// The copy may have run and lost its reply: it goes too.
			return s.abandon(ctx, oldKey, newKey, true, err)
		}
		n, err := sealScript.Run(ctx, s.c, []string{s.key(oldKey)}, version, newKey, graceMs(grace)).Int()
		if err != nil {
			return s.sealFailed(ctx, oldKey, newKey, wrap("renew", err))
		}
		switch n {
		case 1:
			return nil
		case 0:
			return s.abandon(ctx, oldKey, newKey, true, session.ErrNotFound)
		}
		// -1: the lease ran out and an update reached oldKey after the copy; copy again.
	}
	return s.abandon(ctx, oldKey, newKey, true, ErrContention)
}

// parseFrozen reads freeze's HGETALL reply: the record and its version.
func parseFrozen(reply any) (session.Record, string, error) {
	flat, ok := reply.([]any)
	if !ok || len(flat)%2 != 0 {
		return session.Record{}, "", fmt.Errorf("redisstore: renew: unexpected reply %T", reply)
	}
	h := make(map[string]string, len(flat)/2)
	for i := 0; i < len(flat); i += 2 {
		f, ok1 := flat[i].(string)
		v, ok2 := flat[i+1].(string)
		if !ok1 || !ok2 {
			return session.Record{}, "", fmt.Errorf("redisstore: renew: unexpected field %T %T", flat[i], flat[i+1])
		}
		h[f] = v
	}
	rec, err := parse(h)
	return rec, h["m:v"], err
}

// thaw releases the lease of a Renew that failed, so writers need not wait it out; if
// this fails too, the lease runs out by itself.
func (s *Store) thaw(ctx context.Context, oldKey, newKey string) error {
	ctx, cancel := cleanupCtx(ctx)
	defer cancel()
	return thawScript.Run(ctx, s.c, []string{s.key(oldKey)}, newKey).Err()
}

// sealFailed handles a seal that returned err: it may have run and lost its reply, and
// then newKey is the session and must stay. Releasing the lease first settles it: a seal
// still on its way then fails, so oldKey either forwards to newKey now or never will.
// It returns nil if the seal ran; err (keeping newKey) if that cannot be told.
func (s *Store) sealFailed(ctx context.Context, oldKey, newKey string, err error) error {
	if s.thaw(ctx, oldKey, newKey) != nil {
		return err
	}
	hctx, cancel := cleanupCtx(ctx)
	f, ferr := s.c.HGet(hctx, s.key(oldKey), "m:f").Result()
	cancel()
	switch {
	case ferr == nil && f == newKey:
		return nil // sealed: the renewal is done
	case ferr != nil && !errors.Is(ferr, redis.Nil):
		return err
	}
	return s.abandon(ctx, oldKey, newKey, true, err)
}

// abandon deletes the copy a Renew that failed may have made (if copied), and returns
// err. Only this Renew's copy goes (its tag): neither another's session nor the
// tombstone DestroyUser may have left at newKey.
func (s *Store) abandon(ctx context.Context, oldKey, newKey string, copied bool, err error) error {
	if copied {
		dctx, cancel := cleanupCtx(ctx)
		derr := dropScript.Run(dctx, s.c, []string{s.key(newKey)}, copyTag(oldKey)).Err()
		cancel()
		if derr != nil {
			return errors.Join(err, wrap("renew: removing the copy", derr))
		}
	}
	return err
}

// cleanupTimeout bounds each command a failed Renew sends to clean up (release its lease,
// remove its copy, tell whether its seal ran). They run even when the Renew's ctx has
// ended, but not unbounded: a stalled Redis would hold the caller for the client's read
// timeouts and retries (5 s with go-redis's defaults) past session.Options.StoreTimeout.
// A cleanup that does not finish is harmless: the lease runs out by itself (renewLease),
// and a leftover copy is a session nobody holds the token of, which expires.
const cleanupTimeout = 250 * time.Millisecond

// cleanupCtx is the ctx of one cleanup command: ctx's values, not its end, bounded by
// cleanupTimeout.
func cleanupCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

// copyTag is the creation tag of a Renew's copy of oldKey: the copy replaces, and abandon
// deletes, only a key carrying it.
func copyTag(oldKey string) string { return "o:" + oldKey }

// minTombstone is the least a tombstone lives, whatever the grace asked for: a command
// that go-redis resends after its reply timed out (a Create, a Take) must still meet the
// tombstone its first run was followed by, or a resent Create would bring a logged-out
// session back. go-redis gives up long before: its retries take about 20 s at most with
// its default timeouts.
const minTombstone = time.Minute

func graceMs(d time.Duration) string {
	return strconv.FormatInt(max(d, minTombstone).Milliseconds(), 10)
}

// Destroy implements session.Store.
func (s *Store) Destroy(ctx context.Context, key string, grace time.Duration) error {
	return wrap("destroy", destroyScript.Run(ctx, s.c, []string{s.key(key)}, graceMs(grace), "", "").Err())
}

// DestroyUser implements session.Store. Renewed sessions are followed to their successor;
// index members that are gone leave the index (a missing key gets a tombstone, so that a
// Create which indexed it and has not run yet fails); live members bound to another user
// are skipped and stay indexed, since an Apply binding them to user may be under way.
func (s *Store) DestroyUser(ctx context.Context, user string, grace time.Duration) (int, error) {
	if user == "" {
		return 0, nil
	}
	uk := s.userKey(user)
	members, err := s.c.SMembers(ctx, uk).Result()
	if err != nil {
		return 0, wrap("destroy user", err)
	}
	n := 0
	var gone []any // members to drop from the index
	for _, member := range members {
		key, r := member, int64(0)
	follow:
		for range maxForwards {
			// A nonce per run: a resend counts what its first run destroyed, and a
			// session reached twice (forwarded to, and indexed) counts once.
			res, err := destroyScript.Run(ctx, s.c, []string{s.key(key)}, graceMs(grace), user, nonce()).Result()
			if err != nil {
				return n, wrap("destroy user", err)
			}
			switch x := res.(type) {
			case string:
				key = x
			case int64:
				r = x
				break follow
			default:
				return n, fmt.Errorf("redisstore: destroy user: unexpected reply %T", res)
			}
		}
		if r == 1 {
			n++
		}
		if r != -1 {
			gone = append(gone, member)
		}
		// r == -1: the session is live and bound to someone else, maybe on its way to
		// user (Apply indexes before binding): it stays indexed.
	}
	if len(gone) > 0 {
		// Remove only what was read and is gone: a session indexed meanwhile stays.
		if err := s.c.SRem(ctx, uk, gone...).Err(); err != nil {
			return n, wrap("destroy user", err)
		}
	}
	return n, nil
}
