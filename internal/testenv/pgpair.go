package testenv

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// PGCluster is a private PostgreSQL primary and its streaming replica owned
// by one test, for drills that crash, freeze, stop, restart or promote them
// (the shared pair of [Replica] must stay intact for other tests). Both run
// in their own temporary directory on free loopback ports, with no Unix
// socket, and are killed and removed when the test ends.
type PGCluster struct {
	// Primary is the node started as the primary, Replica the node started as
	// its streaming replica (a standby of it from its first checkpoint). The names
	// stay when roles change.
	Primary, Replica *PGNode
}

// PGNode is one PostgreSQL server of a [PGCluster]: a postmaster this
// package started as a child process, so that a drill can signal it.
type PGNode struct {
	Name string // "primary" or "replica"
	Port int
	DSN  string // URL form, database "postgres", user "postgres" (trust)

	t    testing.TB
	bin  string
	data string
	logf string
	cred *syscall.Credential

	mu  sync.Mutex
	cmd *exec.Cmd
}

// pgSettings are the settings of both nodes. A standby needs
// max_wal_senders, max_connections and their kind at least as high as the
// primary's, and as high as initdb left them in the template's control file
// (max_wal_senders 10). A standby retries its primary every 100 ms, and a sender or
// receiver cut off by a frozen peer notices after 5 s.
const pgSettings = `
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
wal_level = replica
max_wal_senders = 10
hot_standby = on
fsync = off
full_page_writes = off
max_connections = 100
shared_buffers = 16MB
wal_retrieve_retry_interval = 100ms
wal_sender_timeout = 5s
wal_receiver_timeout = 5s
`

// StartPGPair starts a private primary and a streaming replica of it, and
// returns once the replica streams (about a second). Both are copies of one
// cluster made by initdb (1 MB WAL segments) once per machine and PostgreSQL
// version and kept for the next test in /dev/shm (in the temporary
// directory if /dev/shm lacks a free gigabyte), where the pairs live too.
// It needs PostgreSQL's server binaries (Debian package postgresql);
// without them it skips t, or fails it under LADDER_INTEGRATION=required.
// Run as root, the servers run as the user postgres, as initdb demands.
func StartPGPair(t testing.TB) *PGCluster {
	t.Helper()
	bin, err := pgBinDir()
	if err != nil {
		unavailable(t, err.Error())
	}
	var cred *syscall.Credential
	dir, err := os.MkdirTemp(pgTempDir(), "ladder-pgpair-")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("testenv: running as root, PostgreSQL needs the user postgres: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatalf("testenv: %v", err)
		}
	}
	newNode := func(name string) *PGNode {
		port, err := FreePort()
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		n := &PGNode{Name: name, Port: port, t: t, bin: bin, cred: cred,
			data: filepath.Join(dir, name), logf: filepath.Join(dir, name+".log"),
			DSN: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)}
		t.Cleanup(n.Kill)
		return n
	}
	c := &PGCluster{Primary: newNode("primary"), Replica: newNode("replica")}
	p, r := c.Primary, c.Replica

	tmpl := pgTemplate(t, bin, cred)
	// Both nodes start from one cold copy of a shut-down cluster: the replica
	// is a standby of the primary from its first checkpoint on, as
	// pg_basebackup -R would make it, without the base backup.
	p.copyFrom(tmpl)
	r.copyFrom(tmpl)
	r.writeFile("standby.signal", "")
	p.firstStart("")
	r.firstStart(fmt.Sprintf("primary_conninfo = 'host=127.0.0.1 port=%d user=postgres application_name=replica'\n", p.Port))
	c.awaitStreaming()
	return c
}

var pgTemplates sync.Map // bin dir → *pgTemplateOnce

type pgTemplateOnce struct {
	once sync.Once
	dir  string
	err  error
}

