package redisstore_test

import (
	"errors"
	"testing"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/redisstore"
	"github.com/ladder-go/ladder/session/sessiontest"
)

func newStore(t *testing.T) *redisstore.Store {
	t.Helper()
	srv := testenv.Redis(t)
	s, err := redisstore.New(srv.Client(t), redisstore.Options{Prefix: srv.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store { return newStore(t) })
}

func TestOptions(t *testing.T) {
	if _, err := redisstore.New(nil, redisstore.Options{}); !errors.Is(err, session.ErrInvalidOptions) {
		t.Errorf("nil client: %v", err)
	}
}

func TestServers(t *testing.T) {
	srv := testenv.Redis(t)
	sessiontest.RunServers(t, func(t *testing.T) session.Store {
		s, err := redisstore.New(srv.Client(t), redisstore.Options{Prefix: srv.Prefix})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
