package stage

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// TempDir makes the run's temporary directory, "ladder-<stage>-<pid>-*"
// under os.TempDir(), and first removes the ones of earlier runs of the same
// stage whose process is gone: a run killed with SIGKILL (or a crash) never
// reaches its deferred RemoveAll, and its SQLite files would otherwise stay
// forever. A directory whose process still runs (or may: a pid this user
// cannot signal) is left alone.
func TempDir(stage string) (string, error) {
	prefix := "ladder-" + stage + "-"
	if old, err := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*")); err == nil {
		for _, d := range old {
			rest := strings.TrimPrefix(filepath.Base(d), prefix)
			pidStr, _, ok := strings.Cut(rest, "-")
			pid, err := strconv.Atoi(pidStr)
			if !ok || err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
				continue
			}
			_ = os.RemoveAll(d)
		}
	}
	dir, err := os.MkdirTemp("", prefix+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return "", fmt.Errorf("stage: temporary directory: %w", err)
	}
	return dir, nil
}
