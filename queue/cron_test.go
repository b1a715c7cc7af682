package queue

import (
	"errors"
	"testing"
	"time"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Golden schedules: each spec, a start, and the next boundaries.
func TestParseCronGolden(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	sp := mustLoc(t, "America/Sao_Paulo")
	utc := func(y int, mo time.Month, d, h, mi int) time.Time { return time.Date(y, mo, d, h, mi, 0, 0, time.UTC) }
	in := func(l *time.Location, y int, mo time.Month, d, h, mi int) time.Time {
		return time.Date(y, mo, d, h, mi, 0, 0, l)
	}
	edt := time.FixedZone("EDT", -4*3600)
	est := time.FixedZone("EST", -5*3600)
	cases := []struct {
		spec string
		from time.Time
		want []time.Time
	}{
		{"* * * * *", utc(2026, 1, 1, 0, 0).Add(30 * time.Second), []time.Time{utc(2026, 1, 1, 0, 1), utc(2026, 1, 1, 0, 2)}},
		{"0 9 * * MON-FRI", utc(2026, 3, 6, 10, 0), []time.Time{utc(2026, 3, 9, 9, 0), utc(2026, 3, 10, 9, 0)}},
		{"0 0 1,15 * *", utc(2026, 1, 10, 0, 0), []time.Time{utc(2026, 1, 15, 0, 0), utc(2026, 2, 1, 0, 0), utc(2026, 2, 15, 0, 0)}},
		// Both day fields restricted: either matches (Friday, or the 13th).
		{"0 0 13 * 5", utc(2026, 2, 1, 0, 0), []time.Time{utc(2026, 2, 6, 0, 0), utc(2026, 2, 13, 0, 0), utc(2026, 2, 20, 0, 0)}},
		{"5/20 * * * *", utc(2026, 1, 1, 0, 0), []time.Time{utc(2026, 1, 1, 0, 5), utc(2026, 1, 1, 0, 25), utc(2026, 1, 1, 0, 45), utc(2026, 1, 1, 1, 5)}},
		{"0 0 * * 7", utc(2026, 3, 2, 0, 0), []time.Time{utc(2026, 3, 8, 0, 0)}},
		{"0 0 * * sun", utc(2026, 3, 2, 0, 0), []time.Time{utc(2026, 3, 8, 0, 0)}},
		{"0 12 29 feb *", utc(2026, 1, 1, 0, 0), []time.Time{utc(2028, 2, 29, 12, 0), utc(2032, 2, 29, 12, 0)}},
		{"0-10/5 8-9 * jan-mar,dec ?", utc(2026, 3, 31, 9, 7), []time.Time{utc(2026, 3, 31, 9, 10), utc(2026, 12, 1, 8, 0)}},
		{"@hourly", utc(2026, 1, 1, 0, 0), []time.Time{utc(2026, 1, 1, 1, 0)}},
		{"@daily", utc(2026, 1, 1, 5, 0), []time.Time{utc(2026, 1, 2, 0, 0)}},
		{"@midnight", utc(2026, 1, 1, 5, 0), []time.Time{utc(2026, 1, 2, 0, 0)}},
		{"@weekly", utc(2026, 3, 2, 0, 0), []time.Time{utc(2026, 3, 8, 0, 0)}},
		{"@monthly", utc(2026, 3, 2, 0, 0), []time.Time{utc(2026, 4, 1, 0, 0)}},
		{"@yearly", utc(2026, 3, 2, 0, 0), []time.Time{utc(2027, 1, 1, 0, 0)}},
		{"@annually", utc(2026, 3, 2, 0, 0), []time.Time{utc(2027, 1, 1, 0, 0)}},
		{"@every 90m", utc(2026, 1, 1, 0, 0), []time.Time{utc(2026, 1, 1, 1, 30), utc(2026, 1, 1, 3, 0)}},
		{"CRON_TZ=America/New_York 0 9 * * *", utc(2026, 1, 1, 0, 0), []time.Time{in(ny, 2026, 1, 1, 9, 0)}},
		{"TZ=America/New_York 0 9 * * *", utc(2026, 7, 1, 0, 0), []time.Time{utc(2026, 7, 1, 13, 0)}},
		// Spring forward in New York, 2026-03-08 02:00 EST → 03:00 EDT:
		// 02:30 does not exist that day and is skipped.
		{"CRON_TZ=America/New_York 30 2 * * *", in(ny, 2026, 3, 7, 3, 0), []time.Time{in(ny, 2026, 3, 9, 2, 30)}},
		// 03:30 exists: one hour after 01:30 on the same night.
		{"CRON_TZ=America/New_York 30 1,3 * * *", in(ny, 2026, 3, 8, 0, 0), []time.Time{time.Date(2026, 3, 8, 1, 30, 0, 0, est), time.Date(2026, 3, 8, 3, 30, 0, 0, edt)}},
		// Fall back, 2026-11-01 02:00 EDT → 01:00 EST: 01:30 runs once.
		{"CRON_TZ=America/New_York 30 1 * * *", in(ny, 2026, 10, 31, 12, 0), []time.Time{time.Date(2026, 11, 1, 1, 30, 0, 0, edt), time.Date(2026, 11, 2, 1, 30, 0, 0, est)}},
		// With hour "*" every pass of the repeated hour runs.
		{"CRON_TZ=America/New_York */30 * * * *", time.Date(2026, 11, 1, 0, 45, 0, 0, edt), []time.Time{
			time.Date(2026, 11, 1, 1, 0, 0, 0, edt), time.Date(2026, 11, 1, 1, 30, 0, 0, edt),
			time.Date(2026, 11, 1, 1, 0, 0, 0, est), time.Date(2026, 11, 1, 1, 30, 0, 0, est), time.Date(2026, 11, 1, 2, 0, 0, 0, est)}},
		// São Paulo 2018-11-04: clocks went from 00:00 to 01:00, so that
		// day has no midnight: skipped, as any time the clocks skip; the
		// day's other minutes are found from its 01:00 start.
		{"CRON_TZ=America/Sao_Paulo 0 0 * * *", in(sp, 2018, 11, 3, 12, 0), []time.Time{in(sp, 2018, 11, 5, 0, 0)}},
		{"CRON_TZ=America/Sao_Paulo 30 1 * * *", in(sp, 2018, 11, 3, 12, 0), []time.Time{in(sp, 2018, 11, 4, 1, 30), in(sp, 2018, 11, 5, 1, 30)}},
	}
	for _, c := range cases {
		s, err := ParseCron(c.spec)
		if err != nil {
			t.Errorf("ParseCron(%q): %v", c.spec, err)
			continue
		}
		at := c.from
		for i, want := range c.want {
			got := s.Next(at)
			if !got.Equal(want) {
				t.Errorf("%q: Next #%d after %v = %v, want %v", c.spec, i+1, at, got, want)
				break
			}
			if got.Location() != at.Location() {
				t.Errorf("%q: Next in %v, want the input's location %v", c.spec, got.Location(), at.Location())
			}
			at = got
		}
	}
}

func TestParseCronErrors(t *testing.T) {
	for _, spec := range []string{
		"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *", "* * * * 8",
		"0 0 30 2 *", "0 0 31 4,6,9,11 *", "*/0 * * * *", "*/61 * * * *", "5-1 * * * *", "1,,2 * * * *", "a b c d e",
		"TZ=Nowhere/City * * * * *", "CRON_TZ= * * * * *", "@fortnightly", "@every", "@every 0s", "@every -1m", "@every soon",
		"-1 * * * *", "1-2-3 * * * *", "1/2/3 * * * *", "* * * foo *", "? * * * *",
	} {
		s, err := ParseCron(spec)
		if err == nil {
			t.Errorf("ParseCron(%q) = %v, want an error", spec, s)
			continue
		}
		if !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("ParseCron(%q): %v, want ErrInvalidOptions", spec, err)
		}
		assertPrefixOnce(t, "ParseCron("+spec+")", err)
	}
}

// FuzzParseCron: ParseCron never panics, and a schedule it accepts gives
// boundaries strictly after their input, in order.
func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"* * * * *", "*/5 1-3 1,15 jan-jun mon-fri", "0 0 29 2 *", "@every 1h30m", "@weekly",
		"CRON_TZ=America/New_York 30 1 * * *", "TZ=Europe/London 30 1 * * SUN", "0 0 13 * 5", "59 23 31 12 *", "1-59/58 */7 ? * 0-7"} {
		f.Add(s, int64(1_700_000_000))
	}
	f.Fuzz(func(t *testing.T, spec string, unix int64) {
		s, err := ParseCron(spec)
		if err != nil {
			return
		}
		at := time.Unix(unix%(1<<34), 0).UTC()
		for range 5 {
			n := s.Next(at)
			if n.IsZero() {
				return
			}
			if !n.After(at) {
				t.Fatalf("%q: Next(%v) = %v, not after it", spec, at, n)
			}
			at = n
		}
	})
}
