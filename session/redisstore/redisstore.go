// Package redisstore keeps sessions in Redis, so every web server behind the load
// balancer sees the same sessions: the store for the "stateless web tier" stage.
//
// Each session is one Redis hash, each value one field of it, so a request's commit
// sets and deletes only the fields it changed, in one atomic Lua script (one round trip;
// an idle refresh of a session bound to a user takes a second one, which extends the
// user's index so that it lives as long as the session).
// The hash expires through PEXPIREAT at the session's idle or absolute deadline, so Redis
// forgets abandoned sessions by itself: the store starts no goroutine.
//
// Keys look like <Prefix>{session:<sha256 of the token>}; the per-user index (for
// DestroyAll) is a set <Prefix>{session:user:<sha256 of the user>}; what a Pop took is kept
// for a minute, for a resend, under <session key>:tk:<nonce>. Every script touches one
// session's keys, all in one hash slot, so the store works with one server, Sentinel and
// Redis Cluster alike (redis.UniversalClient). Renewing an identifier takes a short lease
// on the old key, during which its writers wait (typically for three round trips), copies
// it to the new key and seals the old key into a tombstone that forwards them to the new
// one.
//
// go-redis resends a command whose reply timed out, so every script may run twice; each
// is written to give the same answer then (tested with a hook that runs scripts twice or
// drops their replies). Two bounds make that hold: a Take's resend returns its value for a
// minute after its first run, whatever ran in between (each take keeps the value it took
// that long, in a key of its own next to the session, not in the session that every Load
// reads); and a tombstone lives at least a minute whatever the grace, so that a Create
// resent after a destroy finds the tombstone and fails rather than bringing the session
// back (go-redis stops retrying long before: about 20 s with its default timeouts).
//
// Redis replicates asynchronously: when a Sentinel fails over after a crash, writes the old
// master acknowledged but had not yet sent to its replica are lost (a session created in
// the last moment before the crash, a value set then). Everything that had reached the
// replica survives, tombstones and user indexes included (tested with a real failover).
package redisstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/session"
)

// Options configure a Store. The zero value is valid.
type Options struct {
	// Prefix is put before every key (e.g. "myapp:"); it must not contain '{' or '}'.
	Prefix string
}

// Store is a session.Store on Redis.
type Store struct {
	c      redis.UniversalClient
	prefix string
}

var _ session.Store = (*Store)(nil)

// ErrInvalidOptions is wrapped by every configuration error of New; errors.Is also
// matches it with session.ErrInvalidOptions.
var ErrInvalidOptions error = invalidOptions{}

type invalidOptions struct{}

func (invalidOptions) Error() string        { return "redisstore: invalid options" }
func (invalidOptions) Is(target error) bool { return target == session.ErrInvalidOptions }

// ErrContention reports an operation that kept losing to concurrent renewals of the same
// session (each one holds the session's writers for a short lease).
var ErrContention = errors.New("redisstore: session kept being renewed; retry")

const (
	maxForwards = 8
	maxRenewTry = 16
	// renewLease bounds how long a Renew holds the session's writers: a renewer that
	// dies between its copy and its seal blocks them this long at most.
	renewLease = 2 * time.Second
	// maxFrozenWait bounds how long an update waits on renewals of its session.
	maxFrozenWait = 3 * renewLease
	maxBackoff    = 32 * time.Millisecond
	// indexFallbackTTL keeps a user index alive when an update binds a user without
	// telling the session's expiry (session.Manager always tells it).
	indexFallbackTTL = 31 * 24 * time.Hour
)

// New returns a Store using client. session.Options.StoreTimeout bounds each call through
// its ctx, which go-redis enforces only with redis.Options.ContextTimeoutEnabled set (else a
// stalled Redis holds each call for the client's read timeout and retries: about 5 s with
// go-redis's defaults, whatever StoreTimeout says); New logs a warning, in slog's default
// logger, for a client without it.
func New(client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: client is nil", ErrInvalidOptions)
	}
	if strings.ContainsAny(opts.Prefix, "{}") {
		return nil, fmt.Errorf("%w: Prefix %q: must not contain '{' or '}'", ErrInvalidOptions, opts.Prefix)
	}
	if !contextTimeouts(client) {
		slog.Warn("redisstore: the Redis client ignores context deadlines (ContextTimeoutEnabled is false): " +
			"a stalled Redis holds each session store call for the client's timeouts, not session.Options.StoreTimeout")
	}
	return &Store{c: client, prefix: opts.Prefix}, nil
}

