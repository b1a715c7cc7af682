package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ladder-go/ladder/session"
)

// Renew implements session.Store. It copies the session to newKey, then seals oldKey
// into a tombstone forwarding to newKey if oldKey did not change since the copy (its
// version); otherwise it copies again. Both steps touch one key each, for Cluster.
func (s *Store) Renew(ctx context.Context, oldKey, newKey string, expires time.Time, grace time.Duration) error {
	for try := range maxRenewTry {
		h, err := s.c.HGetAll(ctx, s.key(oldKey)).Result()
		if err != nil {
			return wrap("renew", err)
		}
		if len(h) == 0 || h["m:t"] != "" {
			return s.abandon(ctx, newKey, try, session.ErrNotFound)
		}
		rec, err := parse(h)
		if err != nil {
			return err
		}
		rec.Expires = expires
		if err := s.create(ctx, newKey, rec, try > 0); err != nil {
			return err // ErrExists on the first try: newKey belongs to someone else
		}
		n, err := sealScript.Run(ctx, s.c, []string{s.key(oldKey)}, h["m:v"], newKey, graceMs(grace)).Int()
		if err != nil {
			return s.abandon(ctx, newKey, 1, wrap("renew", err))
		}
		switch n {
		case 1:
			return nil
		case 0:
			return s.abandon(ctx, newKey, 1, session.ErrNotFound)
		}
		// -1: an update reached oldKey after the copy; copy again.
	}
	return s.abandon(ctx, newKey, 1, ErrContention)
}

// abandon deletes a copy made by a Renew that failed (after the first try), and returns err.
func (s *Store) abandon(ctx context.Context, newKey string, try int, err error) error {
	if try > 0 {
		if derr := s.c.Del(context.WithoutCancel(ctx), s.key(newKey)).Err(); derr != nil {
			return errors.Join(err, wrap("renew: removing the copy", derr))
		}
	}
	return err
}

func graceMs(d time.Duration) string {
	if d < time.Millisecond {
		d = time.Millisecond
	}
	return strconv.FormatInt(d.Milliseconds(), 10)
}

// Destroy implements session.Store.
func (s *Store) Destroy(ctx context.Context, key string, grace time.Duration) error {
	return wrap("destroy", destroyScript.Run(ctx, s.c, []string{s.key(key)}, graceMs(grace), "").Err())
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
			res, err := destroyScript.Run(ctx, s.c, []string{s.key(key)}, graceMs(grace), user).Result()
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
