package queue

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseCron parses a cron schedule: five fields (minute, hour, day of
// month, month, day of week) or a descriptor, optionally preceded by
// "CRON_TZ=<zone> " or "TZ=<zone> " (an IANA zone name; UTC by default).
//
// A field is "*" (or "?" for the two day fields), a value, a range "a-b",
// a step "*/n", "a-b/n" or "a/n" (a to the field's end), or a list of
// those separated by commas. Months and days of week take three-letter
// English names (JAN–DEC, SUN–SAT, any case); day of week 7 is Sunday as
// 0 is. As in Vixie cron, when both day fields are restricted a day
// matching either runs. Descriptors: @yearly (@annually), @monthly,
// @weekly, @daily (@midnight), @hourly, and "@every <duration>" (Every).
//
// Daylight saving time, in a zone that has it: a time the clocks skip
// (02:30 on a spring-forward day in most of Europe and America) does not
// run that day; a time the clocks pass twice (01:30 on a fall-back day)
// runs once, at its first occurrence, unless the hour field is "*".
//
// The parser is written here rather than imported because ladder's core
// packages import only the standard library and the OpenTelemetry API;
// robfig/cron's Schedule satisfies Schedule, so users may use it instead.
func ParseCron(spec string) (Schedule, error) {
	s, err := parseCron(spec)
	if err != nil {
		return nil, fmt.Errorf("%w: cron %q: %s", ErrInvalidOptions, trunc(spec), err)
	}
	return s, nil
}

type cronSchedule struct {
	minute, hour, dom, month, dow uint64 // bit i set: value i matches
	domStar, dowStar, hourStar    bool
	loc                           *time.Location
}

type cronError string

func (e cronError) Error() string { return string(e) }

func parseCron(spec string) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	loc := time.UTC
	for _, p := range []string{"CRON_TZ=", "TZ="} {
		if rest, ok := strings.CutPrefix(spec, p); ok {
			name, tail, _ := strings.Cut(rest, " ")
			l, err := time.LoadLocation(name)
			if err != nil || name == "" {
				return nil, cronError(fmt.Sprintf("unknown time zone %q", name))
			}
			loc, spec = l, strings.TrimSpace(tail)
			break
		}
	}
	if strings.HasPrefix(spec, "@") {
		if d, ok := strings.CutPrefix(spec, "@every "); ok {
			dur, err := time.ParseDuration(strings.TrimSpace(d))
			if err != nil || dur <= 0 {
				return nil, cronError(fmt.Sprintf("@every %q: want a duration > 0", strings.TrimSpace(d)))
			}
			return Every(dur), nil
		}
		std, ok := map[string]string{
			"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
			"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
		}[strings.ToLower(spec)]
		if !ok {
			return nil, cronError(fmt.Sprintf("unknown descriptor %q", spec))
		}
		spec = std
	}
	f := strings.Fields(spec)
	if len(f) != 5 {
		return nil, cronError(fmt.Sprintf("%d fields, want 5 (minute hour day-of-month month day-of-week)", len(f)))
	}
	s := &cronSchedule{loc: loc}
	var err error
	if s.minute, _, err = parseField(f[0], "minute", 0, 59, nil, false); err != nil {
		return nil, err
	}
	if s.hour, s.hourStar, err = parseField(f[1], "hour", 0, 23, nil, false); err != nil {
		return nil, err
	}
	if s.dom, s.domStar, err = parseField(f[2], "day of month", 1, 31, nil, true); err != nil {
		return nil, err
	}
	if s.month, _, err = parseField(f[3], "month", 1, 12, monthNames, false); err != nil {
		return nil, err
	}
	if s.dow, s.dowStar, err = parseField(f[4], "day of week", 0, 7, dayNames, true); err != nil {
		return nil, err
	}
	if s.dow&(1<<7) != 0 { // 7 is Sunday
		s.dow = s.dow&^(1<<7) | 1
	}
	// A schedule that never fires (February 30) is an error now, not a
	// silent no-op later.
	if s.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, loc)).IsZero() {
		return nil, cronError("never fires")
	}
	return s, nil
}

var (
	monthNames = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"} // 1…
	dayNames   = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}                                    // 0…
)

// parseField returns the bits of a field and whether it is "*" (or "?").
func parseField(f, what string, lo, hi int, names []string, question bool) (bits uint64, star bool, err error) {
	if f == "*" || (question && f == "?") {
		return spanBits(lo, hi, 1), true, nil
	}
	for part := range strings.SplitSeq(f, ",") {
		b, err := parsePart(part, what, lo, hi, names)
		if err != nil {
			return 0, false, err
		}
		bits |= b
	}
	return bits, false, nil
}

