package redisstore

import (
	"context"
	"errors"
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

// DestroyUser implements session.Store. Index members that now belong to another user
// or are gone are skipped; renewed sessions are followed to their successor.
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
	for _, key := range members {
		for range maxForwards {
			res, err := destroyScript.Run(ctx, s.c, []string{s.key(key)}, graceMs(grace), user).Result()
			if err != nil {
				return n, wrap("destroy user", err)
			}
			if next, ok := res.(string); ok {
				key = next
				continue
			}
			if r, _ := res.(int64); r == 1 {
				n++
			}
			break
		}
	}
	if len(members) > 0 {
		// Remove only what was read: a session indexed meanwhile stays indexed.
		args := make([]any, len(members))
		for i, m := range members {
			args[i] = m
		}
		if err := s.c.SRem(ctx, uk, args...).Err(); err != nil {
			return n, wrap("destroy user", err)
		}
	}
	return n, nil
}
