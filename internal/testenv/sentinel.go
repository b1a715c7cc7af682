package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMaster is the name under which [Sentinel] monitors its pair.
const SentinelMaster = "ladder"

// Sentinel is a private Redis Sentinel setup owned by one test: a master, its
// replica and one sentinel watching them (quorum 1), all on loopback. It is
// for tests of what users run with redis.NewFailoverClient, and of a real
// failover (see [Sentinel.Failover]). Everything stops when the test ends.
type Sentinel struct {
	Addr            string // the sentinel
	Master, Replica *RedisProcess

	t  testing.TB
	sc *redis.SentinelClient
}

// StartSentinel starts the three processes and waits until the sentinel
// knows the replica and the replica is in sync, so that a failover can
// happen. It takes a fraction of a second.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	// Redis 7 delays a diskless full sync 5s, waiting for more replicas to share it:
	// the replica would be in sync, and the setup ready, only after those.
	master := startRedis(t, "--repl-diskless-sync-delay", "0")
	replica := startRedis(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.port))
	port, err := FreePort()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf") // sentinel rewrites it: it must be writable
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n"+
		"sentinel monitor %s 127.0.0.1 %d 1\n"+
		"sentinel down-after-milliseconds %[3]s 500\n"+
		"sentinel failover-timeout %[3]s 5000\n", port, dir, SentinelMaster, master.port)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	sp := &RedisProcess{t: t, dir: dir, port: port, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	sp.cmdArgs = []string{conf, "--sentinel"}
	t.Cleanup(sp.Stop)
	sp.Start()
	s := &Sentinel{Addr: sp.Addr, Master: master, Replica: replica, t: t,
		sc: redis.NewSentinelClient(&redis.Options{Addr: sp.Addr})}
	t.Cleanup(func() { _ = s.sc.Close() })
	s.await("the sentinel to see the replica in sync", 20*time.Second, func(ctx context.Context) error {
		reps, err := s.sc.Replicas(ctx, SentinelMaster).Result()
		if err != nil {
			return err
		}
		for _, r := range reps {
			if r["name"] == replica.Addr && r["master-link-status"] == "ok" && !strings.Contains(r["flags"], "down") {
				return nil
			}
		}
		return fmt.Errorf("replicas: %v", reps)
	})
	return s
}

// Client returns a failover client (what production code uses with
// Sentinel), closed when the test ends.
func (s *Sentinel) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: SentinelMaster, SentinelAddrs: []string{s.Addr}})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Failover crashes the current master (SIGKILL) once the replica has every
// write acknowledged so far (WAIT), and returns when the sentinel has
// promoted the replica and it accepts writes. The old master stays down.
func (s *Sentinel) Failover() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := redis.NewClient(&redis.Options{Addr: s.Master.Addr})
	n, err := m.Wait(ctx, 1, 5000).Result()
	_ = m.Close()
	if err != nil || n < 1 {
		s.t.Fatalf("testenv: WAIT for the replica before the failover: %d replicas, %v", n, err)
	}
	s.Master.Stop()
	s.await("the sentinel to promote the replica", 30*time.Second, func(ctx context.Context) error {
		addr, err := s.sc.GetMasterAddrByName(ctx, SentinelMaster).Result()
		if err != nil {
			return err
		}
		if got := net.JoinHostPort(addr[0], addr[1]); got != s.Replica.Addr {
			return fmt.Errorf("master is still %s", got)
		}
		r := redis.NewClient(&redis.Options{Addr: s.Replica.Addr})
		defer r.Close()
		return r.Set(ctx, "testenv:failover", "done", 0).Err() // a replica refuses writes
	})
	s.Master, s.Replica = s.Replica, nil
}

// await polls check until it succeeds or limit passes, then fails the test
// with its last error.
func (s *Sentinel) await(what string, limit time.Duration, check func(context.Context) error) {
	s.t.Helper()
	err := poll(limit, 50*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return check(ctx)
	})
	if err != nil {
		s.t.Fatalf("testenv: waiting for %s: %v", what, err)
	}
}
