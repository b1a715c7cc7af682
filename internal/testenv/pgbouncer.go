package testenv

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PgBouncer starts a private PgBouncer in transaction pooling mode in front
// of pg's database (user postgres, trust) and returns that database as
// reached through it: each transaction, and each statement outside one,
// may run on a different server session, so nothing that relies on
// session state (SET, temporary tables, prepared statements of pgx's
// default statement cache: open with default_query_exec_mode=exec or
// simple_protocol) survives between them. PgBouncer stops when the test
// ends. It needs the pgbouncer binary (Debian package pgbouncer, installed
// by scripts/test); without it t skips, or fails under LADDER_INTEGRATION=required.
func PgBouncer(t testing.TB, pg PG) PG {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/pgbouncer"); serr != nil {
			unavailable(t, "pgbouncer is not on PATH (Debian package pgbouncer)")
		}
		bin = "/usr/sbin/pgbouncer"
	}
	u, err := url.Parse(pg.DSN)
	if err != nil || u.Host == "" {
		t.Fatalf("testenv: PgBouncer needs a postgres:// URL, not %q", pg.DSN)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	lport, err := FreePort()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	dir, err := os.MkdirTemp("", "ladder-pgbouncer-")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	conf := fmt.Sprintf(`[databases]
%s = host=%s port=%s dbname=%s user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = 4
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
`, name, host, port, name, lport, filepath.Join(dir, "users.txt"))
	for file, text := range map[string]string{"pgbouncer.ini": conf, "users.txt": `"postgres" ""` + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644); err != nil {
			t.Fatalf("testenv: %v", err)
		}
	}
	cmd := exec.Command(bin, filepath.Join(dir, "pgbouncer.ini"))
	if os.Geteuid() == 0 { // PgBouncer refuses to run as root
		pu, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("testenv: running as root, PgBouncer needs the user postgres: %v", err)
		}
		uid, _ := strconv.Atoi(pu.Uid)
		gid, _ := strconv.Atoi(pu.Gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	logPath := filepath.Join(dir, "pgbouncer.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: starting pgbouncer: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	u.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(lport))
	through := PG{DSN: u.String(), Name: pg.Name}
	// Ours answers for our database, which no other server on the port knows.
	err = poll(10*time.Second, 20*time.Millisecond, func() error {
		if exited(cmd.Process.Pid) {
			return nil
		}
		return pingDSN(through.DSN)
	})
	if err == nil && exited(cmd.Process.Pid) {
		err = fmt.Errorf("pgbouncer exited")
	}
	if err != nil {
		out, _ := os.ReadFile(logPath)
		t.Fatalf("testenv: pgbouncer on port %d: %v\n%s", lport, err, out)
	}
	return through
}

func pingDSN(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return adminExec(ctx, dsn, "SELECT 1")
}