// pgTemplate returns the data directory of a cluster made by initdb with
// pgSettings and shut down, to copy from. It is made once per machine and
// PostgreSQL version (initdb is most of a pair's start-up time) and kept in
// the temporary directory; concurrent test processes race to rename theirs
// into place, and the losers use the winner's.
func pgTemplate(t testing.TB, bin string, cred *syscall.Credential) string {
	t.Helper()
	v, _ := pgTemplates.LoadOrStore(bin, &pgTemplateOnce{})
	o := v.(*pgTemplateOnce)
	o.once.Do(func() { o.dir, o.err = makePGTemplate(bin, cred) })
	if o.err != nil {
		t.Fatalf("testenv: %v", o.err)
	}
	return o.dir
}

func makePGTemplate(bin string, cred *syscall.Credential) (string, error) {
	out, err := exec.Command(filepath.Join(bin, "postgres"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("postgres --version: %w", err)
	}
	version := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' {
			return r
		}
		return '_'
	}, strings.TrimSpace(string(out)))
	uid := os.Geteuid()
	if cred != nil {
		uid = int(cred.Uid)
	}
	final := filepath.Join(pgTempDir(), fmt.Sprintf("ladder-pgtemplate-%s-%d-%x", version, uid, settingsHash()))
	ready := filepath.Join(final, "ladder-ready")
	if _, err := os.Stat(ready); err == nil {
		return filepath.Join(final, "data"), nil
	}
	tmp, err := os.MkdirTemp(pgTempDir(), "ladder-pgtemplate-new-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // after a lost race, or a failure
	if cred != nil {
		if err := os.Chown(tmp, int(cred.Uid), int(cred.Gid)); err != nil {
			return "", err
		}
	}
	data := filepath.Join(tmp, "data")
	cmd := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--no-sync", "--no-instructions", "--wal-segsize=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("initdb: %w\n%s", err, out)
	}
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(pgSettings)
		err = errors.Join(err, f.Close())
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(tmp, "ladder-ready"), nil, 0o644)
	}
	if err == nil {
		err = os.Chmod(tmp, 0o755)
	}
	if err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		if _, serr := os.Stat(ready); serr != nil {
			return "", fmt.Errorf("keeping the initdb template: %w", err)
		}
	}
	return filepath.Join(final, "data"), nil
}

