package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/ladder-go/ladder/health"
)

// WithBreaker returns s with every call but Ping made through b
// (health.Do): once the store keeps failing, calls fail at once with an
// error wrapping ErrUnavailable (and health.ErrOpen) instead of each waiting
// for its timeout, and the web tier answers 503 fast until a trial call
// succeeds. Answers that are the application's (ErrNotFound, ErrTaken,
// ErrInvalid) count as successes: the store worked. Ping bypasses the
// breaker, so readiness reports the store itself.
func WithBreaker(s Store, b health.Breaker) Store { return &breakerStore{s: s, b: b} }

type breakerStore struct {
	s Store
	b health.Breaker
}

// do runs fn through the breaker, hiding application answers from it.
func (bs *breakerStore) do(ctx context.Context, fn func(ctx context.Context) error) error {
	var answer error
	err := health.Do(ctx, bs.b, func(ctx context.Context) error {
		err := fn(ctx)
		if isAnswer(err) {
			answer = err
			return nil
		}
		return err
	})
	if errors.Is(err, health.ErrOpen) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err != nil {
		return err
	}
	return answer
}

func (bs *breakerStore) CreateUser(ctx context.Context, u User, hash string) error {
	return bs.do(ctx, func(ctx context.Context) error { return bs.s.CreateUser(ctx, u, hash) })
}

func (bs *breakerStore) UserByName(ctx context.Context, name string) (u User, hash string, err error) {
	err = bs.do(ctx, func(ctx context.Context) (err error) {
		u, hash, err = bs.s.UserByName(ctx, name)
		return err
	})
	return u, hash, err
}

func (bs *breakerStore) CreatePost(ctx context.Context, p Post) error {
	return bs.do(ctx, func(ctx context.Context) error { return bs.s.CreatePost(ctx, p) })
}

func (bs *breakerStore) Feed(ctx context.Context, limit int) (posts []Post, err error) {
	err = bs.do(ctx, func(ctx context.Context) (err error) {
		posts, err = bs.s.Feed(ctx, limit)
		return err
	})
	return posts, err
}

func (bs *breakerStore) UserPosts(ctx context.Context, author string, limit int) (posts []Post, err error) {
	err = bs.do(ctx, func(ctx context.Context) (err error) {
		posts, err = bs.s.UserPosts(ctx, author, limit)
		return err
	})
	return posts, err
}

func (bs *breakerStore) Ping(ctx context.Context) error { return bs.s.Ping(ctx) }

var _ KeyedStore = (*breakerStore)(nil)

func (bs *breakerStore) CreateUserKeyed(ctx context.Context, u User, hash, key string) (replayed bool, err error) {
	ks, ok := bs.s.(KeyedStore)
	if !ok {
		return false, ErrKeyUnsupported
	}
	err = bs.do(ctx, func(ctx context.Context) (err error) {
		replayed, err = ks.CreateUserKeyed(ctx, u, hash, key)
		return err
	})
	return replayed, err
}

func (bs *breakerStore) CreatePostKeyed(ctx context.Context, p Post, key string) (stored Post, replayed bool, err error) {
	ks, ok := bs.s.(KeyedStore)
	if !ok {
		return Post{}, false, ErrKeyUnsupported
	}
	err = bs.do(ctx, func(ctx context.Context) (err error) {
		stored, replayed, err = ks.CreatePostKeyed(ctx, p, key)
		return err
	})
	return stored, replayed, err
}
