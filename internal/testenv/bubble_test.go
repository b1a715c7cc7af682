package testenv

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Tests enter bubbles through Bubble, never synctest.Test directly (see Bubble for why).
func TestNoDirectSynctestTest(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from the test's directory: %v", err)
	}
	call := "synctest" + ".Test(" // split, so this file does not match itself
	seen := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		seen++
		if strings.Contains(string(b), call) {
			t.Errorf("%s calls synctest.Test; use testenv.Bubble", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 10 {
		t.Fatalf("looked at %d test files; the walk is not seeing the module", seen)
	}
}

func TestBubble(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	Bubble(t, func(t *testing.T) {
		start := time.Now()
		time.Sleep(time.Hour) // the fake clock: returns at once
		if d := time.Since(start); d != time.Hour {
			t.Errorf("slept %v in the bubble, want exactly 1h", d)
		}
		if got := runtime.GOMAXPROCS(0); raceEnabled && got != 1 {
			t.Errorf("GOMAXPROCS = %d in a bubble under -race, want 1", got)
		}
	})
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Errorf("GOMAXPROCS = %d after the bubble, want %d restored", got, before)
	}
}