// pgTempDir is where clusters live: memory (/dev/shm) where there is one
// with a gigabyte free, since every pair copies its template and the
// servers run with fsync off anyway; else the temporary directory.
func pgTempDir() string {
	var fs syscall.Statfs_t
	// A container's /dev/shm may hold 64 MB: a template and two pairs need ~100.
	if err := syscall.Statfs("/dev/shm", &fs); err == nil && uint64(fs.Bavail)*uint64(fs.Bsize) >= 1<<30 {
		if f, err := os.CreateTemp("/dev/shm", "ladder-probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

// settingsHash tells templates made with other settings apart.
func settingsHash() uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(pgSettings); i++ {
		h = (h ^ uint32(pgSettings[i])) * 16777619
	}
	return h
}

// copyFrom makes the node's data directory a copy of the template, owned by
// the server's user.
func (n *PGNode) copyFrom(tmpl string) {
	n.t.Helper()
	if out, err := exec.Command("cp", "-a", tmpl, n.data).CombinedOutput(); err != nil {
		n.t.Fatalf("testenv: copying the cluster template for the %s: %v\n%s", n.Name, err, out)
	}
}

// writeFile writes a file into the node's data directory, owned by the server's user.
func (n *PGNode) writeFile(name, text string) {
	n.t.Helper()
	path := filepath.Join(n.data, name)
	err := os.WriteFile(path, []byte(text), 0o600)
	if err == nil && n.cred != nil {
		err = os.Chown(path, int(n.cred.Uid), int(n.cred.Gid))
	}
	if err != nil {
		n.t.Fatalf("testenv: %v", err)
	}
}

// pgBinDir finds the directory of initdb and postgres.
func pgBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- { // the newest version first
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL server binaries (initdb, postgres) not found (Debian package postgresql)")
}

func (n *PGNode) appendConf(text string) {
	n.t.Helper()
	f, err := os.OpenFile(filepath.Join(n.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(text)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		n.t.Fatalf("testenv: configuring the %s: %v", n.Name, err)
	}
}

// Start starts the server if it is not running and waits until it accepts
// connections. A node that was a primary when it stopped starts as a primary
// on its old timeline, even if its replica has been promoted since: the
// split brain a fencing drill needs.
func (n *PGNode) Start() {
	n.t.Helper()
	if err := n.start(); err != nil {
		n.t.Fatalf("testenv: %v", err)
	}
}

// firstStart configures the node's port (and conf) and starts it, on
// another free port if another process took this one since FreePort.
func (n *PGNode) firstStart(conf string) {
	n.t.Helper()
	for try := 1; ; try++ {
		n.appendConf(fmt.Sprintf("port = %d\n%s", n.Port, conf)) // the last setting wins
		err := n.start()
		if err == nil {
			return
		}
		if try == 3 || !strings.Contains(n.logTail(), "could not bind") {
			n.t.Fatalf("testenv: %v", err)
		}
		port, perr := FreePort()
		if perr != nil {
			n.t.Fatalf("testenv: %v", perr)
		}
		n.Port, n.DSN = port, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	}
}

func (n *PGNode) start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		return nil
	}
	logf, err := os.OpenFile(n.logf, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(n.bin, "postgres"), "-D", n.data)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: n.cred, Setpgid: true}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the %s: %w", n.Name, err)
	}
	n.cmd = cmd
	died := false
	err = poll(30*time.Second, 20*time.Millisecond, func() error {
		if exited(cmd.Process.Pid) {
			died = true
			return nil // no use waiting
		}
		return n.ours()
	})
	if died {
		err = errors.New("the postmaster exited")
	}
	if err != nil {
		n.stopLocked(syscall.SIGKILL)
		return fmt.Errorf("the %s on port %d did not start: %w\n%s", n.Name, n.Port, err, n.logTail())
	}
	return nil
}

// ours checks that the server answering on n.Port runs from n's data
// directory: FreePort's port may have been taken before the bind.
func (n *PGNode) ours() error {
	db, err := sql.Open("pgx", n.DSN+"&connect_timeout=2")
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var dataDir string
	if err := db.QueryRowContext(ctx, "SHOW data_directory").Scan(&dataDir); err != nil {
		return err
	}
	if dataDir != n.data {
		return fmt.Errorf("port %d is served from %s, not our %s", n.Port, dataDir, n.data)
	}
	return nil
}

// exited reports whether pid is gone or a zombie.
func exited(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, rest, _ := bytes.Cut(b, []byte(") "))
	return len(rest) == 0 || rest[0] == 'Z' || rest[0] == 'X'
}

// Kill crashes the server: SIGKILL to the postmaster and every one of its
// processes at once, as a power cut or the OOM killer would, and waits
// until they are gone. Killing a stopped server does nothing.
func (n *PGNode) Kill() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.stopLocked(syscall.SIGKILL)
}

// Stop shuts the server down cleanly (SIGINT, PostgreSQL's fast shutdown:
// clients are disconnected, and a primary first sends its replicas all its
// WAL) and waits for it to exit.
func (n *PGNode) Stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.stopLocked(syscall.SIGINT)
}

// Freeze stops every process of the server with SIGSTOP: a hung server,
// which holds its connections open and answers nothing. Thaw resumes it.
func (n *PGNode) Freeze() { n.signalAll(syscall.SIGSTOP) }

// Thaw resumes a frozen server (SIGCONT).
func (n *PGNode) Thaw() { n.signalAll(syscall.SIGCONT) }

