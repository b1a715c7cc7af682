package stage_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/examples/app/stage"
)

// The child of TestTempDirOfKilledRunIsRemoved: it makes its directory,
// prints it and waits to be killed.
func TestTempDirChild(t *testing.T) {
	if os.Getenv("STAGE_TEMPDIR_CHILD") == "" {
		t.Skip("run by TestTempDirOfKilledRunIsRemoved")
	}
	dir, err := stage.TempDir("99")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "app.db"), []byte("x"), 0o600)
	os.Stdout.WriteString("DIR " + dir + "\n")
	time.Sleep(time.Minute)
}

// A run SIGKILLed leaves its temporary directory behind; the next run of
// the stage removes it, and leaves a live run's alone.
func TestTempDirOfKilledRunIsRemoved(t *testing.T) {
	start := func() (*exec.Cmd, string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTempDirChild$", "-test.v")
		cmd.Env = append(os.Environ(), "STAGE_TEMPDIR_CHILD=1")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "DIR "); ok {
				return cmd, d
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the child printed no directory")
		return nil, ""
	}
	killed, dead := start()
	killed.Process.Kill() // SIGKILL: no deferred cleanup runs
	killed.Wait()
	if _, err := os.Stat(filepath.Join(dead, "app.db")); err != nil {
		t.Fatalf("the killed run's directory %s: %v, want it left behind", dead, err)
	}
	// The next run of the stage removes it as it starts.
	live, alive := start()
	defer func() { live.Process.Kill(); live.Wait(); os.RemoveAll(alive) }()
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the killed run's directory %s is still there (%v)", dead, err)
	}
	// And one more leaves the live run's alone.
	mine, err := stage.TempDir("99")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(mine)
	if _, err := os.Stat(filepath.Join(alive, "app.db")); err != nil {
		t.Errorf("a live run's directory was touched: %v", err)
	}
	if !strings.HasPrefix(filepath.Base(mine), "ladder-99-"+itoa(os.Getpid())+"-") {
		t.Errorf("directory %s does not carry the pid", mine)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
