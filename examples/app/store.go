package app

import (
	"context"
	"errors"
	"time"
)

// Errors a Store returns, checked with errors.Is.
var (
	// ErrNotFound: no such user.
	ErrNotFound = errors.New("app: not found")
	// ErrTaken: the user name is already registered.
	ErrTaken = errors.New("app: name taken")
	// ErrInvalid: input the application refuses (an empty or too long
	// name, password or post).
	ErrInvalid = errors.New("app: invalid input")
	// ErrInvalidOptions: a Config or options struct that cannot work.
	ErrInvalidOptions = errors.New("app: invalid options")
	// ErrUnavailable: the store could not be reached (a RemoteStore whose
	// server is down, a breaker that is open).
	ErrUnavailable = errors.New("app: store unavailable")
)

// User is a registered user. Name is the user's identity (unique).
type User struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

// Post is one message of a user.
type Post struct {
	ID      int64     `json:"id"`
	Author  string    `json:"author"`
	Body    string    `json:"body"`
	Created time.Time `json:"created"`
}

// Store is the application's storage. Every method takes ctx first and
// returns ctx.Err() when ctx ends first.
type Store interface {
	// CreateUser registers name with a password hash (see HashPassword);
	// ErrTaken if the name is already registered.
	CreateUser(ctx context.Context, u User, passwordHash string) error
	// UserByName returns the user and its password hash; ErrNotFound if
	// there is none.
	UserByName(ctx context.Context, name string) (User, string, error)
	// CreatePost stores a post (its ID is assigned by the store and not
	// returned: writes go through Exec, so that a router that sends
	// queries to replicas never sees a write as a read).
	CreatePost(ctx context.Context, p Post) error
	// Feed returns the newest posts of everyone, newest first, at most limit.
	Feed(ctx context.Context, limit int) ([]Post, error)
	// UserPosts returns the newest posts of one author, newest first.
	UserPosts(ctx context.Context, author string, limit int) ([]Post, error)
	// Ping reports whether the store answers (the readiness check).
	Ping(ctx context.Context) error
}

// Limits on input, enforced by the handlers before the store sees it.
const (
	MaxNameLen     = 32
	MinPasswordLen = 8
	MaxPasswordLen = 256
	MaxPostLen     = 500
	MaxFeedLimit   = 100
	DefaultFeed    = 20
)
