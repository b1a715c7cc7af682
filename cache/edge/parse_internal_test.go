package edge

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestParseCacheControl(t *testing.T) {
	cases := []struct {
		name  string
		lines []string
		check func(d directives) bool
	}{
		{"§5.2 empty", nil, func(d directives) bool { return d.flags == 0 && d.maxAge == absent }},
		{"§5.2 case-insensitive names", []string{"MAX-AGE=5, No-Store"}, func(d directives) bool { return d.maxAge == 5 && d.has(ccNoStore) }},
		{"§5.2 several lines combine", []string{"public", "max-age=7"}, func(d directives) bool { return d.has(ccPublic) && d.maxAge == 7 }},
		{"§5.2 quoted delta accepted", []string{`max-age="9"`}, func(d directives) bool { return d.maxAge == 9 }},
		{"§4.2.1 conflicting duplicates are malformed", []string{"max-age=5, max-age=6"}, func(d directives) bool { return d.maxAge == malformed }},
		{"§4.2.1 equal duplicates are fine", []string{"max-age=5", "max-age=5"}, func(d directives) bool { return d.maxAge == 5 }},
		{"§1.2.2 delta over 2^31 is capped", []string{"s-maxage=99999999999999999999"}, func(d directives) bool { return d.sMaxAge == maxDelta }},
		{"§1.2.2 negative is malformed", []string{"max-age=-1"}, func(d directives) bool { return d.maxAge == malformed }},
		{"§1.2.2 empty value is malformed", []string{"max-age="}, func(d directives) bool { return d.maxAge == malformed }},
		{"RFC 9110 §5.6.1 empty elements", []string{",, ,max-age=3,,"}, func(d directives) bool { return d.maxAge == 3 }},
		{"RFC 9110 §5.6.4 comma inside quotes", []string{`no-cache="Set-Cookie, X-A", max-age=4`}, func(d directives) bool {
			return d.maxAge == 4 && !d.has(ccNoCache) && slices.Equal(d.noCacheFields, []string{"Set-Cookie", "X-A"})
		}},
		{"§5.2.2.7 qualified private", []string{`private="x-user"`}, func(d directives) bool { return !d.has(ccPrivate) && slices.Equal(d.privFields, []string{"X-User"}) }},
		{"§5.2.2.7 unqualified private", []string{`private`}, func(d directives) bool { return d.has(ccPrivate) }},
		{"§5.2.1.2 max-stale without value", []string{"max-stale"}, func(d directives) bool { return d.has(ccMaxStaleAny) }},
		{"§5.2.3 unknown extensions ignored", []string{`foo="a,b", bar, max-age=2`}, func(d directives) bool { return d.maxAge == 2 }},
		{"malformed element skipped", []string{`max-age=5 junk, no-store`}, func(d directives) bool { return d.maxAge == absent && d.has(ccNoStore) }},
		{"unterminated quote resumes after the next comma", []string{`no-cache="abc, max-age=5`}, func(d directives) bool { return d.maxAge == 5 && !d.has(ccNoCache) }},
		{"§5.2 no whitespace around =", []string{`max-age = 5, no-store`}, func(d directives) bool { return d.maxAge == absent && d.has(ccNoStore) }},
		{"escaped quote", []string{`foo="a\"b", max-age=1`}, func(d directives) bool { return d.maxAge == 1 }},
		{"RFC 5861 directives", []string{"stale-while-revalidate=30, stale-if-error=60"}, func(d directives) bool { return d.swr == 30 && d.sie == 60 }},
		{"RFC 8246 immutable", []string{"immutable"}, func(d directives) bool { return d.has(ccImmutable) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if d := parseCacheControl(tc.lines); !tc.check(d) {
				t.Fatalf("%q → %+v", tc.lines, d)
			}
		})
	}
}

func TestParseDates(t *testing.T) {
	want := time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)
	for _, s := range []string{"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"} {
		if got, ok := parseDate([]string{s}); !ok || !got.Equal(want) {
			t.Fatalf("RFC 9110 §5.6.7 %q → %v %v", s, got, ok)
		}
	}
	if _, ok := parseDate([]string{"yesterday"}); ok {
		t.Fatal("invalid date parsed")
	}
	for _, lines := range [][]string{{"0"}, {"-1"}, {"garbage"}, {"Sun, 06 Nov 1994 08:49:37 GMT", "Mon, 07 Nov 1994 08:49:37 GMT"}} {
		if got, ok := parseExpires(lines); !ok || got.After(want) {
			t.Fatalf("§5.3 %q → %v %v, want a past time", lines, got, ok)
		}
	}
}

func TestParseAge(t *testing.T) {
	cases := []struct {
		lines []string
		want  int64
		ok    bool
	}{
		{[]string{"10"}, 10, true},
		{[]string{" 10 "}, 10, true},
		{[]string{"10, 20"}, 10, true}, // §5.1 first member
		{[]string{"-3"}, 0, false},
		{[]string{"1.5"}, 0, false},
		{[]string{""}, 0, false},
		{nil, 0, false},
		{[]string{"99999999999999999999"}, maxDelta, true},
	}
	for _, tc := range cases {
		if got, ok := parseAge(tc.lines); got != tc.want || ok != tc.ok {
			t.Fatalf("§5.1 %q → %d %v", tc.lines, got, ok)
		}
	}
}

