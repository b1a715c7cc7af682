package queuetest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/queuetest"
)

type sendEmail struct {
	To   string `json:"to"`
	Mode string `json:"mode"`
}

func (sendEmail) Kind() string { return "send-email" }

type unregistered struct{}

func (unregistered) Kind() string { return "nobody-handles-this" }

// handlers registers a send-email handler whose outcome Mode picks.
func handlers(t *testing.T, seen *queue.Job) *queue.Handlers {
	t.Helper()
	var h queue.Handlers
	err := queue.Handle(&h, func(ctx context.Context, j *queue.Typed[sendEmail]) error {
		if seen != nil {
			*seen = *j.Job
		}
		switch j.Args.Mode {
		case "fail":
			return errors.New("smtp: 451 try later")
		case "snooze":
			return queue.SnoozeFor(time.Hour)
		case "cancel":
			return queue.Cancel(errors.New("address bounced"))
		case "panic":
			panic("boom")
		}
		return nil
	}, queue.HandlerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &h
}

var kindName = map[queue.OutcomeKind]string{queue.Done: "Done", queue.Retry: "Retry", queue.Snooze: "Snooze",
	queue.Dead: "Dead", queue.Release: "Release"}

// Work runs the handler once and reports the outcome the worker chose.
func TestWorkOutcomes(t *testing.T) {
	clock := queuetest.NewClock(time.Time{})
	for _, tc := range []struct {
		mode, wantErr string
		attempt       int
		want          queue.OutcomeKind
	}{
		{"ok", "", 0, queue.Done},
		{"fail", "smtp: 451 try later", 0, queue.Retry},
		{"fail", "smtp: 451 try later", 3, queue.Dead}, // the last of 3 attempts
		{"snooze", "", 0, queue.Snooze},
		{"cancel", "cancelled: address bounced", 0, queue.Dead},
		{"panic", "boom", 0, queue.Retry},
	} {
		t.Run(tc.mode+"/"+kindName[tc.want], func(t *testing.T) {
			var seen queue.Job
			res := queuetest.Work(t.Context(), t, handlers(t, &seen), sendEmail{To: "a@example.com", Mode: tc.mode},
				queuetest.WorkOptions{Enqueue: queue.EnqueueOptions{MaxAttempts: 3}, Attempt: tc.attempt, Now: clock.Now})
			if res.Kind != tc.want || !strings.Contains(res.Err, tc.wantErr) {
				t.Fatalf("Work = %v %q, want %v %q", res.Kind, res.Err, tc.want, tc.wantErr)
			}
			if want := max(tc.attempt, 1); res.Job.Attempt != want || seen.Attempt != want {
				t.Fatalf("the handler ran attempt %d (result says %d), want %d", seen.Attempt, res.Job.Attempt, want)
			}
			if (tc.want == queue.Retry || tc.want == queue.Snooze) && !res.At.After(clock.Now()) {
				t.Fatalf("%v at %v, want after now %v", tc.want, res.At, clock.Now())
			}
		})
	}
}

// A job of a kind no handler takes is dead-lettered, not dropped.
func TestWorkUnknownKind(t *testing.T) {
	res := queuetest.Work(t.Context(), t, handlers(t, nil), unregistered{}, queuetest.WorkOptions{})
	if res.Kind != queue.Dead || !strings.Contains(res.Err, "nobody-handles-this") {
		t.Fatalf("Work of an unregistered kind = %v %q, want Dead naming the kind", res.Kind, res.Err)
	}
}
