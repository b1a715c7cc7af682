package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// IdempotencyKeyHeader is the request header a client sets on a POST it may
// send again (draft-ietf-httpapi-idempotency-key-header): the first request
// with a key does the work and records its outcome with it, in the same
// transaction; a repeat answers that outcome without doing the work twice.
// A load balancer may then resend a POST whose server died with it (lb's
// RetryOptions.IdempotencyKeyHeader).
const IdempotencyKeyHeader = "Idempotency-Key"

// IdempotencyKeyTTL is how long a key's record is kept (the draft leaves
// the expiry to the resource; Stripe keeps keys 24 hours): within it a
// repeat answers the first outcome, after it the key is a new request's.
// Expired records are deleted as keyed writes go on, so the table holds
// about a TTL's worth of keys, not every key ever sent.
const IdempotencyKeyTTL = 24 * time.Hour

// MaxIdempotencyKeyLen bounds a key: a UUID (36) or 32 random bytes in hex
// (64) fit.
const MaxIdempotencyKeyLen = 64

var (
	// ErrKeyReused: an idempotency key sent again with another request (a
	// different operation, post or password), answered 422 as the draft
	// says.
	ErrKeyReused = errors.New("app: idempotency key reused for another request")
	// ErrKeyUnsupported: the store cannot record keys (a KeyedStore
	// wrapper around a store that is not one); the request is then served
	// as if it carried none.
	ErrKeyUnsupported = errors.New("app: idempotency keys not supported by the store")
)

// KeyedStore is a Store that records a write together with the idempotency
// key of the request that made it, in one transaction: a crash before the
// commit leaves neither, so a resent request does the work once; a
// concurrent duplicate waits for the first (the key's unique index) and
// then answers its outcome. Keys are scoped by user (the author, or the name
// signing up). Only successes are recorded: a request that failed left no
// record and may be sent again.
type KeyedStore interface {
	Store
	// CreateUserKeyed is CreateUser recorded under (u.Name, key). If the
	// key was recorded for that name already, nothing is written and
	// replayed is true (the caller checks the password before logging
	// the client in); ErrKeyReused if it was recorded for another
	// operation.
	CreateUserKeyed(ctx context.Context, u User, passwordHash, key string) (replayed bool, err error)
	// CreatePostKeyed is CreatePost recorded under (p.Author, key); it
	// returns the post stored with its ID: on a replay, the first
	// request's. ErrKeyReused if the key was recorded for another body.
	CreatePostKeyed(ctx context.Context, p Post, key string) (stored Post, replayed bool, err error)
}

// ParseIdempotencyKey returns the key of a header value: the draft's
// structured-field string ("…") or the bare token most clients send, 1 to
// MaxIdempotencyKeyLen bytes of letters, digits and - _ . :. An empty value
// is no key ("", nil); anything else is an error wrapping ErrInvalid.
func ParseIdempotencyKey(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	k := v
	if len(k) >= 2 && k[0] == '"' && k[len(k)-1] == '"' {
		k = k[1 : len(k)-1]
	}
	if k == "" || len(k) > MaxIdempotencyKeyLen {
		return "", fmt.Errorf("%w: %s: 1 to %d bytes", ErrInvalid, IdempotencyKeyHeader, MaxIdempotencyKeyLen)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return "", fmt.Errorf("%w: %s: letters, digits and - _ . : only", ErrInvalid, IdempotencyKeyHeader)
		}
	}
	return k, nil
}

// requestKey returns the request's idempotency key, "" if it has none.
func requestKey(r *http.Request) (string, error) {
	vs := r.Header.Values(IdempotencyKeyHeader)
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return ParseIdempotencyKey(strings.TrimSpace(vs[0]))
	}
	return "", fmt.Errorf("%w: %s: more than one", ErrInvalid, IdempotencyKeyHeader)
}

// fingerprint identifies a request's payload in the record, so a key sent
// again with another payload is told apart (never a password: that is
// checked against the user's hash).
func fingerprint(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}

// keyedStore returns the store as a KeyedStore when a key is given.
func (a *App) keyedStore(key string) KeyedStore {
	if key == "" {
		return nil
	}
	ks, _ := a.cfg.Store.(KeyedStore)
	return ks
}
