package health

import (
	"fmt"
	"time"
)

// Status is the health of one check, probed target, or aggregate.
type Status int

const (
	// StatusUnknown means no result yet.
	StatusUnknown Status = iota
	// StatusUp means healthy.
	StatusUp
	// StatusDegraded means a non-critical check fails: still serving.
	StatusDegraded
	// StatusDown means unhealthy.
	StatusDown
)

func (s Status) String() string {
	switch s {
	case StatusUnknown:
		return "unknown"
	case StatusUp:
		return "up"
	case StatusDegraded:
		return "degraded"
	case StatusDown:
		return "down"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Transition records one change of a named check's or target's status.
type Transition struct {
	Name     string
	From, To Status
	// Err is the error of the result that caused the transition (nil when it
	// became healthy).
	Err error
	At  time.Time
}

func sprint(v any) string { return fmt.Sprint(v) }