func TestVaryNormalisation(t *testing.T) {
	v := parseVary([]string{"accept-encoding, Accept-Language", "ACCEPT-ENCODING"})
	if !slices.Equal(v.fields, []string{"Accept-Encoding", "Accept-Language"}) || v.star {
		t.Fatalf("%+v", v)
	}
	if v := parseVary([]string{"Accept, *"}); !v.star {
		t.Fatal("Vary: * not seen")
	}
	key := func(h http.Header) string { return string(secondaryKey(nil, &v, h)) }
	same := []http.Header{
		{"Accept-Encoding": {"gzip, br"}},
		{"Accept-Encoding": {"GZIP,BR"}},
		{"Accept-Encoding": {"gzip", "br"}},
		{"Accept-Encoding": {" gzip ,, br "}},
	}
	for _, h := range same[1:] {
		if key(h) != key(same[0]) {
			t.Fatalf("§4.1 %v and %v differ", h, same[0])
		}
	}
	if key(http.Header{}) == key(http.Header{"Accept-Encoding": {""}, "Accept-Language": {""}}) {
		t.Fatal("absent and empty fields collide")
	}
	if key(http.Header{"Accept-Encoding": {"br, gzip"}}) == key(same[0]) {
		t.Fatal("order of members is significant")
	}
}

func TestETagMatch(t *testing.T) {
	cases := []struct {
		inm  []string
		etag string
		want bool
	}{
		{[]string{`"a"`}, `"a"`, true},
		{[]string{`W/"a"`}, `"a"`, true}, // weak comparison
		{[]string{`"a"`}, `W/"a"`, true},
		{[]string{`"b", "a"`}, `"a"`, true},
		{[]string{`"b"`, `"a"`}, `"a"`, true},
		{[]string{`*`}, `"a"`, true},
		{[]string{`"b"`}, `"a"`, false},
		{[]string{`a`}, `"a"`, false},
		{[]string{`"a"`}, ``, false},
		{[]string{`"a,b"`}, `"a,b"`, true},
		{[]string{`junk, "a"`}, `"a"`, true},
	}
	for _, tc := range cases {
		if got := etagMatchWeak(tc.inm, tc.etag); got != tc.want {
			t.Fatalf("RFC 9110 §13.1.2 %q vs %q → %v", tc.inm, tc.etag, got)
		}
	}
}

func TestAgeCalculation(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name            string
		date, req, resp time.Time
		ageValue        int64
		now             time.Time
		want            time.Duration
	}{
		{"apparent age", base, base.Add(10 * time.Second), base.Add(10 * time.Second), 0, base.Add(10 * time.Second), 10 * time.Second},
		{"received Age plus delay", base, base, base.Add(2 * time.Second), 5, base.Add(2 * time.Second), 7 * time.Second},
		{"resident time", base, base, base, 0, base.Add(30 * time.Second), 30 * time.Second},
		{"Date in the future", base.Add(time.Hour), base, base, 0, base, 0},
		{"clock behind response time", base, base, base.Add(time.Second), 0, base, time.Second},
	}
	for _, tc := range cases {
		o := &object{date: tc.date, reqTime: tc.req, respTime: tc.resp, ageValue: tc.ageValue}
		o.setAge()
		if got := o.age(tc.now); got != tc.want {
			t.Fatalf("§4.2.3 %s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func FuzzCacheControl(f *testing.F) {
	for _, s := range []string{"max-age=5", `no-cache="a,b", private`, `foo="\"`, "max-age=1,max-age=2", ",,,", "s-maxage=99999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := parseCacheControl([]string{s})
		for _, v := range []int64{d.maxAge, d.sMaxAge, d.swr, d.sie, d.maxStale, d.minFresh} {
			if v < malformed || v > maxDelta {
				t.Fatalf("%q: delta %d out of range", s, v)
			}
		}
		parseTargeted([]string{s})
	})
}

func FuzzHeaders(f *testing.F) {
	for _, s := range []string{"Sun, 06 Nov 1994 08:49:37 GMT", "0", `W/"a", "b"`, "*", "accept-encoding, *", "10, 20"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parseDate([]string{s})
		parseExpires([]string{s, s})
		if a, ok := parseAge([]string{s}); ok && (a < 0 || a > maxDelta) {
			t.Fatalf("Age %d", a)
		}
		v := parseVary([]string{s})
		secondaryKey(nil, &v, http.Header{"Accept-Encoding": {s}})
		etagMatchWeak([]string{s}, `"x"`)
		etagMatchWeak([]string{`"x"`}, s)
		h := http.Header{"Connection": {s}, s: {"x"}}
		stripHopByHop(h)
	})
}
