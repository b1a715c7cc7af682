package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ladder-go/ladder/queue"
)

// WelcomeMail is the job a signup enqueues: send user Name a welcome e-mail.
type WelcomeMail struct {
	Name string `json:"name"`
	// Signup is when the user signed up (the mail's age on delivery).
	Signup time.Time `json:"signup"`
}

// Kind implements queue.Kinded.
func (WelcomeMail) Kind() string { return "app.welcome-mail" }

// MailQueue is the queue welcome mails go to.
const MailQueue = "mail"

// Sent is one delivered mail, as a Sink sees it.
type Sent struct {
	To      string
	Signup  time.Time
	At      time.Time
	Attempt int    // 1 for a first try; more after a worker died mid-job
	JobID   string // "" when sent inline, without a queue
}

// Sink receives every sent mail: where the examples count deliveries (a
// counter, a file, a channel). It must be safe for concurrent use.
type Sink func(ctx context.Context, m Sent) error

// MailerOptions configure a Mailer.
type MailerOptions struct {
	// Latency is how long one send takes (the SMTP round trip this mailer
	// stands for); 0 sends at once.
	Latency time.Duration
	// Sink records each send; nil keeps only the counts.
	Sink Sink
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Mailer "sends" welcome mails: it waits Latency and hands each to its Sink.
// It is safe for concurrent use.
type Mailer struct {
	opts MailerOptions
	mu   sync.Mutex
	sent int
}

// NewMailer returns a Mailer.
func NewMailer(opts MailerOptions) (*Mailer, error) {
	if opts.Latency < 0 {
		return nil, fmt.Errorf("%w: Mailer Latency %v: must be ≥ 0", ErrInvalidOptions, opts.Latency)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Mailer{opts: opts}, nil
}

// Send delivers one welcome mail (jobID "" for an inline send).
func (m *Mailer) Send(ctx context.Context, w WelcomeMail, jobID string, attempt int) error {
	if m.opts.Latency > 0 {
		t := time.NewTimer(m.opts.Latency)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	if m.opts.Sink != nil {
		if err := m.opts.Sink(ctx, Sent{To: w.Name, Signup: w.Signup, At: m.opts.Now(), Attempt: attempt, JobID: jobID}); err != nil {
			return fmt.Errorf("app: mail sink: %w", err)
		}
	}
	m.mu.Lock()
	m.sent++
	m.mu.Unlock()
	return nil
}

// Sent returns how many mails this Mailer has sent.
func (m *Mailer) Sent() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sent
}

// RegisterMailer registers m as the handler of WelcomeMail jobs on h, for a
// queue.Worker working MailQueue.
func RegisterMailer(h *queue.Handlers, m *Mailer) error {
	return queue.Handle(h, func(ctx context.Context, job *queue.Typed[WelcomeMail]) error {
		return m.Send(ctx, job.Args, job.ID, job.Attempt)
	}, queue.HandlerOptions{})
}