// contextTimeouts reports whether client honours ctx deadlines on its I/O (true when it
// cannot tell).
func contextTimeouts(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case interface{ Options() *redis.Options }:
		return c.Options().ContextTimeoutEnabled
	case interface{ Options() *redis.ClusterOptions }:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

func (s *Store) key(k string) string { return s.prefix + "{session:" + k + "}" }

func (s *Store) userKey(user string) string {
	sum := sha256.Sum256([]byte(user))
	return s.prefix + "{session:user:" + hex.EncodeToString(sum[:]) + "}"
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrContention):
		return fmt.Errorf("%w (%s)", ErrContention, op) // already prefixed: once
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

// Load implements session.Store.
func (s *Store) Load(ctx context.Context, key string) (session.Record, error) {
	h, err := s.c.HGetAll(ctx, s.key(key)).Result()
	if err != nil {
		return session.Record{}, wrap("load", err)
	}
	if h["m:f"] != "" {
		return session.Record{}, session.ErrRenewed
	}
	if len(h) == 0 || h["m:t"] != "" {
		return session.Record{}, session.ErrNotFound
	}
	return parse(h)
}

func parse(h map[string]string) (session.Record, error) {
	c, err1 := strconv.ParseInt(h["m:c"], 10, 64)
	e, err2 := strconv.ParseInt(h["m:e"], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return session.Record{}, fmt.Errorf("redisstore: load: corrupt session hash: %w", err)
	}
	rec := session.Record{Values: make(map[string][]byte, len(h)), User: h["m:u"],
		Created: time.UnixMilli(c), Expires: time.UnixMilli(e)}
	for f, v := range h {
		if name, ok := strings.CutPrefix(f, "v:"); ok {
			rec.Values[name] = []byte(v)
		}
	}
	return rec, nil
}

// Create implements session.Store.
func (s *Store) Create(ctx context.Context, key string, rec session.Record) error {
	return s.create(ctx, key, rec, nonce())
}

// nonce returns a random tag that tells a script's second run (a resend) from another
// caller's.
func nonce() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "n:" + hex.EncodeToString(b[:])
}

// create runs createScript with tag: it fails if key is taken, except by an earlier run
// with the same tag (see createScript).
func (s *Store) create(ctx context.Context, key string, rec session.Record, tag string) error {
	if rec.User != "" {
		if err := s.index(ctx, rec.User, key, rec.Expires); err != nil {
			return wrap("create", err)
		}
	}
	args := make([]any, 0, 4+2*len(rec.Values))
	args = append(args, tag, ms(rec.Created), ms(rec.Expires), rec.User)
	for k, v := range rec.Values {
		args = append(args, k, v)
	}
	n, err := createScript.Run(ctx, s.c, []string{s.key(key)}, args...).Int()
	if err != nil {
		return wrap("create", err)
	}
	switch n {
	case 0:
		return session.ErrExists
	case -1:
		return errDestroyed
	}
	return nil
}

// errDestroyed is the ErrExists of a create onto a tombstone: a Renew whose copy meets
// one lost to a DestroyUser that reached the successor's key first.
var errDestroyed = fmt.Errorf("%w (destroyed)", session.ErrExists)

// index adds key to user's index, which lives at least as long as the session.
func (s *Store) index(ctx context.Context, user, key string, expires time.Time) error {
	uk := s.userKey(user)
	_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, uk, key)
		// The index lives as long as its longest-lived member.
		at := expires.Add(time.Minute).UnixMilli()
		p.Do(ctx, "PEXPIREAT", uk, at, "NX")
		p.Do(ctx, "PEXPIREAT", uk, at, "GT")
		return nil
	})
	return err
}

