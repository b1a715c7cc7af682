package edgetest

import (
	"fmt"
	"time"
)

// Case is one conformance check: a sequence of requests to the cache under
// test, each with the response the origin gives if the request reaches it and
// what the client and the origin must see.
type Case struct {
	ID      string // stable and unique, e.g. "freshness-s-maxage-over-max-age"; part of the URL path
	RFC     string // "9111", "5861", "8246", "9211", "9213"
	Section string // e.g. "4.2.1"
	Level   string // "MUST", "SHOULD" or "MAY": what the RFC sentence says (a scoreboard counts MUST and SHOULD)
	Name    string // what is checked, one line
	Steps   []Step
}

// Step is one request of a Case.
type Step struct {
	// Pause is the time to let pass before this request: the fake clock
	// advances by it, or the runner sleeps on the real clock.
	Pause    time.Duration
	Request  Request
	Response Response // what the origin answers if this step's request (or one it causes) reaches it
	Expect   Expect
}

// Request is what the client sends.
type Request struct {
	Method string  // "" → GET
	Path   string  // appended to the case's path: "" or "/other" or "?q=1"
	Header []Field // in order; duplicates allowed; values may use templates (see [Response])
	Body   string
}

// Response is what the origin answers. A zero Response (no Status, Header or
// Body) repeats the nearest earlier step's Response, with the default body of
// this step.
//
// Header values may use templates: {{date:N}} is the HTTP-date N seconds
// (N may be negative) from the origin's now, in IMF-fixdate format;
// {{rfc850:N}} and {{asctime:N}} give the obsolete HTTP-date formats;
// {{base}} is the case's URL path (to build Location or Content-Location
// within the case).
type Response struct {
	Status int     // 0 → 200
	Header []Field // in order; duplicates allowed
	// Body; "" → a body unique to the case and step, "response <n>" (n is the
	// 1-based step index). 204, 304 and HEAD responses carry none.
	Body string
	// Delay before the origin answers (the fake clock advances by it, or the
	// origin sleeps): response delay for Age (RFC 9111 §4.2.3).
	Delay time.Duration
	// NoDate sends the response without a Date field (the origin adds
	// Date: now otherwise, unless Header has one).
	NoDate bool
}

// Field is one header field line.
type Field struct {
	Name, Value string
}

// Contact is how the origin is expected to have been contacted during a step.
type Contact int

// The origin contacts a step can expect.
const (
	AnyContact  Contact = iota // not checked
	None                       // no request reached the origin: served from the cache
	Full                       // a request without validators reached it
	Conditional                // a request with If-None-Match or If-Modified-Since reached it
	Forwarded                  // Full or Conditional: some request reached it
)

func (c Contact) String() string {
	switch c {
	case AnyContact:
		return "any"
	case None:
		return "none"
	case Full:
		return "full"
	case Conditional:
		return "conditional"
	case Forwarded:
		return "forwarded"
	}
	return fmt.Sprintf("Contact(%d)", int(c))
}

// Expect is what a step checks. Zero fields are not checked.
type Expect struct {
	Origin Contact
	Status int
	// Body is the exact body expected ("" → not checked); BodyOf n expects the
	// body the origin sent in step n (1-based), e.g. BodyOf: 1 for a response
	// served from what step 1 stored. EmptyBody expects no body.
	Body      string
	BodyOf    int
	EmptyBody bool
	// NotBodyOf n fails the step if the body is the one the origin sent in
	// step n (1-based), e.g. a stale or wrongly updated stored response.
	NotBodyOf int
	// AllowCut accepts a body that ends early (an error reading it), for a
	// step whose origin response is cut short on purpose.
	AllowCut bool
	Header   []FieldCheck // on the response the client received
	// OriginHeader is checked on the last request the origin received in this
	// step (what the cache forwarded), e.g. the validators it sent.
	OriginHeader []FieldCheck
	// CacheStatus lists what the cache's Cache-Status member must hold, when
	// Target.CacheStatus names it: "hit", "fwd", "fwd=stale", "stored",
	// "detail=origin-error"; a leading "!" means absent ("!hit", "!stored");
	// "none" means the cache added no member at all.
	CacheStatus []string
	// Background says the cache is expected to send the origin a request in
	// the background after this response (stale-while-revalidate); the runner
	// waits for it to complete before the next step, and fails the step if it
	// does not come. (Origin requests are counted per step by arrival: an
	// undeclared background request may land in the next step's count.)
	Background bool
}

// Op is how a FieldCheck compares a field.
type Op int

// The comparisons a FieldCheck makes.
const (
	Present  Op = iota // the field is present
	Absent             // the field is absent
	Equal              // the field's (combined) value equals Value
	Contains           // the combined value contains Value (case-insensitive)
	Lacks              // the combined value does not contain Value (case-insensitive)
	AtLeast            // the value is an integer ≥ Value
	AtMost             // the value is an integer ≤ Value (an absent field counts as 0)
)

// FieldCheck is one expectation on a header field. Multiple field lines are
// combined with ", " before comparing.
type FieldCheck struct {
	Name  string
	Op    Op
	Value string // may use {{date:N}}, as in Response
}

func (c FieldCheck) String() string {
	switch c.Op {
	case Present:
		return c.Name + " present"
	case Absent:
		return c.Name + " absent"
	case Equal:
		return fmt.Sprintf("%s = %q", c.Name, c.Value)
	case Contains:
		return fmt.Sprintf("%s contains %q", c.Name, c.Value)
	case Lacks:
		return fmt.Sprintf("%s lacks %q", c.Name, c.Value)
	case AtLeast:
		return fmt.Sprintf("%s ≥ %s", c.Name, c.Value)
	case AtMost:
		return fmt.Sprintf("%s ≤ %s", c.Name, c.Value)
	}
	return fmt.Sprintf("%s op %d %q", c.Name, int(c.Op), c.Value)
}
