package session

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"
)

// MemoryOptions configure a MemoryStore. A zero field means its default; a negative
// CleanupInterval is an error wrapping ErrInvalidOptions.
type MemoryOptions struct {
	// CleanupInterval is how often expired sessions and tombstones are swept; 0 means
	// one minute.
	CleanupInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// MemoryStore keeps sessions in this process: the embedded default for one server and for
// tests. Sessions do not survive a restart and are not shared between servers. Close stops
// its cleanup goroutine.
type MemoryStore struct {
	now  func() time.Time
	mu   sync.Mutex
	m    map[string]*memEntry
	user map[string]map[string]struct{} // user → keys
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

type memEntry struct {
	rec     Record
	tomb    bool
	forward string // successor key of a renewed session
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns a MemoryStore and starts its cleanup goroutine.
func NewMemoryStore(opts MemoryOptions) (*MemoryStore, error) {
	if opts.CleanupInterval < 0 {
		return nil, fmt.Errorf("%w: CleanupInterval %v: must be ≥ 0", ErrInvalidOptions, opts.CleanupInterval)
	}
	interval := orDefault(opts.CleanupInterval, time.Minute)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &MemoryStore{now: opts.Now, m: make(map[string]*memEntry),
		user: make(map[string]map[string]struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go s.cleanup(interval)
	return s, nil
}

// Close stops the cleanup goroutine and waits for it. It is idempotent.
func (s *MemoryStore) Close() error {
	s.once.Do(func() { close(s.stop) })
	<-s.done
	return nil
}

func (s *MemoryStore) cleanup(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sweep()
		}
	}
}

// sweep deletes expired sessions and tombstones.
func (s *MemoryStore) sweep() {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, e := range s.m {
		if !now.Before(e.rec.Expires) {
			s.remove(k, e)
		}
	}
}

func (s *MemoryStore) remove(key string, e *memEntry) {
	delete(s.m, key)
	if u := s.user[e.rec.User]; u != nil {
		delete(u, key)
		if len(u) == 0 {
			delete(s.user, e.rec.User)
		}
	}
}

// get returns the entry under key if it is a live session; s.mu is held.
func (s *MemoryStore) get(key string, now time.Time) *memEntry {
	e := s.m[key]
	if e == nil || !now.Before(e.rec.Expires) {
		return nil
	}
	return e
}

// Load implements Store.
func (s *MemoryStore) Load(ctx context.Context, key string) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.get(key, s.now())
	if e != nil && e.forward != "" {
		return Record{}, ErrRenewed
	}
	if e == nil || e.tomb {
		return Record{}, ErrNotFound
	}
	return e.rec, nil // Values is never changed in place (Apply copies), so it can be shared
}

// Create implements Store.
func (s *MemoryStore) Create(ctx context.Context, key string, rec Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.get(key, s.now()) != nil {
		return ErrExists
	}
	vals := make(map[string][]byte, len(rec.Values))
	for k, v := range rec.Values {
		vals[k] = bytes.Clone(v)
	}
	rec.Values = vals
	s.put(key, &memEntry{rec: rec})
	return nil
}

func (s *MemoryStore) put(key string, e *memEntry) {
	if old := s.m[key]; old != nil {
		s.remove(key, old)
	}
	s.m[key] = e
	if e.rec.User != "" && !e.tomb {
		s.index(e.rec.User, key)
	}
}

func (s *MemoryStore) index(user, key string) {
	u := s.user[user]
	if u == nil {
		u = make(map[string]struct{})
		s.user[user] = u
	}
	u[key] = struct{}{}
}

// Apply implements Store.
func (s *MemoryStore) Apply(ctx context.Context, key string, u Update) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key, e := s.follow(key, s.now())
	if e == nil {
		return ErrNotFound
	}
	if len(u.Delete) > 0 || len(u.Set) > 0 {
		vals := make(map[string][]byte, len(e.rec.Values)+len(u.Set))
		for k, v := range e.rec.Values {
			vals[k] = v
		}
		for _, k := range u.Delete {
			delete(vals, k)
		}
		for k, v := range u.Set {
			vals[k] = bytes.Clone(v)
		}
		if u.MaxSize > 0 && sizeOf(vals) > u.MaxSize {
			return ErrTooLarge
		}
		e.rec.Values = vals
	}
	if u.SetUser && u.User != e.rec.User {
		s.remove(key, e)
		s.m[key] = e
		e.rec.User = u.User
		if u.User != "" {
			s.index(u.User, key)
		}
	}
	if !u.Expires.IsZero() {
		e.rec.Expires = u.Expires
	}
	return nil
}

// follow returns the live session under key, following renewals, or nil; s.mu is held.
func (s *MemoryStore) follow(key string, now time.Time) (string, *memEntry) {
	e := s.get(key, now)
	for hops := 0; e != nil && e.tomb && e.forward != "" && hops < 8; hops++ {
		key = e.forward
		e = s.get(key, now)
	}
	if e == nil || e.tomb {
		return key, nil
	}
	return key, e
}

// Take implements Store.
func (s *MemoryStore) Take(ctx context.Context, key, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, e := s.follow(key, s.now())
	if e == nil {
		return nil, ErrNotFound
	}
	v, ok := e.rec.Values[name]
	if !ok {
		return nil, ErrNoValue
	}
	vals := make(map[string][]byte, len(e.rec.Values))
	for k, x := range e.rec.Values {
		if k != name {
			vals[k] = x
		}
	}
	e.rec.Values = vals // copied: loaded records share the old map
	return bytes.Clone(v), nil
}

// Renew implements Store.
func (s *MemoryStore) Renew(ctx context.Context, oldKey, newKey string, expires time.Time, grace time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	e := s.get(oldKey, now)
	if e == nil || e.tomb {
		return ErrNotFound
	}
	if s.get(newKey, now) != nil {
		return ErrExists
	}
	rec := e.rec
	rec.Expires = expires
	s.put(newKey, &memEntry{rec: rec})
	s.put(oldKey, &memEntry{tomb: true, forward: newKey, rec: Record{Expires: now.Add(grace)}})
	return nil
}

// Destroy implements Store.
func (s *MemoryStore) Destroy(ctx context.Context, key string, grace time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(key, &memEntry{tomb: true, rec: Record{Expires: s.now().Add(grace)}})
	return nil
}

// DestroyUser implements Store.
func (s *MemoryStore) DestroyUser(ctx context.Context, user string, grace time.Duration) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if user == "" {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	n := 0
	for key := range s.user[user] {
		if e := s.get(key, now); e != nil && !e.tomb {
			n++
		}
		s.put(key, &memEntry{tomb: true, rec: Record{Expires: now.Add(grace)}})
	}
	return n, nil
}

// Len returns how many sessions and tombstones the store holds, expired or not.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