// Apply implements session.Store.
func (s *Store) Apply(ctx context.Context, key string, u session.Update) error {
	indexExp := u.Expires
	if indexExp.IsZero() {
		indexExp = time.Now().Add(indexFallbackTTL)
	}
	args := make([]any, 0, 5+2*len(u.Set)+len(u.Delete))
	exp, setUser := "", "0"
	if !u.Expires.IsZero() {
		exp = ms(u.Expires)
	}
	if u.SetUser {
		setUser = "1"
	}
	args = append(args, exp, setUser, u.User, max(u.MaxSize, 0), len(u.Set))
	for k, v := range u.Set {
		args = append(args, k, v)
	}
	for _, k := range u.Delete {
		args = append(args, k)
	}
	if u.SetUser && u.User != "" {
		// Index first (a separate key, maybe another Cluster slot), so a concurrent
		// DestroyUser sees the session; a stale entry is harmless.
		if err := s.index(ctx, u.User, key, indexExp); err != nil {
			return wrap("apply", err)
		}
	}
	res, key, err := s.call(ctx, applyScript, key, args, func(succ string) error {
		if u.SetUser && u.User != "" {
			return s.index(ctx, u.User, succ, indexExp) // the successor is indexed too
		}
		return nil
	})
	if err != nil {
		return wrap("apply", err)
	}
	switch r := res.(type) {
	case int64:
		switch r {
		case 1:
			return nil
		case -2:
			return session.ErrTooLarge
		}
		return session.ErrNotFound
	case []any:
		// Applied; the session's expiry moved and it is bound to a user: the index
		// must outlive it (re-adding the key also heals an index that lost it).
		if user, ok := r[1].(string); ok {
			return wrap("apply", s.index(ctx, user, key, u.Expires))
		}
	}
	return fmt.Errorf("redisstore: apply: unexpected reply %T", res)
}

// call runs a session script on key, follows a renewed session to its successor
// (calling onForward, if not nil, before running the script there) and waits out a
// renewal under way. It returns the script's last reply, and the key it ran on. Replies
// {2, successor} and {3, ms left} are handled here and never returned; a
// two-element reply of another kind is returned as []any of length 2.
func (s *Store) call(ctx context.Context, sc *redis.Script, key string, args []any, onForward func(string) error) (any, string, error) {
	hops, backoff := 0, time.Millisecond
	var waitUntil time.Time
	for {
		res, err := sc.Run(ctx, s.c, []string{s.key(key)}, args...).Result()
		if err != nil {
			return nil, key, err
		}
		r, ok := res.([]any)
		if !ok {
			return res, key, nil
		}
		if len(r) != 2 {
			return nil, key, fmt.Errorf("unexpected reply of %d elements", len(r))
		}
		switch kind, _ := r[0].(int64); kind {
		case 2: // renewed: follow to the successor
			succ, ok := r[1].(string)
			if !ok {
				return nil, key, fmt.Errorf("unexpected successor %T", r[1])
			}
			if hops++; hops > maxForwards {
				return int64(0), key, nil // a chain this long is a loop: not found
			}
			if onForward != nil {
				if err := onForward(succ); err != nil {
					return nil, key, err
				}
			}
			key = succ
		case 3: // a Renew holds the lease: wait (with backoff, within what is left)
			left, _ := r[1].(int64)
			now := time.Now()
			if waitUntil.IsZero() {
				waitUntil = now.Add(maxFrozenWait)
			} else if now.After(waitUntil) {
				return nil, key, ErrContention
			}
			d := min(backoff, time.Duration(left)*time.Millisecond+time.Millisecond)
			backoff = min(2*backoff, maxBackoff)
			if err := sleep(ctx, d); err != nil {
				return nil, key, err
			}
		default:
			return res, key, nil
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Take implements session.Store.
func (s *Store) Take(ctx context.Context, key, name string) ([]byte, error) {
	res, _, err := s.call(ctx, takeScript, key, []any{name, nonce()}, nil)
	if err != nil {
		return nil, wrap("take", err)
	}
	switch r := res.(type) {
	case int64:
		if r == -1 {
			return nil, session.ErrNoValue
		}
		return nil, session.ErrNotFound
	case []any:
		if v, ok := r[1].(string); ok {
			return []byte(v), nil
		}
	}
	return nil, fmt.Errorf("redisstore: take: unexpected reply %T", res)
}
