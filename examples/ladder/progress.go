package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// progress shows which stage runs: on a terminal a live line rewritten in
// place (stage k/n, name, elapsed, the stage's last output line as its
// phase), elsewhere one plain line as each stage starts.
type progress struct {
	w   io.Writer
	n   int
	tty bool
}

func newProgress(w io.Writer, n int) *progress {
	return &progress{w: w, n: n, tty: isTerminal(w)}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}

// start shows stage k running; the returned stop ends its line with the
// outcome.
func (p *progress) start(k int, name string, began time.Time, phase func() string) (stop func(*result)) {
	head := fmt.Sprintf("[%d/%d] %s", k, p.n, name)
	if !p.tty {
		fmt.Fprintf(p.w, "%s: running…\n", head)
		return func(r *result) {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // owned: stop waits for it
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			line := fmt.Sprintf("%s  %5.1fs  %s", head, time.Since(began).Seconds(), phase())
			fmt.Fprintf(p.w, "\r\x1b[K%s", clip(line, 110))
			select {
			case <-done:
				fmt.Fprint(p.w, "\r\x1b[K")
				return
			case <-t.C:
			}
		}
	})
	return func(*result) { close(done); wg.Wait() }
}

// clip cuts s to n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// lineWriter passes writes on and keeps the last complete non-empty line.
type lineWriter struct {
	w io.Writer

	mu      sync.Mutex
	partial []byte
	lastLn  string
}

func (l *lineWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	l.partial = append(l.partial, b...)
	if i := bytes.LastIndexByte(l.partial, '\n'); i >= 0 {
		for _, ln := range strings.Split(string(l.partial[:i]), "\n") {
			if s := strings.TrimSpace(ln); s != "" {
				l.lastLn = s
			}
		}
		l.partial = append(l.partial[:0], l.partial[i+1:]...)
	}
	if len(l.partial) > 4096 { // a line without end: keep it bounded
		l.partial = l.partial[len(l.partial)-4096:]
	}
	l.mu.Unlock()
	return l.w.Write(b)
}

func (l *lineWriter) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastLn
}

// lockedWriter serialises the writes of a stage's stdout, stderr and the
// copiers of its children's output.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
