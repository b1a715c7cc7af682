package redisqueue_test

// The crash drill: worker processes (this test binary re-executed, see
// TestMain) work a queue on a real redis-server while a producer keeps
// enqueuing, and are killed with SIGKILL in the middle of jobs, again and
// again, and restarted. At the end every job has run at least once: none is
// lost. Duplicates (a job whose handler finished but whose worker died before
// its Done reached Redis runs again) are counted and logged, not asserted.
//
// CI runs 10,000 jobs; LADDER_DRILL=full (scripts/drill) runs 100,000 and
// writes the figures to the file named by LADDER_DRILL_OUT, if set:
//
//	LADDER_DRILL=full LADDER_DRILL_OUT=drill.txt go test -run CrashDrill -v ./queue/redisqueue/

import (
	"context"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/redisqueue"
)

const (
	drillWorkerEnv = "LADDER_REDISQUEUE_DRILL_WORKER" // the redis address: run as a drill worker
	drillPrefixEnv = "LADDER_REDISQUEUE_DRILL_PREFIX"
	drillQueue     = "drill"
	drillLease     = time.Second
)

// drillJob is the drill's job: its handler records that job N ran.
type drillJob struct{ N int }

func (drillJob) Kind() string { return "drill" }

// runsKey is the hash of how many times each job's handler finished.
func runsKey(prefix string) string { return "{" + prefix + ":drill}:runs" }

// runDrillWorker is a worker process: it works the drill queue until SIGTERM
// (or until it is killed, which is the point).
func runDrillWorker(addr string) int {
	prefix := os.Getenv(drillPrefixEnv)
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer client.Close()
	quiet := slog.New(slog.DiscardHandler)
	b, err := redisqueue.New(client, redisqueue.Options{Prefix: prefix, Logger: quiet})
	if err != nil {
		fmt.Fprintln(os.Stderr, "drill worker:", err)
		return 2
	}
	var h queue.Handlers
	err = queue.Handle(&h, func(ctx context.Context, j *queue.Typed[drillJob]) error {
		time.Sleep(time.Duration(mrand.IntN(2000)) * time.Microsecond) // be in the middle of a job when killed
		return client.HIncrBy(ctx, runsKey(prefix), strconv.Itoa(j.Args.N), 1).Err()
	}, queue.HandlerOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "drill worker:", err)
		return 2
	}
	w, err := queue.NewWorker(b, &h, queue.WorkerOptions{
		Queues: map[string]queue.QueueOptions{drillQueue: {Concurrency: 64, FetchBatch: 64}},
		Lease:  drillLease, PollInterval: 100 * time.Millisecond, ShutdownTimeout: 5 * time.Second, Logger: quiet,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "drill worker:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := w.Run(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "drill worker:", err)
		return 1
	}
	return 0
}

// workerProc is one worker process.
type workerProc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func startWorker(t *testing.T, addr, prefix string) *workerProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), drillWorkerEnv+"="+addr, drillPrefixEnv+"="+prefix)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &workerProc{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p
}

func (p *workerProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

func TestCrashDrillNoJobLost(t *testing.T) {
	total, workers, timeout := 10_000, 3, 3*time.Minute
	full := os.Getenv("LADDER_DRILL") == "full"
	if full {
		total, workers, timeout = 100_000, 4, 15*time.Minute
	} else if testing.Short() {
		t.Skip("crash drill: real processes; skipped in -short mode")
	}
	s := testenv.Redis(t)
	client := redis.NewClient(&redis.Options{Addr: s.Addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	prefix := testPrefix(t, client)
	b, err := redisqueue.New(client, redisqueue.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	qc, err := queue.NewClient(b, queue.ClientOptions{Defaults: queue.EnqueueOptions{Queue: drillQueue}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	var mu sync.Mutex
	procs := make([]*workerProc, workers)
	for i := range procs {
		procs[i] = startWorker(t, s.Addr, prefix)
	}
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range procs {
			p.kill()
		}
	}()

	// The producer enqueues in batches of 100, retrying a batch that failed.
	start := time.Now()
	var enqueued atomic.Int64
	produced := make(chan error, 1)
	go func() {
		for n := 0; n < total; {
			reqs := make([]queue.Request, 0, 100)
			for i := n; i < min(total, n+100); i++ {
				reqs = append(reqs, queue.Request{Args: drillJob{N: i}})
			}
			if _, err := qc.EnqueueMany(ctx, reqs); err != nil {
				if ctx.Err() != nil {
					produced <- err
					return
				}
				continue
			}
			n += len(reqs)
			enqueued.Store(int64(n))
			time.Sleep(time.Millisecond) // keep producing while workers die
		}
		produced <- nil
	}()

	// The killer: a SIGKILL to a random worker every 100–300 ms, and a new
	// worker in its place, until the producer is done and 10 kills happened.
	kills := 0
	var produceErr error
	producing := true
	for producing || kills < 10 {
		select {
		case produceErr = <-produced:
			producing = false
		case <-time.After(time.Duration(100+mrand.IntN(200)) * time.Millisecond):
		}
		if ctx.Err() != nil {
			break
		}
		i := mrand.IntN(workers)
		mu.Lock()
		procs[i].kill()
		procs[i] = startWorker(t, s.Addr, prefix)
		mu.Unlock()
		kills++
	}
	if produceErr != nil {
		t.Fatalf("producer: %v after %d jobs", produceErr, enqueued.Load())
	}

	// Everything ran once at least, or the drill times out.
	var ran int64
	for {
		ran, err = client.HLen(ctx, runsKey(prefix)).Result()
		if err == nil && ran == int64(total) {
			break
		}
		if ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	elapsed := time.Since(start)
	counts, err := client.HGetAll(context.Background(), runsKey(prefix)).Result()
	if err != nil {
		t.Fatal(err)
	}
	var runs int64
	for _, v := range counts {
		n, _ := strconv.ParseInt(v, 10, 64)
		runs += n
	}
	lost := int64(total) - int64(len(counts))
	dups := runs - int64(len(counts))
	st, _ := b.Stats(context.Background(), drillQueue)
	report := fmt.Sprintf("redisqueue crash drill: %d jobs, %d worker processes, %d SIGKILLs, lease %v: "+
		"lost %d, duplicates %d (%.3f%%), %v (%.0f jobs/s with the kills); dead letters %d",
		total, workers, kills, drillLease, lost, dups, 100*float64(dups)/float64(total), elapsed.Round(time.Millisecond),
		float64(total)/elapsed.Seconds(), st.Dead)
	t.Log(report)
	if out := os.Getenv("LADDER_DRILL_OUT"); out != "" && full {
		if err := os.WriteFile(out, []byte(report+"\n"), 0o644); err != nil {
			t.Errorf("writing %s: %v", out, err)
		}
	}
	if lost != 0 {
		dead, _ := b.Dead(context.Background(), drillQueue, queue.Page{Limit: 5})
		t.Errorf("%d jobs never ran (stats %+v; first dead letters %+v)", lost, st, dead)
	}
}
