package edgetest

// cases9213 are RFC 9213 (Targeted HTTP Cache Control) for a cache whose
// target list contains CDN-Cache-Control. A cache that does not implement RFC
// 9213 fails the MUSTs below: they bind "caches that use a targeted field".
func cases9213() []Case { return TargetedCases("CDN-Cache-Control") }

// TargetedCases are the RFC 9213 cases for a cache whose target list has
// field first (e.g. a cache configured with its own targeted field before
// CDN-Cache-Control). IDs carry the field name, lower-cased.
func TargetedCases(field string) []Case {
	id := func(s string) string { return lower(field) + "-" + s }
	cases := []Case{
		{
			ID: id("max-age-zero-expires"), RFC: "9213", Section: "2.2", Level: "MUST",
			Name: field + ": max-age=0 wins over a future Expires",
			// §2.2: "… it MUST ignore the Cache-Control and Expires header fields"
			Steps: notReused(ok("Expires", "{{date:3600}}", field, "max-age=0"), 0, get()),
		},
		{
			ID: id("age-over-max-age"), RFC: "9213", Section: "2.1", Level: "MUST",
			Name: field + ": a received Age beyond its max-age makes the response stale",
			// §2.1: "The semantics and precedence of cache directives in a
			// targeted field are the same as those in Cache-Control."
			Steps: notReused(ok(field, "max-age=3600", "Age", "7200"), 0, get()),
		},
		{
			ID: id("invalid-ampersands"), RFC: "9213", Section: "2.1", Level: "SHOULD",
			Name: field + ": an unparsable member makes the whole field ignored; Cache-Control: no-store applies",
			// §2.1: "If a targeted field in a given response is empty, or a
			// parsing error is encountered (when being parsed as a Dictionary),
			// that field SHOULD be ignored by the cache"
			Steps: notReused(ok("Cache-Control", "no-store", field, "max-age=10000, &&&&&"), 0, get()),
		},
		{
			ID: id("extension-ignored"), RFC: "9213", Section: "2.1", Level: "MUST",
			Name: field + ": an unknown directive next to max-age is ignored",
			// §2.1: semantics as in Cache-Control; RFC 9111 §5.2.3: "A cache MUST
			// ignore unrecognized cache directives."
			Steps: reused(ok("Cache-Control", "no-store", field, "foobar, max-age=3600"), sec, get()),
		},
		{
			ID: id("overrides-cc"), RFC: "9213", Section: "2.2", Level: "MUST",
			Name: field + " max-age overrides Cache-Control: no-store",
			// §2.2: "… the cache MUST select the first (in target list order)
			// field with a valid, non-empty value and use its value to determine
			// the caching policy for the response, and it MUST ignore the
			// Cache-Control and Expires header fields in that response, unless no
			// valid, non-empty value is available from the listed header fields."
			Steps: reused(ok("Cache-Control", "no-store", field, "max-age=3600"), sec, get()),
		},
		{
			ID: id("shorter-than-cc"), RFC: "9213", Section: "2.2", Level: "MUST",
			Name: field + " max-age shorter than Cache-Control max-age wins",
			// §2.2, as above.
			Steps: notReused(ok("Cache-Control", "max-age=3600", field, "max-age=2"), 4*sec, get()),
		},
		{
			ID: id("ignores-expires"), RFC: "9213", Section: "2.2", Level: "MUST",
			Name: field + " present: Expires is ignored",
			// §2.2: "… it MUST ignore the Cache-Control and Expires header fields"
			Steps: notReused(ok("Expires", "{{date:3600}}", field, "max-age=2"), 4*sec, get()),
		},
		{
			ID: id("no-store"), RFC: "9213", Section: "2.1", Level: "MUST",
			Name: field + ": no-store is obeyed",
			// §2.1: "Caches that use a targeted field MUST implement the semantics
			// of the following cache directives: max-age, must-revalidate,
			// no-store, no-cache, private."
			Steps: notReused(ok("Cache-Control", "max-age=3600", field, "no-store"), 0, get()),
		},
		{
			ID: id("no-cache"), RFC: "9213", Section: "2.1", Level: "MUST",
			Name: field + ": no-cache is obeyed",
			// §2.1, as above.
			Steps: notReused(ok("Cache-Control", "max-age=3600", field, "no-cache"), 0, get()),
		},
		{
			ID: id("private"), RFC: "9213", Section: "2.1", Level: "MUST",
			Name: field + ": private is obeyed",
			// §2.1, as above.
			Steps: notReused(ok("Cache-Control", "max-age=3600", field, "private"), 0, get()),
		},
		{
			ID: id("no-store-over-max-age"), RFC: "9213", Section: "2.1", Level: "MUST",
			Name: field + ": no-store makes max-age inoperative",
			// §2.1: "In particular, no-store and no-cache make max-age inoperative"
			Steps: notReused(ok("Cache-Control", "max-age=3600", field, "max-age=3600, no-store"), 0, get()),
		},
		{
			ID: id("must-revalidate"), RFC: "9213", Section: "2.1", Level: "MUST",
			Name: field + ": must-revalidate forbids serving stale when the origin fails",
			// §2.1, as above (must-revalidate); Cache-Control's stale-if-error is
			// ignored (§2.2 "MUST ignore the Cache-Control … header fields").
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600, stale-if-error=3600", field, "max-age=1, must-revalidate"), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(500), Expect: Expect{Origin: Forwarded, Status: 500}},
			},
		},
		{
			ID: id("authorization"), RFC: "9213", Section: "2.1", Level: "MUST",
			Name: field + ": max-age does not lift the Authorization restriction",
			// §2.1: "… targeted fields are still subject to the authentication
			// requirements in Section 3.5 of [HTTP-CACHING]."
			Steps: []Step{
				{Request: get("Authorization", "Bearer a"), Response: ok(field, "max-age=3600"), Expect: fetched(1)},
				{Expect: forwarded(2)},
			},
		},
		{
			ID: id("invalid-ignored"), RFC: "9213", Section: "2.1", Level: "SHOULD",
			Name: field + " that does not parse as a Dictionary is ignored; Cache-Control applies",
			// §2.1: "If a targeted field in a given response is empty, or a
			// parsing error is encountered (when being parsed as a Dictionary),
			// that field SHOULD be ignored by the cache (i.e., it should behave
			// as if the field were not present, likely falling back to other
			// cache-control mechanisms present)."
			Steps: reused(ok("Cache-Control", "max-age=3600", field, `max-age=1, "not a key"`), 3*sec, get()),
		},
		{
			ID: id("invalid-uppercase-key"), RFC: "9213", Section: "2.1", Level: "SHOULD",
			Name: field + " with an upper-case key (invalid Dictionary) is ignored",
			// §2.1, as above (Dictionary keys are lower case, RFC 8941 §3.2).
			Steps: reused(ok("Cache-Control", "max-age=3600", field, "MAX-AGE=1"), 3*sec, get()),
		},
		{
			ID: id("empty-ignored"), RFC: "9213", Section: "2.1", Level: "SHOULD",
			Name: "an empty " + field + " is ignored; Cache-Control applies",
			// §2.1, as above ("is empty").
			Steps: notReused(ok("Cache-Control", "no-store", field, ""), 0, get()),
		},
		{
			ID: id("string-max-age-ignored"), RFC: "9213", Section: "2.1", Level: "MAY",
			Name: field + `: max-age="3600" (a String, not an Integer) gives no lifetime`,
			// §2.1: "… the max-age directive … its value is an Integer" — a
			// Dictionary member of another type is not a valid max-age.
			Steps: notReused(ok(field, `max-age="3600"`), sec, get()),
		},
		{
			ID: id("s-maxage"), RFC: "9213", Section: "2.1", Level: "SHOULD",
			Name: field + ": s-maxage (supported in Cache-Control) is honored",
			// §2.1: "Furthermore, they SHOULD implement other cache directives
			// (including extension cache directives) that they support in the
			// Cache-Control response header field."
			Steps: notReused(ok(field, "max-age=3600, s-maxage=2"), 4*sec, get()),
		},
		{
			ID: id("stale-if-error"), RFC: "9213", Section: "2.1", Level: "SHOULD",
			Name: field + ": stale-if-error (supported in Cache-Control) is honored",
			// §2.1, as above.
			Steps: []Step{
				{Response: ok("Cache-Control", "no-store", field, "max-age=1, stale-if-error=60"), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(503), Expect: Expect{Origin: Forwarded, Status: 200, BodyOf: 1}},
			},
		},
		{
			ID: id("absent-falls-back"), RFC: "9213", Section: "2.2", Level: "MUST",
			Name: "without " + field + ", Cache-Control applies",
			// §2.2: "… if no member of the cache's target list is present, valid,
			// and non-empty, a cache falls back to other cache-control mechanisms
			// as required by HTTP"
			Steps: notReused(ok("Cache-Control", "no-store"), 0, get()),
		},
	}
	if lower(field) != "cdn-cache-control" {
		cases = append(cases, Case{
			ID: id("over-cdn-cache-control"), RFC: "9213", Section: "2.2", Level: "MUST",
			Name: field + " (first in the target list) wins over CDN-Cache-Control",
			// §2.2: "… the cache MUST select the first (in target list order)
			// field with a valid, non-empty value"
			Steps: notReused(ok("CDN-Cache-Control", "max-age=3600", field, "no-store"), 0, get()),
		}, Case{
			ID: id("invalid-falls-to-cdn-cache-control"), RFC: "9213", Section: "2.2", Level: "MUST",
			Name: "an invalid " + field + " falls back to the next field in the list, CDN-Cache-Control",
			// §2.2: "… the first (in target list order) field with a valid,
			// non-empty value"
			Steps: reused(ok("Cache-Control", "no-store", "CDN-Cache-Control", "max-age=3600", field, "max-age=1, &&"), 3*sec, get()),
		})
	}
	return cases
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
