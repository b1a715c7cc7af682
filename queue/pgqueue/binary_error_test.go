package pgqueue_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

// A handler's error message is whatever it returns: a NUL byte or invalid
// UTF-8 (binary data in an error) used to fail the whole Settle call
// (PostgreSQL text refuses both), so every outcome of the batch was lost
// and its job ran again, and the job itself was retried through lease
// expiries. The message is stored with those bytes replaced.
func TestBinaryErrorMessageSettles(t *testing.T) {
	b, _ := newBackend(t, pgqueue.Options{Logger: quiet})
	enqueue(t, b, job("q"), job("q"), job("q"))
	js := fetch(t, b, "q", 3, time.Minute)
	if len(js) != 3 {
		t.Fatalf("fetched %d jobs", len(js))
	}
	errs, err := b.Settle(ctxT(t), []queue.Outcome{
		{Job: js[0], Kind: queue.Done},
		{Job: js[1], Kind: queue.Retry, At: time.Now(), Err: "bad \x00 byte"},
		{Job: js[2], Kind: queue.Dead, Err: "bad \xff\xfe utf-8"},
	})
	if err != nil {
		t.Fatalf("Settle with binary error messages: %v", err)
	}
	for i, e := range errs {
		if e != nil {
			t.Errorf("outcome %d: %v", i, e)
		}
	}
	again := fetch(t, b, "q", 3, time.Minute)
	if len(again) != 1 || again[0].ID != js[1].ID || again[0].LastError != "bad \uFFFD byte" {
		t.Fatalf("after the retry, fetched %+v; want job %s with LastError %q", again, js[1].ID, "bad \uFFFD byte")
	}
	d, err := b.Dead(ctxT(t), "q", queue.Page{})
	if err != nil || len(d) != 1 || d[0].Reason != "bad \uFFFD utf-8" {
		t.Fatalf("Dead = %+v, %v; want one letter with reason %q", d, err, "bad \uFFFD utf-8")
	}
}

// A NUL byte or invalid UTF-8 in a job's text fields is an enqueue error
// naming the field (it was a raw "invalid byte sequence" from the server).
func TestBinaryTextFieldsRejectedAtEnqueue(t *testing.T) {
	b, _ := newBackend(t, pgqueue.Options{Logger: quiet})
	for name, mod := range map[string]func(*queue.Job){
		"Kind":      func(j *queue.Job) { j.Kind = "k\x00" },
		"Queue":     func(j *queue.Job) { j.Queue = "q\xff" },
		"UniqueKey": func(j *queue.Job) { j.UniqueKey, j.UniqueUntil = "\x00", time.Now().Add(time.Hour) },
		"Meta":      func(j *queue.Job) { j.Meta = map[string]string{"k": "v\x00"} },
	} {
		j := job("q")
		mod(j)
		_, err := b.Enqueue(ctxT(t), []*queue.Job{job("q"), j})
		if !errors.Is(err, queue.ErrInvalidOptions) || !strings.Contains(err.Error(), name) {
			t.Errorf("Enqueue with a binary %s: %v; want ErrInvalidOptions naming it", name, err)
		}
	}
	if st, err := b.Stats(ctxT(t), "q"); err != nil || st.Ready != 0 {
		t.Fatalf("Stats = %+v, %v; want nothing stored", st, err)
	}
}
