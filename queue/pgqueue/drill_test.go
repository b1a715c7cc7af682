package pgqueue_test

// The crash drill: worker processes (this test binary re-executed, see
// TestMain) run jobs that complete in their own transaction (CompleteTx)
// and are killed with SIGKILL again and again, mid-job, while a producer
// keeps enqueuing. Nothing may be lost, no job's effect may commit twice,
// and the reruns of jobs whose worker died are counted.
//
// CI runs 10,000 jobs; LADDER_DRILL=full (scripts/drill) runs 100,000 and
// writes its figures to the file named by LADDER_DRILL_OUT, if set:
//
//	LADDER_DRILL=full go test -run DrillWorkersKilled -v ./queue/pgqueue/

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

const drillWorkerEnv = "LADDER_PGQUEUE_DRILL_WORKER" // the database's DSN

type drillArgs struct {
	Seq int `json:"seq"`
}

func (drillArgs) Kind() string { return "drill" }

const drillSchema = `
CREATE TABLE IF NOT EXISTS drill_starts (seq int NOT NULL, pid int NOT NULL);
CREATE TABLE IF NOT EXISTS drill_done (seq int NOT NULL, pid int NOT NULL);
`

// runDrillWorker is the worker process: it works queue "drill" until it is
// killed (or SIGTERM, for a graceful stop), and prints "ready" once it runs.
func runDrillWorker() int {
	dsn := os.Getenv(drillWorkerEnv)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "drill worker:", err)
		return 2
	}
	defer pool.Close()
	b, err := pgqueue.New(pool, pgqueue.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "drill worker:", err)
		return 2
	}
	defer b.Close()
	pid := os.Getpid()
	var h queue.Handlers
	err = queue.Handle(&h, func(ctx context.Context, j *queue.Typed[drillArgs]) error {
		if _, err := pool.Exec(ctx, `INSERT INTO drill_starts VALUES ($1, $2)`, j.Args.Seq, pid); err != nil {
			return err
		}
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond) // mid-job
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO drill_done VALUES ($1, $2)`, j.Args.Seq, pid); err != nil {
				return err
			}
			return b.CompleteTx(ctx, tx, j.Job)
		})
	}, queue.HandlerOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "drill worker:", err)
		return 2
	}
	w, err := queue.NewWorker(b, &h, queue.WorkerOptions{
		Queues: map[string]queue.QueueOptions{"drill": {Concurrency: 16}},
		// A killed worker's jobs come back after a second.
		Lease: time.Second, PollInterval: 200 * time.Millisecond, ShutdownTimeout: 5 * time.Second,
		Logger: quiet,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "drill worker:", err)
		return 2
	}
	fmt.Println("ready")
	os.Stdout.Close()
	if err := w.Run(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "drill worker:", err)
		return 1
	}
	return 0
}

// drillProc is one worker process.
type drillProc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func startDrillWorker(t *testing.T, dsn string) *drillProc {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), drillWorkerEnv+"="+dsn)
	cmd.Stdout, cmd.Stderr = w, os.Stderr
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	p := &drillProc{cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-p.exited })
	r.SetReadDeadline(time.Now().Add(30 * time.Second))
	if line, err := bufio.NewReader(r).ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
		t.Fatalf("drill worker did not start: %q %v", line, err)
	}
	return p
}

func (p *drillProc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

type drillFigures struct {
	Jobs       int     `json:"jobs"`
	Workers    int     `json:"workers"`
	Kills      int     `json:"kills"`
	Lost       int     `json:"lost"`
	DoubleDone int     `json:"double_done"` // effects committed twice: must be 0
	Reruns     int     `json:"reruns"`      // handler starts beyond the first, from killed workers
	Dead       int64   `json:"dead"`
	Seconds    float64 `json:"seconds"`
	JobsPerSec float64 `json:"jobs_per_s"`
}

func TestDrillWorkersKilled(t *testing.T) {
	jobs := 10_000
	if os.Getenv("LADDER_DRILL") == "full" {
		jobs = 100_000
	} else if testing.Short() {
		t.Skip("crash drill: real processes; skipped in -short mode")
	}
	pg := testenv.Postgres(t)
	pool := openPool(t, pg.DSN, 0)
	be := backendOn(t, pool, pgqueue.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := pool.Exec(ctx, drillSchema); err != nil {
		t.Fatal(err)
	}
	client, err := queue.NewClient(be, queue.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const workers = 2
	procs := make([]*drillProc, workers)
	for i := range procs {
		procs[i] = startDrillWorker(t, pg.DSN)
	}
	begin := time.Now()
	var produced atomic.Int64
	prodErr := make(chan error, 1)
	go func() { // the producer keeps enqueuing through the kills
		for n := 0; n < jobs; n += 100 {
			reqs := make([]queue.Request, 0, 100)
			for i := n; i < min(n+100, jobs); i++ {
				reqs = append(reqs, queue.Request{Args: drillArgs{Seq: i}, Options: queue.EnqueueOptions{Queue: "drill"}})
			}
			if _, err := client.EnqueueMany(ctx, reqs); err != nil {
				prodErr <- err
				return
			}
			produced.Add(int64(len(reqs)))
			time.Sleep(40 * time.Millisecond) // ≈ 2,500 jobs/s: enqueuing goes on through the kills
		}
		prodErr <- nil
	}()
	done := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(DISTINCT seq) FROM drill_done`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	kills := 0
	var mu sync.Mutex
	limit := time.Now().Add(5 * time.Minute)
	for produced.Load() < int64(jobs) || done() < jobs {
		if time.Now().After(limit) {
			t.Fatalf("drill: %d of %d jobs done after 5 minutes (%d enqueued)", done(), jobs, produced.Load())
		}
		time.Sleep(time.Duration(150+rand.IntN(300)) * time.Millisecond)
		if done() < jobs*19/20 { // kill until the last stretch, which must finish
			i := rand.IntN(workers)
			mu.Lock()
			procs[i].kill()
			procs[i] = startDrillWorker(t, pg.DSN)
			kills++
			mu.Unlock()
		}
	}
	elapsed := time.Since(begin)
	if err := <-prodErr; err != nil {
		t.Fatal(err)
	}
	for _, p := range procs {
		p.kill()
	}
	f := drillFigures{Jobs: jobs, Workers: workers, Kills: kills, Seconds: elapsed.Seconds(),
		JobsPerSec: float64(jobs) / elapsed.Seconds()}
	var distinct, total, starts int
	if err := pool.QueryRow(ctx, `SELECT count(DISTINCT seq), count(*), (SELECT count(*) FROM drill_starts) FROM drill_done`).Scan(&distinct, &total, &starts); err != nil {
		t.Fatal(err)
	}
	f.Lost, f.DoubleDone, f.Reruns = jobs-distinct, total-distinct, starts-jobs
	st, err := be.Stats(ctx, "drill")
	if err != nil {
		t.Fatal(err)
	}
	f.Dead = st.Dead
	out, _ := json.Marshal(f)
	t.Logf("crash drill: %s", out)
	if path := os.Getenv("LADDER_DRILL_OUT"); path != "" && os.Getenv("LADDER_DRILL") == "full" {
		if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
			t.Error(err)
		}
	}
	if f.Lost != 0 || f.DoubleDone != 0 || f.Dead != 0 {
		t.Fatalf("crash drill: %d lost, %d effects committed twice, %d dead letters", f.Lost, f.DoubleDone, f.Dead)
	}
	if kills == 0 {
		t.Fatal("crash drill: no worker was killed")
	}
	if st.Ready+st.Running+st.Scheduled != 0 {
		t.Fatalf("crash drill: jobs left behind: %+v", st)
	}
}
