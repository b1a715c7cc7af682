package redisstore_test

import (
	"testing"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/sessiontest"
)

// The store's claim that every command and script touches one key is tested
// where it matters: on a real three-master Redis Cluster, whose nodes refuse
// any command spanning slots (CROSSSLOT) and redirect keys they do not own.
// The conformance suite covers sessions, the user index (a separate key,
// usually on another master), renewal and destruction.
func TestConformanceOnCluster(t *testing.T) {
	sessiontest.Run(t, func(t *testing.T) session.Store {
		env := testenv.RedisCluster(t)
		return openStore(t, env.Client(t), env.Prefix)
	})
}

// Several web servers sharing the cluster through their own clients.
func TestServersOnCluster(t *testing.T) {
	env := testenv.RedisCluster(t)
	sessiontest.RunServers(t, func(t *testing.T) session.Store { return openStore(t, env.Client(t), env.Prefix) })
}
