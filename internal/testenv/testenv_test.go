package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestReplicaReadsPrimaryWriteAfterReplay proves the PostgreSQL harness: a row
// written on the primary is visible on the replica once WaitReplay returns.
func TestReplicaReadsPrimaryWriteAfterReplay(t *testing.T) {
	t.Parallel()
	pair := Replica(t)
	primary, replica := pair.Primary.DB(t), pair.Replica.DB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if _, err := primary.ExecContext(ctx, "CREATE TABLE harness (id int PRIMARY KEY, note text)"); err != nil {
		t.Fatal(err)
	}
	if _, err := primary.ExecContext(ctx, "INSERT INTO harness VALUES (1, 'written on the primary')"); err != nil {
		t.Fatal(err)
	}
	lag := WaitReplay(t, ctx, primary, replica)
	t.Logf("replica replayed the write after %v", lag)

	var note string
	if err := replica.QueryRowContext(ctx, "SELECT note FROM harness WHERE id = 1").Scan(&note); err != nil {
		t.Fatalf("reading the row on the replica: %v", err)
	}
	if note != "written on the primary" {
		t.Fatalf("replica returned %q", note)
	}
	var inRecovery bool
	if err := replica.QueryRowContext(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil {
		t.Fatal(err)
	}
	if !inRecovery {
		t.Fatal("LADDER_PG_REPLICA is not a standby: pg_is_in_recovery() = false")
	}
	if _, err := replica.ExecContext(ctx, "INSERT INTO harness VALUES (2, 'x')"); err == nil {
		t.Fatal("the replica accepted a write")
	}
}

func TestPostgresDatabasesAreIsolated(t *testing.T) {
	t.Parallel()
	a, b := Postgres(t), Postgres(t)
	if a.Name == b.Name {
		t.Fatalf("two tests got the same database %q", a.Name)
	}
	ctx := context.Background()
	if _, err := a.DB(t).ExecContext(ctx, "CREATE TABLE only_in_a (x int)"); err != nil {
		t.Fatal(err)
	}
	var n int
	err := b.DB(t).QueryRowContext(ctx,
		"SELECT count(*) FROM information_schema.tables WHERE table_name = 'only_in_a'").Scan(&n)
	if err != nil || n != 0 {
		t.Fatalf("database b sees a's table: n=%d err=%v", n, err)
	}
}

func TestRedisRoundTrip(t *testing.T) {
	t.Parallel()
	srv := Redis(t)
	c := srv.Client(t)
	ctx := context.Background()
	key := srv.Prefix + "greeting"
	if err := c.Set(ctx, key, "hello", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, key).Result()
	if err != nil || got != "hello" {
		t.Fatalf("GET %s = %q, %v; want hello", key, got, err)
	}
	if !strings.HasPrefix(key, "ladder-test:") {
		t.Fatalf("prefix %q is not namespaced", srv.Prefix)
	}
}

func TestRedisPrefixIsCleanedUp(t *testing.T) {
	srv := Redis(t)
	c := srv.Client(t)
	ctx := context.Background()
	var key string
	t.Run("writer", func(t *testing.T) {
		inner := Redis(t)
		key = inner.Prefix + "{tagged}:k"
		if err := c.Set(ctx, key, "v", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	})
	if n, err := c.Exists(ctx, key).Result(); err != nil || n != 0 {
		t.Fatalf("key %s survived its test: exists=%d err=%v", key, n, err)
	}
}

func TestRedisProcessRestart(t *testing.T) {
	t.Parallel()
	p := StartRedis(t)
	ping := func() error {
		c, err := net.DialTimeout("tcp", p.Addr, time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.WriteString(c, "PING\r\n"); err != nil {
			return err
		}
		buf := make([]byte, 7)
		if _, err := io.ReadFull(c, buf); err != nil {
			return err
		}
		if string(buf) != "+PONG\r\n" {
			return errors.New("unexpected reply " + string(buf))
		}
		return nil
	}
	if err := ping(); err != nil {
		t.Fatalf("fresh server: %v", err)
	}
	p.Stop()
	if err := ping(); err == nil {
		t.Fatal("stopped server still answers")
	}
	p.Start()
	if err := ping(); err != nil {
		t.Fatalf("restarted server: %v", err)
	}
}

func TestProxyBreakAndRestore(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // echo server
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	p := Proxy(t, ln.Addr().String())
	echo := func() error {
		c, err := net.DialTimeout("tcp", p.Addr, time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.WriteString(c, "ping"); err != nil {
			return err
		}
		buf := make([]byte, 4)
		_, err = io.ReadFull(c, buf)
		return err
	}
	if err := echo(); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	// An open connection dies on Break.
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	p.Break()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, 1)); err == nil {
		t.Fatal("connection survived Break")
	}
	if err := echo(); err == nil {
		t.Fatal("broken proxy accepted a new connection")
	}
	p.Restore()
	if err := echo(); err != nil {
		t.Fatalf("after Restore: %v", err)
	}
}

func TestUnavailableSkipsOrFails(t *testing.T) {
	t.Setenv(EnvIntegration, "")
	t.Setenv(EnvRedis, "")
	ok := t.Run("skips", func(t *testing.T) {
		Redis(t)
		t.Error("Redis returned without a server")
	})
	if !ok {
		t.Fatal("without LADDER_INTEGRATION, a missing server must skip")
	}
}

// TestRequiredFails runs a child test binary with LADDER_INTEGRATION=required
// and no servers, and checks that the integration test fails, not skips.
func TestRequiredFails(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") == "1" {
		Redis(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRequiredFails$", "-test.v")
	cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", EnvIntegration+"=required", EnvRedis+"=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("child passed without a server:\n%s", out)
	}
	if !strings.Contains(string(out), "integration tests must not skip") || strings.Contains(string(out), "--- SKIP") {
		t.Fatalf("child did not fail with the expected message:\n%s", out)
	}
}

// The cluster spreads keys over its three masters, and a test's keys are
// gone from all of them when it ends.
func TestRedisClusterSpreadsAndCleansUp(t *testing.T) {
	var keys []string
	var addrs []string
	t.Run("writer", func(t *testing.T) {
		env := RedisCluster(t)
		addrs = env.Addrs
		c := env.Client(t)
		ctx := context.Background()
		masters := map[string]bool{}
		for i := range 30 {
			k := fmt.Sprintf("%sk%d", env.Prefix, i)
			if err := c.Set(ctx, k, i, time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k)
			m, err := c.MasterForKey(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			masters[m.Options().Addr] = true
		}
		if len(masters) != 3 {
			t.Fatalf("30 keys landed on %d masters, want 3", len(masters))
		}
	})
	if len(addrs) == 0 {
		return // skipped
	}
	c := RedisClusterEnv{Addrs: addrs}.Client(t)
	for _, k := range keys {
		if n, err := c.Exists(context.Background(), k).Result(); err != nil || n != 0 {
			t.Fatalf("key %s survived its test: exists=%d err=%v", k, n, err)
		}
	}
}

// The Sentinel harness fails over for real: a value written before the master
// crashes is read back through the failover client from the promoted replica.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	s := StartSentinel(t)
	c := s.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.Set(ctx, "k", "before", 0).Err(); err != nil {
		t.Fatal(err)
	}
	old := s.Master.Addr
	s.Failover()
	if s.Master.Addr == old {
		t.Fatalf("master still %s after the failover", old)
	}
	var got string
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got, err = c.Get(ctx, "k").Result(); err == nil {
			break
		}
	}
	if err != nil || got != "before" {
		t.Fatalf("after the failover: %q, %v; want the value written before", got, err)
	}
	if err := c.Set(ctx, "k", "after", 0).Err(); err != nil {
		t.Fatalf("write after the failover: %v", err)
	}
}