func (n *PGNode) signalAll(sig syscall.Signal) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return
	}
	pm := n.cmd.Process.Pid
	if sig == syscall.SIGSTOP { // the postmaster first, so that it starts no new child
		_ = syscall.Kill(pm, sig)
	}
	for _, pid := range children(pm) {
		_ = syscall.Kill(pid, sig)
	}
	if sig != syscall.SIGSTOP {
		_ = syscall.Kill(pm, sig)
	}
}

func (n *PGNode) stopLocked(sig syscall.Signal) {
	if n.cmd == nil {
		return
	}
	pm := n.cmd.Process.Pid
	if sig == syscall.SIGKILL {
		_ = syscall.Kill(pm, syscall.SIGSTOP) // no new child while we kill the others
		kids := children(pm)
		_ = syscall.Kill(pm, syscall.SIGKILL)
		for _, pid := range kids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = n.cmd.Wait()
		_ = poll(10*time.Second, 5*time.Millisecond, func() error {
			for _, pid := range kids {
				if !exited(pid) {
					return fmt.Errorf("process %d still runs", pid)
				}
			}
			return nil
		})
		// The postmaster is gone and reaped; its pid may be reused before the
		// next Start, which would then take the stale lock file for a live server.
		_ = os.Remove(filepath.Join(n.data, "postmaster.pid"))
	} else {
		for _, pid := range children(n.cmd.Process.Pid) { // a frozen server cannot shut down
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
		_ = syscall.Kill(pm, syscall.SIGCONT)
		_ = syscall.Kill(pm, sig)
		done := make(chan struct{})
		go func() { _ = n.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(pm, syscall.SIGKILL)
			<-done
		}
	}
	n.cmd = nil
}

// children lists the processes whose parent is pid.
func children(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		_, rest, _ := bytes.Cut(b, []byte(") "))
		f := strings.Fields(string(rest))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, c)
		}
	}
	return out
}

// Promote promotes the node (pg_promote) and returns once it accepts writes.
func (n *PGNode) Promote() {
	n.t.Helper()
	db := n.DB(n.t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var ok bool
	if err := db.QueryRowContext(ctx, "SELECT pg_promote(true, 60)").Scan(&ok); err != nil || !ok {
		n.t.Fatalf("testenv: promoting the %s: %v, %v\n%s", n.Name, ok, err, n.logTail())
	}
}

// DB opens the node's postgres database with the pgx driver; it is closed
// when the test ends.
func (n *PGNode) DB(t testing.TB) *sql.DB {
	t.Helper()
	return PG{DSN: n.DSN, Name: "postgres"}.DB(t)
}

// Database creates a fresh database on the primary and returns it as seen
// through both nodes, once the replica has replayed it.
func (c *PGCluster) Database(t testing.TB) PGPair {
	t.Helper()
	name := uniqueName("ladder_t_")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := adminExec(ctx, c.Primary.DSN, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testenv: creating a database on the private primary: %v", err)
	}
	p, err := withDatabase(c.Primary.DSN, name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := withDatabase(c.Replica.DSN, name)
	if err != nil {
		t.Fatal(err)
	}
	WaitReplay(t, ctx, openAdmin(t, c.Primary.DSN), openAdmin(t, c.Replica.DSN))
	return PGPair{Primary: PG{DSN: p, Name: name}, Replica: PG{DSN: r, Name: name}}
}

// awaitStreaming waits until the primary reports its replica streaming.
func (c *PGCluster) awaitStreaming() {
	t := c.Primary.t
	t.Helper()
	db := openAdmin(t, c.Primary.DSN)
	err := poll(30*time.Second, 20*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'").Scan(&n); err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("%d streaming replicas", n)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("testenv: the private replica is not streaming: %v\n%s", err, c.Replica.logTail())
	}
}

// logTail returns the end of the node's server log, for failure messages.
func (n *PGNode) logTail() string {
	b, _ := os.ReadFile(n.logf)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}