func parsePart(part, what string, lo, hi int, names []string) (uint64, error) {
	rng, stepStr, hasStep := strings.Cut(part, "/")
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepStr)
		if err != nil || n < 1 || n > hi-lo+1 {
			return 0, cronError(fmt.Sprintf("%s: step %q: want 1…%d", what, stepStr, hi-lo+1))
		}
		step = n
	}
	var a, b int
	switch {
	case rng == "*":
		a, b = lo, hi
	default:
		x, y, isRange := strings.Cut(rng, "-")
		var err error
		if a, err = parseValue(x, what, lo, hi, names); err != nil {
			return 0, err
		}
		b = a
		if isRange {
			if b, err = parseValue(y, what, lo, hi, names); err != nil {
				return 0, err
			}
			if b < a {
				return 0, cronError(fmt.Sprintf("%s: range %q: end before start", what, rng))
			}
		} else if hasStep {
			b = hi // "a/n": from a to the end
		}
	}
	return spanBits(a, b, step), nil
}

func parseValue(s, what string, lo, hi int, names []string) (int, error) {
	for i, n := range names {
		if strings.EqualFold(s, n) {
			if what == "month" {
				return i + 1, nil
			}
			return i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, cronError(fmt.Sprintf("%s: %q: want %d…%d", what, s, lo, hi))
	}
	return n, nil
}

func spanBits(a, b, step int) uint64 {
	var bits uint64
	for i := a; i <= b; i += step {
		bits |= 1 << uint(i)
	}
	return bits
}

// Next returns the first minute after t that the schedule matches, in t's
// location; the zero Time if none within five years.
func (s *cronSchedule) Next(t time.Time) time.Time {
	for {
		n := s.next(t)
		if n.IsZero() || s.hourStar || !s.repeated(n) {
			return n
		}
		t = n // the second pass of a wall time on a fall-back day: skip it
	}
}

// repeated reports whether n is the second occurrence of its wall time
// (the clocks went back over it).
func (s *cronSchedule) repeated(n time.Time) bool {
	l := n.In(s.loc)
	for _, back := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
		e := l.Add(-back)
		if e.Hour() == l.Hour() && e.Minute() == l.Minute() && e.Day() == l.Day() {
			return true
		}
	}
	return false
}

func (s *cronSchedule) next(t time.Time) time.Time {
	orig := t.Location()
	t = t.In(s.loc)
	// The first whole minute after t.
	t = t.Add(time.Minute - time.Duration(t.Second())*time.Second - time.Duration(t.Nanosecond()))
	added := false
	limit := t.Year() + 5
wrap:
	if t.Year() > limit {
		return time.Time{}
	}
	for s.month&(1<<uint(t.Month())) == 0 {
		if !added {
			added = true
			t = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, s.loc)
		}
		t = t.AddDate(0, 1, 0)
		if t.Month() == time.January {
			goto wrap
		}
	}
	for !s.dayMatches(t) {
		if !added {
			added = true
			t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, s.loc)
		}
		t = t.AddDate(0, 0, 1)
		// Midnight may not exist (DST at 00:00): land on the day's start.
		if h := t.Hour(); h != 0 {
			if h > 12 {
				t = t.Add(time.Duration(24-h) * time.Hour)
			} else {
				t = t.Add(-time.Duration(h) * time.Hour)
			}
		}
		if t.Day() == 1 {
			goto wrap
		}
	}
	for s.hour&(1<<uint(t.Hour())) == 0 {
		if !added {
			added = true
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, s.loc)
		}
		t = t.Add(time.Hour)
		if t.Hour() == 0 {
			goto wrap
		}
	}
	for s.minute&(1<<uint(t.Minute())) == 0 {
		if !added {
			added = true
			t = t.Add(-time.Duration(t.Second())*time.Second - time.Duration(t.Nanosecond()))
		}
		t = t.Add(time.Minute)
		if t.Minute() == 0 {
			goto wrap
		}
	}
	return t.In(orig)
}

func (s *cronSchedule) dayMatches(t time.Time) bool {
	dom := s.dom&(1<<uint(t.Day())) != 0
	dow := s.dow&(1<<uint(t.Weekday())) != 0
	if s.domStar || s.dowStar {
		return dom && dow
	}
	return dom || dow
}
