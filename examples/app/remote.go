package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// NewStoreHandler serves s over HTTP/JSON for RemoteStore: the data tier of
// a stage that runs the database in its own process with SQLite, which is a
// library, not a server. (With PostgreSQL the web tier talks to the server
// directly through a SQLStore.) It carries password hashes: serve it on
// loopback or a private network only, behind authentication in production.
func NewStoreHandler(s Store) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /store/users", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			User User   `json:"user"`
			Hash string `json:"hash"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		storeReply(w, nil, s.CreateUser(r.Context(), in.User, in.Hash))
	})
	mux.HandleFunc("GET /store/users/{name}", func(w http.ResponseWriter, r *http.Request) {
		u, hash, err := s.UserByName(r.Context(), r.PathValue("name"))
		storeReply(w, map[string]any{"user": u, "hash": hash}, err)
	})
	mux.HandleFunc("POST /store/posts", func(w http.ResponseWriter, r *http.Request) {
		var p Post
		if !readJSON(w, r, &p) {
			return
		}
		storeReply(w, nil, s.CreatePost(r.Context(), p))
	})
	mux.HandleFunc("GET /store/feed", func(w http.ResponseWriter, r *http.Request) {
		limit, err := parseLimit(r)
		if err != nil {
			storeReply(w, nil, err)
			return
		}
		posts, err := s.Feed(r.Context(), limit)
		storeReply(w, posts, err)
	})
	mux.HandleFunc("GET /store/users/{name}/posts", func(w http.ResponseWriter, r *http.Request) {
		limit, err := parseLimit(r)
		if err != nil {
			storeReply(w, nil, err)
			return
		}
		posts, err := s.UserPosts(r.Context(), r.PathValue("name"), limit)
		storeReply(w, posts, err)
	})
	ks, _ := s.(KeyedStore)
	mux.HandleFunc("POST /store/keyed/users", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			User User   `json:"user"`
			Hash string `json:"hash"`
			Key  string `json:"key"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		if ks == nil {
			storeReply(w, nil, ErrKeyUnsupported)
			return
		}
		replayed, err := ks.CreateUserKeyed(r.Context(), in.User, in.Hash, in.Key)
		storeReply(w, map[string]bool{"replayed": replayed}, err)
	})
	mux.HandleFunc("POST /store/keyed/posts", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Post Post   `json:"post"`
			Key  string `json:"key"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		if ks == nil {
			storeReply(w, nil, ErrKeyUnsupported)
			return
		}
		p, replayed, err := ks.CreatePostKeyed(r.Context(), in.Post, in.Key)
		storeReply(w, map[string]any{"post": p, "replayed": replayed}, err)
	})
	mux.HandleFunc("GET /store/ping", func(w http.ResponseWriter, r *http.Request) {
		storeReply(w, nil, s.Ping(r.Context()))
	})
	return mux
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(v); err != nil {
		storeReply(w, nil, fmt.Errorf("%w: %v", ErrInvalid, err))
		return false
	}
	return true
}

func storeReply(w http.ResponseWriter, v any, err error) {
	code := http.StatusOK
	switch {
	case err == nil:
	case errors.Is(err, ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, ErrTaken):
		code = http.StatusConflict
	case errors.Is(err, ErrInvalid):
		code = http.StatusBadRequest
	case errors.Is(err, ErrKeyReused):
		code = http.StatusUnprocessableEntity
	case errors.Is(err, ErrKeyUnsupported):
		code = http.StatusNotImplemented
	default:
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if err != nil {
		v = map[string]string{"error": err.Error()}
	}
	_ = json.NewEncoder(w).Encode(v)
}

// RemoteStore is a Store served by NewStoreHandler in another process.
// Every call is one HTTP round trip bounded by its ctx; a server that cannot
// be reached is an error wrapping ErrUnavailable.
type RemoteStore struct {
	base   string
	client *http.Client
}

var _ KeyedStore = (*RemoteStore)(nil)

// NewRemoteStore returns a store that calls the data tier at baseURL
// ("http://127.0.0.1:port"). client nil means a client with a 1 s dial
// timeout and a 5 s overall timeout.
func NewRemoteStore(baseURL string, client *http.Client) (*RemoteStore, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: RemoteStore URL %q: want http://host:port", ErrInvalidOptions, baseURL)
	}
	if client == nil {
		client = &http.Client{
			Timeout: 5 * time.Second,
			Transport: &http.Transport{
				DialContext:         (&net.Dialer{Timeout: time.Second}).DialContext,
				MaxIdleConnsPerHost: 64,
				IdleConnTimeout:     30 * time.Second,
			},
		}
	}
	return &RemoteStore{base: strings.TrimSuffix(u.String(), "/"), client: client}, nil
}

func (s *RemoteStore) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("app: remote store: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, body)
	if err != nil {
		return fmt.Errorf("app: remote store: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		_ = dec.Decode(&e)
		switch resp.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("%w: %s", ErrNotFound, e.Error)
		case http.StatusConflict:
			return fmt.Errorf("%w: %s", ErrTaken, e.Error)
		case http.StatusBadRequest:
			return fmt.Errorf("%w: %s", ErrInvalid, e.Error)
		case http.StatusUnprocessableEntity:
			return fmt.Errorf("%w: %s", ErrKeyReused, e.Error)
		case http.StatusNotImplemented:
			return fmt.Errorf("%w: %s", ErrKeyUnsupported, e.Error)
		}
		return fmt.Errorf("%w: data tier answered %d: %s", ErrUnavailable, resp.StatusCode, e.Error)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%w: data tier reply: %v", ErrUnavailable, err)
	}
	return nil
}

// CreateUser implements Store.
func (s *RemoteStore) CreateUser(ctx context.Context, u User, hash string) error {
	return s.call(ctx, http.MethodPost, "/store/users", map[string]any{"user": u, "hash": hash}, nil)
}

// UserByName implements Store.
func (s *RemoteStore) UserByName(ctx context.Context, name string) (User, string, error) {
	var out struct {
		User User   `json:"user"`
		Hash string `json:"hash"`
	}
	err := s.call(ctx, http.MethodGet, "/store/users/"+url.PathEscape(name), nil, &out)
	return out.User, out.Hash, err
}

// CreatePost implements Store.
func (s *RemoteStore) CreatePost(ctx context.Context, p Post) error {
	return s.call(ctx, http.MethodPost, "/store/posts", p, nil)
}

// CreateUserKeyed implements KeyedStore; ErrKeyUnsupported if the data
// tier's store is not a KeyedStore.
func (s *RemoteStore) CreateUserKeyed(ctx context.Context, u User, hash, key string) (bool, error) {
	var out struct {
		Replayed bool `json:"replayed"`
	}
	err := s.call(ctx, http.MethodPost, "/store/keyed/users", map[string]any{"user": u, "hash": hash, "key": key}, &out)
	return out.Replayed, err
}

// CreatePostKeyed implements KeyedStore; ErrKeyUnsupported if the data
// tier's store is not a KeyedStore.
func (s *RemoteStore) CreatePostKeyed(ctx context.Context, p Post, key string) (Post, bool, error) {
	var out struct {
		Post     Post `json:"post"`
		Replayed bool `json:"replayed"`
	}
	err := s.call(ctx, http.MethodPost, "/store/keyed/posts", map[string]any{"post": p, "key": key}, &out)
	return out.Post, out.Replayed, err
}

// Feed implements Store.
func (s *RemoteStore) Feed(ctx context.Context, limit int) ([]Post, error) {
	var posts []Post
	err := s.call(ctx, http.MethodGet, "/store/feed?limit="+strconv.Itoa(limit), nil, &posts)
	return posts, err
}

// UserPosts implements Store.
func (s *RemoteStore) UserPosts(ctx context.Context, author string, limit int) ([]Post, error) {
	var posts []Post
	err := s.call(ctx, http.MethodGet, "/store/users/"+url.PathEscape(author)+"/posts?limit="+strconv.Itoa(limit), nil, &posts)
	return posts, err
}

// Ping implements Store.
func (s *RemoteStore) Ping(ctx context.Context) error {
	return s.call(ctx, http.MethodGet, "/store/ping", nil, nil)
}
