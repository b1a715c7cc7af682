package edgetest

// §4.1 Calculating Cache Keys with the Vary Header Field.
func cases9111Vary() []Case {
	vary := func(v string) Response { return ok("Cache-Control", "max-age=3600", "Vary", v) }
	return []Case{
		{
			ID: "vary-match", RFC: "9111", Section: "4.1", Level: "MAY",
			Name: "Vary: Accept-Language, same language: reused",
			// §4.1: "When a cache receives a request that can be satisfied by a
			// stored response and that stored response contains a Vary header
			// field, the cache MUST NOT use that stored response without
			// revalidation unless all the presented request header fields
			// nominated by that Vary field value match those fields in the
			// original request" (matching: reuse allowed).
			Steps: []Step{
				{Request: get("Accept-Language", "en"), Response: vary("Accept-Language"), Expect: fetched(1)},
				{Request: get("Accept-Language", "en"), Expect: hit(1)},
			},
		},
		{
			ID: "vary-mismatch", RFC: "9111", Section: "4.1", Level: "MUST",
			Name: "Vary: Accept-Language, other language: not reused",
			// §4.1: "… the cache MUST NOT use that stored response without
			// revalidation unless all the presented request header fields
			// nominated by that Vary field value match …"
			Steps: []Step{
				{Request: get("Accept-Language", "en"), Response: vary("Accept-Language"), Expect: fetched(1)},
				{Request: get("Accept-Language", "fr"), Expect: forwarded(2).cs("fwd", "!hit")},
			},
		},
		{
			ID: "vary-absent-then-present", RFC: "9111", Section: "4.1", Level: "MUST",
			Name: "Vary field absent in the first request, present in the second: not reused",
			// §4.1: "If (after any normalization that might take place) a header
			// field is absent from a request, it can only match another request
			// if it is also absent there."
			Steps: []Step{
				{Response: vary("Accept-Language"), Expect: fetched(1)},
				{Request: get("Accept-Language", "en"), Expect: forwarded(2)},
			},
		},
		{
			ID: "vary-present-then-absent", RFC: "9111", Section: "4.1", Level: "MUST",
			Name: "Vary field present in the first request, absent in the second: not reused",
			// §4.1, as above.
			Steps: []Step{
				{Request: get("Accept-Language", "en"), Response: vary("Accept-Language"), Expect: fetched(1)},
				{Expect: forwarded(2)},
			},
		},
		{
			ID: "vary-absent-both", RFC: "9111", Section: "4.1", Level: "MAY",
			Name: "Vary field absent in both requests: reused",
			// §4.1: "… it can only match another request if it is also absent there."
			Steps: []Step{
				{Response: vary("Accept-Language"), Expect: fetched(1)},
				{Expect: hit(1)},
			},
		},
		{
			ID: "vary-star", RFC: "9111", Section: "4.1", Level: "MUST",
			Name: "Vary: * never matches",
			// §4.1: "A stored response with a Vary header field value containing
			// a member "*" always fails to match."
			Steps: []Step{
				{Response: vary("*"), Expect: fetched(1)},
				{Expect: forwarded(2)},
			},
		},
		{
			ID: "vary-star-among-fields", RFC: "9111", Section: "4.1", Level: "MUST",
			Name: "Vary: Accept-Language, * never matches",
			// §4.1, as above: "containing a member "*"".
			Steps: []Step{
				{Request: get("Accept-Language", "en"), Response: vary("Accept-Language, *"), Expect: fetched(1)},
				{Request: get("Accept-Language", "en"), Expect: forwarded(2)},
			},
		},
		{
			ID: "vary-star-second-line", RFC: "9111", Section: "4.1", Level: "MUST",
			Name: "a * in a second Vary field line never matches",
			// §4.1, as above (field lines combine into one list, RFC 9110 §5.3).
			Steps: []Step{
				{Request: get("Accept-Language", "en"), Response: ok("Cache-Control", "max-age=3600", "Vary", "Accept-Language", "Vary", "*"), Expect: fetched(1)},
				{Request: get("Accept-Language", "en"), Expect: forwarded(2)},
			},
		},
		{
			ID: "vary-two-fields-one-differs", RFC: "9111", Section: "4.1", Level: "MUST",
			Name: "Vary on two fields, the second differs: not reused",
			// §4.1: "… unless all the presented request header fields nominated
			// by that Vary field value match"
			Steps: []Step{
				{Request: get("Accept-Language", "en", "Accept", "text/html"), Response: vary("Accept-Language, Accept"), Expect: fetched(1)},
				{Request: get("Accept-Language", "en", "Accept", "text/plain"), Expect: forwarded(2)},
			},
		},
		{
			ID: "vary-two-lines-one-differs", RFC: "9111", Section: "4.1", Level: "MUST",
			Name: "Vary split over two field lines, the second field differs: not reused",
			// §4.1, as above.
			Steps: []Step{
				{Request: get("Accept-Language", "en", "Accept", "text/html"),
					Response: ok("Cache-Control", "max-age=3600", "Vary", "Accept-Language", "Vary", "Accept"), Expect: fetched(1)},
				{Request: get("Accept-Language", "en", "Accept", "text/plain"), Expect: forwarded(2)},
			},
		},
		{
			ID: "vary-field-name-case", RFC: "9111", Section: "4.1", Level: "MUST",
			Name: "Vary names the field in another letter case: still compared",
			// §4.1: "… the presented request header fields nominated by that Vary
			// field value"; field names are case-insensitive (RFC 9110 §5.1).
			Steps: []Step{
				{Request: get("Accept-Language", "en"), Response: vary("ACCEPT-language"), Expect: fetched(1)},
				{Request: get("Accept-Language", "fr"), Expect: forwarded(2)},
			},
		},
		{
			ID: "vary-normalize-whitespace", RFC: "9111", Section: "4.1", Level: "MAY",
			Name: "list whitespace differs only: may match",
			// §4.1: "The header fields from two requests are defined to match if
			// and only if those in the first request can be transformed to those
			// in the second request by applying any of the following: adding or
			// removing whitespace, where allowed in the header field's syntax"
			Steps: []Step{
				{Request: get("Accept-Language", "en, fr"), Response: vary("Accept-Language"), Expect: fetched(1)},
				{Request: get("Accept-Language", "en,fr"), Expect: hit(1)},
			},
		},
		{
			ID: "vary-normalize-combine-lines", RFC: "9111", Section: "4.1", Level: "MAY",
			Name: "two field lines versus one combined line: may match",
			// §4.1: "… combining multiple header field lines with the same field
			// name (see Section 5.2 of [HTTP])"
			Steps: []Step{
				{Request: get("Accept-Language", "en", "Accept-Language", "fr"), Response: vary("Accept-Language"), Expect: fetched(1)},
				{Request: get("Accept-Language", "en, fr"), Expect: hit(1)},
			},
		},
		{
			ID: "vary-order-differs", RFC: "9111", Section: "4.1", Level: "MUST",
			Name: "the same members in another order: not reused",
			// §4.1: matching allows only whitespace, combining lines and
			// semantics-preserving normalization; list order of Accept-Language
			// is significant, so "fr, en" does not match "en, fr".
			Steps: []Step{
				{Request: get("Accept-Language", "en, fr"), Response: vary("Accept-Language"), Expect: fetched(1)},
				{Request: get("Accept-Language", "fr, en"), Expect: forwarded(2)},
			},
		},
		{
			ID: "vary-variants-kept", RFC: "9111", Section: "4.1", Level: "MAY",
			Name: "two variants are both stored and each reused",
			// §4.1: "When a cache receives a request that can be satisfied by a
			// stored response …" — several stored responses can exist for one
			// URI (§4: "When more than one suitable response is stored …").
			Steps: []Step{
				{Request: get("Accept-Language", "en"), Response: vary("Accept-Language"), Expect: fetched(1)},
				{Request: get("Accept-Language", "fr"), Expect: forwarded(2)},
				{Request: get("Accept-Language", "en"), Expect: hit(1)},
				{Request: get("Accept-Language", "fr"), Expect: hit(2)},
			},
		},
		{
			ID: "vary-empty-members", RFC: "9111", Section: "4.1", Level: "MUST",
			Name: "Vary with empty list members still nominates its field",
			// §4.1 as above; RFC 9110 §5.6.1: "a recipient MUST parse and ignore
			// a reasonable number of empty list elements".
			Steps: []Step{
				{Request: get("Accept-Language", "en"), Response: vary(", ,Accept-Language ,"), Expect: fetched(1)},
				{Request: get("Accept-Language", "fr"), Expect: forwarded(2)},
			},
		},
		{
			ID: "vary-lowercase-request-field", RFC: "9111", Section: "4.1", Level: "MUST",
			Name: "the nominated request field sent in lower case still differs by value",
			// §4.1; field names are case-insensitive (RFC 9110 §5.1).
			Steps: []Step{
				{Request: get("accept-language", "en"), Response: vary("Accept-Language"), Expect: fetched(1)},
				{Request: get("ACCEPT-LANGUAGE", "fr"), Expect: forwarded(2)},
			},
		},
	}
}

// §4.2 Freshness (4.2.1 lifetime, 4.2.2 heuristics, 4.2.3 age, 4.2.4 stale).
func cases9111Freshness() []Case {
	return []Case{
		{
			ID: "stale-max-age-not-reused", RFC: "9111", Section: "4.2", Level: "MUST",
			Name: "a response older than max-age is not reused without validation",
			// §4: "a cache MUST NOT reuse a stored response unless: … the stored
			// response is either: fresh (see Section 4.2), or allowed to be
			// served stale (see Section 4.2.4), or successfully validated"
			Steps: notReused(ok("Cache-Control", "max-age=2"), 4*sec, get()),
		},
		{
			ID: "fresh-max-age-reused", RFC: "9111", Section: "4.2", Level: "MAY",
			Name: "a response younger than max-age is reused",
			// §4.2: "A "fresh" response is one whose age has not yet exceeded its
			// freshness lifetime"
			Steps: reused(ok("Cache-Control", "max-age=10"), 4*sec, get()),
		},
		{
			ID: "freshness-s-maxage-over-max-age", RFC: "9111", Section: "4.2.1", Level: "MUST",
			Name: "s-maxage shorter than max-age: the shared cache uses s-maxage",
			// §4.2.1: "If the cache is shared and the s-maxage response directive
			// is present, use its value"
			Steps: notReused(ok("Cache-Control", "max-age=3600, s-maxage=2"), 4*sec, get()),
		},
		{
			ID: "freshness-s-maxage-longer", RFC: "9111", Section: "4.2.1", Level: "MAY",
			Name: "s-maxage longer than max-age: the shared cache may reuse past max-age",
			// §4.2.1: "If the cache is shared and the s-maxage response directive
			// is present, use its value"
			Steps: reused(ok("Cache-Control", "max-age=2, s-maxage=3600"), 4*sec, get()),
		},
		{
			ID: "freshness-max-age-over-expires", RFC: "9111", Section: "4.2.1", Level: "MUST",
			Name: "max-age shorter than Expires: max-age wins",
			// §5.3: "If a response includes a Cache-Control header field with the
			// max-age directive, a recipient MUST ignore the Expires header field."
			Steps: notReused(ok("Cache-Control", "max-age=2", "Expires", "{{date:3600}}"), 4*sec, get()),
		},
		{
			ID: "freshness-max-age-over-past-expires", RFC: "9111", Section: "5.3", Level: "MUST",
			Name: "max-age with an Expires in the past: Expires is ignored",
			// §5.3: "… a recipient MUST ignore the Expires header field."
			Steps: reused(ok("Cache-Control", "max-age=3600", "Expires", "{{date:-3600}}"), 2*sec, get()),
		},
		{
			ID: "freshness-s-maxage-over-expires", RFC: "9111", Section: "5.3", Level: "MUST",
			Name: "s-maxage with an Expires in the past: a shared cache ignores Expires",
			// §5.3: "Likewise, if a response includes the s-maxage directive, a
			// shared cache recipient MUST ignore the Expires header field."
			Steps: reused(ok("Cache-Control", "s-maxage=3600", "Expires", "{{date:-3600}}"), 2*sec, get()),
		},
		{
			ID: "freshness-expires-past", RFC: "9111", Section: "4.2.1", Level: "MUST",
			Name: "Expires in the past: stale at once",
			// §4.2.1: "Otherwise, if the Expires response header field is present,
			// use its value minus the value of the Date response header field"
			Steps: notReused(ok("Expires", "{{date:-10}}"), 0, get()),
		},
		{
			ID: "freshness-expires-elapsed", RFC: "9111", Section: "4.2.1", Level: "MUST",
			Name: "Expires a few seconds ahead: stale once they pass",
			// §4.2.1, as above.
			Steps: notReused(ok("Expires", "{{date:2}}"), 4*sec, get()),
		},
		{
			ID: "freshness-expires-equals-date", RFC: "9111", Section: "4.2.1", Level: "MUST",
			Name: "Expires equal to Date: stale at once",
			// §4.2.1: lifetime = Expires − Date = 0.
			Steps: notReused(ok("Expires", "{{date:0}}"), sec, get()),
		},
		{
			ID: "freshness-expires-relative-to-date", RFC: "9111", Section: "4.2.1", Level: "MUST",
			Name: "Expires is measured from Date: an old Date makes the response stale",
			// §4.2.1: "… use its value minus the value of the Date response header
			// field"; §4.2.3 apparent_age counts from Date.
			Steps: notReused(ok("Date", "{{date:-30}}", "Expires", "{{date:-20}}"), 0, get()),
		},
		{
			ID: "freshness-expires-rfc850", RFC: "9111", Section: "5.3", Level: "MUST",
			Name: "Expires in the obsolete RFC 850 format is understood",
			// §5.3: "Expires = HTTP-date"; RFC 9110 §5.6.7: "A recipient that
			// parses a timestamp value in an HTTP field MUST accept all three
			// HTTP-date formats." (a past date: not reused)
			Steps: notReused(ok("Expires", "{{rfc850:-3600}}", "Last-Modified", "{{date:-100000}}"), 0, get()),
		},
		{
			ID: "freshness-expires-asctime", RFC: "9111", Section: "5.3", Level: "MUST",
			Name: "Expires in asctime format is understood",
			// §5.3 and RFC 9110 §5.6.7 as above.
			Steps: notReused(ok("Expires", "{{asctime:-3600}}", "Last-Modified", "{{date:-100000}}"), 0, get()),
		},
		{
			ID: "freshness-expires-asctime-future", RFC: "9111", Section: "5.3", Level: "MAY",
			Name: "a future Expires in asctime format gives freshness",
			// §5.3 and RFC 9110 §5.6.7 as above.
			Steps: reused(ok("Expires", "{{asctime:3600}}"), 2*sec, get()),
		},
		{
			ID: "freshness-received-age-stale", RFC: "9111", Section: "4.2.3", Level: "MUST",
			Name: "a received Age beyond max-age makes the response stale at once",
			// §4.2.3: "corrected_age_value = age_value + response_delay"; §4.2:
			// "response_is_fresh = (freshness_lifetime > current_age)"
			Steps: notReused(ok("Cache-Control", "max-age=60", "Age", "120"), 0, get()),
		},
		{
			ID: "freshness-received-age-counts", RFC: "9111", Section: "4.2.3", Level: "MUST",
			Name: "a received Age shortens the remaining freshness",
			// §4.2.3, as above: max-age=60 with Age: 55 is stale 5 s later.
			Steps: notReused(ok("Cache-Control", "max-age=60", "Age", "55"), 8*sec, get()),
		},
		{
			ID: "freshness-old-date-stale", RFC: "9111", Section: "4.2.3", Level: "MUST",
			Name: "a Date older than max-age makes the response stale at once",
			// §4.2.3: "apparent_age = max(0, response_time - date_value)"
			Steps: notReused(ok("Cache-Control", "max-age=60", "Date", "{{date:-3600}}"), 0, get()),
		},
		{
			ID: "freshness-future-date", RFC: "9111", Section: "4.2.3", Level: "MUST",
			Name: "a Date in the future does not extend freshness",
			// §4.2.3: "apparent_age = max(0, response_time - date_value)": a
			// future Date gives age 0, and age grows from there.
			Steps: notReused(ok("Cache-Control", "max-age=2", "Date", "{{date:3600}}"), 4*sec, get()),
		},
		{
			ID: "freshness-response-delay-stale", RFC: "9111", Section: "4.2.3", Level: "MUST",
			Name: "response delay counts toward age: a slow answer with Age can be stale on arrival",
			// §4.2.3: "corrected_age_value = age_value + response_delay"
			Steps: []Step{
				{Response: Response{Status: 200, Header: hdr("Cache-Control", "max-age=5", "Age", "3"), Delay: 3 * sec}, Expect: Expect{Origin: Full}},
				{Response: ok("Cache-Control", "max-age=5"), Expect: forwarded(2)},
			},
		},
		{
			ID: "freshness-no-date", RFC: "9111", Section: "4.2.3", Level: "MAY",
			Name: "a response without Date is fresh from its receipt",
			// §4.2.3 / RFC 9110 §6.6.1: a recipient without Date uses the time
			// it received the message.
			Steps: reused(Response{Status: 200, Header: hdr("Cache-Control", "max-age=3600"), NoDate: true}, 2*sec, get()),
		},
		{
			ID: "freshness-dup-max-age-first-short", RFC: "9111", Section: "4.2.1", Level: "SHOULD",
			Name: "two max-age directives: the first (short) one or stale, never the second",
			// §4.2.1: "When there is more than one value present for a given
			// directive (e.g., two Expires header field lines or multiple
			// Cache-Control: max-age directives), either the first occurrence
			// should be used or the response should be considered stale."
			// (lower-case "should" in the RFC; counted as SHOULD)
			Steps: notReused(ok("Cache-Control", "max-age=2, max-age=3600"), 4*sec, get()),
		},
		{
			ID: "freshness-dup-max-age-lines", RFC: "9111", Section: "4.2.1", Level: "SHOULD",
			Name: "max-age in two Cache-Control lines: the first or stale, never the second",
			// §4.2.1, as above.
			Steps: notReused(ok("Cache-Control", "max-age=2", "Cache-Control", "max-age=3600"), 4*sec, get()),
		},
		{
			ID: "freshness-dup-s-maxage", RFC: "9111", Section: "4.2.1", Level: "SHOULD",
			Name: "two s-maxage directives: the first (short) one or stale",
			// §4.2.1, as above.
			Steps: notReused(ok("Cache-Control", "s-maxage=2, s-maxage=3600"), 4*sec, get()),
		},
		{
			ID: "freshness-dup-expires", RFC: "9111", Section: "4.2.1", Level: "SHOULD",
			Name: "two Expires lines, the first past: the first or stale",
			// §4.2.1, as above ("two Expires header field lines").
			Steps: notReused(ok("Expires", "{{date:-10}}", "Expires", "{{date:3600}}"), 0, get()),
		},
		{
			ID: "freshness-conflict-max-age-no-cache", RFC: "9111", Section: "4.2.1", Level: "SHOULD",
			Name: "max-age with no-cache: the most restrictive (no-cache) is honored",
			// §4.2.1: "If directives conflict (e.g., both max-age and no-cache
			// are present), the most restrictive directive should be honored."
			Steps: notReused(ok("Cache-Control", "max-age=3600, no-cache"), 0, get()),
		},
		{
			ID: "freshness-conflict-public-private", RFC: "9111", Section: "4.2.1", Level: "SHOULD",
			Name: "public with private: the most restrictive (private) is honored",
			// §4.2.1, as above.
			Steps: notReused(ok("Cache-Control", "public, private, max-age=3600"), 0, get()),
		},
		{
			ID: "freshness-invalid-max-age-stale", RFC: "9111", Section: "4.2.1", Level: "MAY",
			Name: "a non-integer max-age is treated as stale",
			// §4.2.1: "Caches are encouraged to consider responses that have
			// invalid freshness information (e.g., a max-age directive with
			// non-integer content) to be stale."
			Steps: notReused(ok("Cache-Control", "max-age=abc"), 0, get()),
		},
		{
			ID: "freshness-overflow-max-age", RFC: "9111", Section: "1.2.2", Level: "MUST",
			Name: "a max-age beyond 2^31 is capped, not wrapped: still fresh",
			// §1.2.2: "If a cache receives a delta-seconds value greater than the
			// greatest integer it can represent, or if any of its subsequent
			// calculations overflows, the cache MUST consider the value to be
			// 2147483648 (2^31) or the greatest positive integer it can
			// conveniently represent."
			Steps: reused(ok("Cache-Control", "max-age=99999999999999999999"), 2*sec, get()),
		},
		{
			ID: "freshness-overflow-s-maxage", RFC: "9111", Section: "1.2.2", Level: "MUST",
			Name: "an s-maxage beyond 2^31 is capped, not wrapped: still fresh",
			// §1.2.2, as above.
			Steps: reused(ok("Cache-Control", "s-maxage=9223372036854775808"), 2*sec, get()),
		},
		{
			ID: "freshness-overflow-age", RFC: "9111", Section: "1.2.2", Level: "MUST",
			Name: "an Age beyond 2^31 is capped, not wrapped: stale",
			// §1.2.2, as above: Age 2^31 exceeds max-age=3600.
			Steps: notReused(ok("Cache-Control", "max-age=3600", "Age", "99999999999999999999"), 0, get()),
		},
		{
			ID: "freshness-max-age-zero", RFC: "9111", Section: "4.2", Level: "MUST",
			Name: "max-age=0: stale at once",
			// §4.2: "response_is_fresh = (freshness_lifetime > current_age)"
			Steps: notReused(ok("Cache-Control", "max-age=0"), 0, get()),
		},
		{
			ID: "freshness-s-maxage-zero", RFC: "9111", Section: "5.2.2.10", Level: "MUST",
			Name: "s-maxage=0 with a long max-age: stale at once for a shared cache",
			// §5.2.2.10: "For a shared cache, the maximum age specified by this
			// directive overrides the maximum age specified by either the
			// max-age directive or the Expires header field."
			Steps: notReused(ok("Cache-Control", "max-age=3600, s-maxage=0"), 0, get()),
		},
		{
			ID: "heuristic-last-modified", RFC: "9111", Section: "4.2.2", Level: "MAY",
			Name: "no explicit lifetime, old Last-Modified: heuristically fresh",
			// §4.2.2: "a cache MAY assign a heuristic expiration time when an
			// explicit time is not specified"
			Steps: reused(ok("Last-Modified", "{{date:-100000}}"), 2*sec, get()),
		},
		{
			ID: "heuristic-not-with-max-age", RFC: "9111", Section: "4.2.2", Level: "MUST",
			Name: "an explicit max-age is not extended by a heuristic",
			// §4.2.2: "A cache MUST NOT use heuristics to determine freshness when
			// an explicit expiration time is present in the stored response."
			Steps: notReused(ok("Cache-Control", "max-age=2", "Last-Modified", "{{date:-100000}}"), 4*sec, get()),
		},
		{
			ID: "heuristic-not-with-expires", RFC: "9111", Section: "4.2.2", Level: "MUST",
			Name: "a past Expires is not overridden by a heuristic",
			// §4.2.2, as above.
			Steps: notReused(ok("Expires", "{{date:-10}}", "Last-Modified", "{{date:-100000}}"), 0, get()),
		},
		{
			ID: "heuristic-not-with-invalid-expires", RFC: "9111", Section: "5.3", Level: "MUST",
			Name: "an invalid Expires is in the past, not absent: no heuristic",
			// §5.3: "A cache recipient MUST interpret invalid date formats,
			// especially the value "0", as representing a time in the past
			// (i.e., "already expired")."
			Steps: notReused(ok("Expires", "0", "Last-Modified", "{{date:-100000}}"), 0, get()),
		},
		{
			ID: "heuristic-fraction", RFC: "9111", Section: "4.2.2", Level: "MAY",
			Name: "the heuristic lifetime is a fraction of the time since Last-Modified",
			// §4.2.2: "If the response has a Last-Modified header field …, caches
			// are encouraged to use a heuristic expiration value that is no more
			// than some fraction of the interval since that time. A typical
			// setting of this fraction might be 10%." (20 s since: ≤ 2 s)
			Steps: notReused(ok("Last-Modified", "{{date:-20}}"), 5*sec, get()),
		},
		{
			ID: "heuristic-not-307", RFC: "9111", Section: "4.2.2", Level: "MUST",
			Name: "no heuristic freshness for a status that is not heuristically cacheable",
			// §3: a response without explicit freshness is storable only with
			// "a status code that is defined as heuristically cacheable"; 307 is not.
			Steps: []Step{
				{Response: status(307, "Location", "{{base}}/x", "Last-Modified", "{{date:-100000}}"), Expect: Expect{Origin: Full, Status: 307}},
				{Expect: Expect{Origin: Full, Status: 307, BodyOf: 2}},
			},
		},
		{
			ID: "heuristic-public-302", RFC: "9111", Section: "4.2.2", Level: "MAY",
			Name: "public makes any status heuristically cacheable",
			// §4.2.2: "… a response … that is marked as explicitly cacheable
			// (e.g., with a public response directive)" may get a heuristic.
			Steps: []Step{
				{Response: status(302, "Location", "{{base}}/x", "Cache-Control", "public", "Last-Modified", "{{date:-100000}}"), Expect: Expect{Origin: Full, Status: 302}},
				{Pause: 2 * sec, Expect: Expect{Origin: None, Status: 302, BodyOf: 1}},
			},
		},
		{
			ID: "heuristic-query", RFC: "9111", Section: "4.2.2", Level: "MAY",
			Name: "a URI with a query may get heuristic freshness",
			// §4.2.2 Note: RFC 9111 lifts RFC 2616's ban on heuristics for URIs
			// with a query component.
			Steps: []Step{
				{Request: Request{Path: "?v=1"}, Response: ok("Last-Modified", "{{date:-100000}}"), Expect: fetched(1)},
				{Pause: 2 * sec, Request: Request{Path: "?v=1"}, Expect: hit(1)},
			},
		},
		{
			ID: "stale-must-revalidate-error", RFC: "9111", Section: "5.2.2.2", Level: "MUST",
			Name: "must-revalidate: a stale response is not served when the origin fails",
			// §5.2.2.2: "once the response has become stale, a cache MUST NOT
			// reuse that response to satisfy another request until it has been
			// successfully validated by the origin"
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1, must-revalidate, stale-if-error=3600"), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(500), Expect: Expect{Origin: Forwarded, Status: 500}},
			},
		},
		{
			ID: "stale-proxy-revalidate-error", RFC: "9111", Section: "5.2.2.8", Level: "MUST",
			Name: "proxy-revalidate: a shared cache does not serve stale when the origin fails",
			// §5.2.2.8: "The proxy-revalidate response directive indicates that
			// once the response has become stale, a shared cache MUST NOT reuse
			// that response to satisfy another request until it has been
			// successfully validated by the origin"
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1, proxy-revalidate"), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(500), Expect: Expect{Origin: Forwarded, Status: 500}},
			},
		},
		{
			ID: "stale-s-maxage-error", RFC: "9111", Section: "5.2.2.10", Level: "MUST",
			Name: "s-maxage implies proxy-revalidate: no stale on origin failure",
			// §5.2.2.10: "The s-maxage directive incorporates the semantics of
			// the proxy-revalidate response directive (Section 5.2.2.8) for a
			// shared cache."
			Steps: []Step{
				{Response: ok("Cache-Control", "s-maxage=1"), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(500), Expect: Expect{Origin: Forwarded, Status: 500}},
			},
		},
		{
			ID: "stale-must-revalidate-max-stale", RFC: "9111", Section: "5.2.2.2", Level: "MUST",
			Name: "must-revalidate overrides a client's max-stale",
			// §5.2.2.2: "The must-revalidate directive is necessary to support
			// reliable operation for certain protocol features. In all
			// circumstances a cache MUST NOT ignore the must-revalidate directive"
			Steps: notReused(ok("Cache-Control", "max-age=1, must-revalidate"), 3*sec, get("Cache-Control", "max-stale=3600")),
		},
		{
			ID: "stale-proxy-revalidate-max-stale", RFC: "9111", Section: "5.2.2.8", Level: "MUST",
			Name: "proxy-revalidate overrides a client's max-stale in a shared cache",
			// §5.2.2.8, as above.
			Steps: notReused(ok("Cache-Control", "max-age=1, proxy-revalidate"), 3*sec, get("Cache-Control", "max-stale=3600")),
		},
		{
			ID: "stale-s-maxage-max-stale", RFC: "9111", Section: "5.2.2.10", Level: "MUST",
			Name: "s-maxage (proxy-revalidate semantics) overrides a client's max-stale",
			// §5.2.2.10 and §5.2.2.8, as above.
			Steps: notReused(ok("Cache-Control", "s-maxage=1"), 3*sec, get("Cache-Control", "max-stale=3600")),
		},
		{
			ID: "stale-no-cache-max-stale", RFC: "9111", Section: "4.2.4", Level: "MUST",
			Name: "no-cache in the response overrides a client's max-stale",
			// §4.2.4: "A cache MUST NOT generate a stale response if it is
			// prohibited by an explicit in-protocol directive (e.g., by a no-cache
			// response directive, a must-revalidate response directive, or an
			// applicable s-maxage or proxy-revalidate response directive"
			Steps: notReused(ok("Cache-Control", "max-age=1, no-cache"), 3*sec, get("Cache-Control", "max-stale=3600")),
		},
		{
			ID: "stale-404-not-error", RFC: "9111", Section: "4.2.4", Level: "MUST",
			Name: "a stale response is not served in place of the origin's 404",
			// §4.2.4: "A cache MUST NOT generate a stale response unless it is
			// disconnected or doing so is explicitly permitted by the client or
			// origin server"
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1"), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(404), Expect: Expect{Origin: Forwarded, Status: 404, BodyOf: 2}},
			},
		},
		{
			ID: "stale-origin-500-passed", RFC: "9111", Section: "4.2.4", Level: "MUST",
			Name: "without permission to serve stale, the origin's 500 is passed on",
			// §4.2.4, as above: a connected cache without stale-if-error may not
			// substitute the stale response.
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1"), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(500), Expect: Expect{Origin: Forwarded, Status: 500, BodyOf: 2}},
			},
		},
	}
}

// §4.3 Validation.
func cases9111Validation() []Case {
	const lm = "Tue, 01 Dec 2020 00:00:00 GMT"
	const lmAfter = "Wed, 02 Dec 2020 00:00:00 GMT"
	const lmBefore = "Mon, 30 Nov 2020 00:00:00 GMT"
	stored := func(kv ...string) Step {
		return Step{Response: ok(append([]string{"Cache-Control", "max-age=3600"}, kv...)...), Expect: fetched(1)}
	}
	notMod := func() Expect {
		return Expect{Origin: None, Status: 304, EmptyBody: true, CacheStatus: []string{"hit"}}
	}
	return []Case{
		{
			ID: "validate-sends-if-none-match", RFC: "9111", Section: "4.3.1", Level: "MUST",
			Name: "revalidating a stale response with an ETag sends If-None-Match",
			// §4.3.1: "When generating a conditional request for validation, a
			// cache … MUST send the relevant entity tag (using If-None-Match) if
			// an entity tag has been provided in the stored response being validated."
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1", "ETag", `"v1"`), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(304, "Cache-Control", "max-age=1", "ETag", `"v1"`),
					Expect: Expect{Origin: Conditional, Status: 200, BodyOf: 1, OriginHeader: []FieldCheck{{"If-None-Match", Contains, `"v1"`}}}},
			},
		},
		{
			ID: "validate-sends-weak-etag", RFC: "9111", Section: "4.3.1", Level: "MUST",
			Name: "a weak ETag is sent back as it was received",
			// §4.3.1, as above ("the relevant entity tag").
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1", "ETag", `W/"v1"`), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(304, "Cache-Control", "max-age=1", "ETag", `W/"v1"`),
					Expect: Expect{Origin: Conditional, Status: 200, BodyOf: 1, OriginHeader: []FieldCheck{{"If-None-Match", Contains, `W/"v1"`}}}},
			},
		},
		{
			ID: "validate-sends-if-modified-since", RFC: "9111", Section: "4.3.1", Level: "SHOULD",
			Name: "revalidating a stale response with only Last-Modified sends If-Modified-Since",
			// §4.3.1: "It SHOULD send the Last-Modified value (using
			// If-Modified-Since) if only a Last-Modified value has been provided."
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1", "Last-Modified", lm), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(304, "Cache-Control", "max-age=1"),
					Expect: Expect{Origin: Conditional, Status: 200, BodyOf: 1, OriginHeader: []FieldCheck{{"If-Modified-Since", Equal, lm}}}},
			},
		},
		{
			ID: "validate-304-serves-stored", RFC: "9111", Section: "4.3.3", Level: "MUST",
			Name: "a 304 to the cache's validation: the client gets the stored 200",
			// §4.3.3: "A 304 (Not Modified) response status code indicates that
			// the stored response can be updated and reused"; §4.3.4: "the cache
			// MUST … use other header fields provided in the 304 … to replace all
			// instances of the corresponding header fields in the stored response."
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1", "ETag", `"v1"`), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(304, "Cache-Control", "max-age=1", "ETag", `"v1"`),
					Expect: Expect{Origin: Conditional, Status: 200, BodyOf: 1, CacheStatus: []string{"fwd=stale", "fwd-status=304"}}},
			},
		},
		{
			ID: "validate-full-response-used", RFC: "9111", Section: "4.3.3", Level: "MUST",
			Name: "a full 200 to the cache's validation is what the client gets",
			// §4.3.3: "A full response (i.e., one containing content) indicates
			// that none of the stored responses nominated in the conditional
			// request are suitable. Instead, the cache MUST use the full response
			// to satisfy the request."
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1", "ETag", `"v1"`), Expect: fetched(1)},
				{Pause: 3 * sec, Response: ok("Cache-Control", "max-age=3600", "ETag", `"v2"`),
					Expect: Expect{Origin: Forwarded, Status: 200, BodyOf: 2, Header: []FieldCheck{{"ETag", Equal, `"v2"`}}}},
				{Expect: hit(2)},
			},
		},
		{
			ID: "validate-304-freshens", RFC: "9111", Section: "4.3.4", Level: "MUST",
			Name: "a 304 with a new max-age makes the stored response fresh again",
			// §4.3.4: "the cache MUST: … use other header fields provided in the
			// 304 (Not Modified) response to replace all instances of the
			// corresponding header fields in the stored response."
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1", "ETag", `"v1"`), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(304, "Cache-Control", "max-age=3600", "ETag", `"v1"`),
					Expect: Expect{Origin: Conditional, Status: 200, BodyOf: 1}},
				{Pause: 2 * sec, Expect: hit(1)},
			},
		},
		{
			ID: "validate-304-updates-fields", RFC: "9111", Section: "4.3.4", Level: "MUST",
			Name: "a 304's header fields replace the stored ones",
			// §4.3.4, as above; §3.2: "the cache MUST add each header field in the
			// provided response to the stored response, replacing field values
			// that are already present"
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1", "ETag", `"v1"`, "X-Version", "1"), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(304, "Cache-Control", "max-age=3600", "ETag", `"v1"`, "X-Version", "2"),
					Expect: Expect{Origin: Conditional, Status: 200, BodyOf: 1, Header: []FieldCheck{{"X-Version", Equal, "2"}}}},
				{Expect: Expect{Status: 200, BodyOf: 1, Header: []FieldCheck{{"X-Version", Equal, "2"}}}},
			},
		},
		{
			ID: "validate-304-keeps-content-length", RFC: "9111", Section: "3.2", Level: "MUST",
			Name: "a 304's Content-Length does not replace the stored one",
			// §3.2: "… replacing field values that are already present, with the
			// following exceptions: … The Content-Length header field."
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1", "ETag", `"v1"`), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(304, "Cache-Control", "max-age=3600", "ETag", `"v1"`, "Content-Length", "0"),
					Expect: Expect{Origin: Conditional, Status: 200, BodyOf: 1}},
				{Expect: Expect{Status: 200, BodyOf: 1}},
			},
		},
		{
			ID: "validate-304-other-etag-not-used", RFC: "9111", Section: "4.3.4", Level: "MUST",
			Name: "a 304 naming another strong ETag does not freshen the stored response",
			// §4.3.4: "If the new response contains a strong validator …, then
			// that strong validator identifies the selected representation for
			// update. … If none of the stored responses contain the same strong
			// validator, then the cache MUST NOT use the new response to update
			// any stored responses." The stale body may then not be served
			// (§4.2.4); a refetch (this origin answers an unconditional request
			// with a 200) is fine.
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1", "ETag", `"v1"`), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(304, "Cache-Control", "max-age=3600", "ETag", `"v2"`), Expect: Expect{NotBodyOf: 1}},
				{Expect: Expect{NotBodyOf: 1}},
			},
		},
		{
			ID: "validate-head-updates", RFC: "9111", Section: "4.3.5", Level: "SHOULD",
			Name: "a 200 to a HEAD updates or invalidates the stored GET response",
			// §4.3.5: "When a cache makes an inbound HEAD request for a target URI
			// and receives a 200 (OK) response, the cache SHOULD update or
			// invalidate each of its stored GET responses that could have been
			// chosen for that request."
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1", "X-Version", "1"), Expect: fetched(1)},
				{Pause: 3 * sec, Request: Request{Method: "HEAD"}, Response: ok("Cache-Control", "max-age=3600", "X-Version", "2"),
					Expect: Expect{Origin: Forwarded, Status: 200, Header: []FieldCheck{{"X-Version", Equal, "2"}}}},
				{Expect: Expect{Status: 200, Header: []FieldCheck{{"X-Version", Equal, "2"}}}},
			},
		},
		{
			ID: "client-inm-304", RFC: "9111", Section: "4.3.2", Level: "SHOULD",
			Name: "a client's If-None-Match matching the stored ETag gets 304 from the cache",
			// §4.3.2: "If a cache receives a request that can be satisfied by
			// reusing a stored 200 (OK) or 206 (Partial Content) response, as per
			// Section 4, the cache SHOULD evaluate any applicable conditional
			// header field preconditions received in that request with respect to
			// the corresponding validators contained within the stored response."
			Steps: []Step{
				stored("ETag", `"v1"`),
				{Request: get("If-None-Match", `"v1"`), Expect: notMod().with(FieldCheck{"ETag", Equal, `"v1"`})},
			},
		},
		{
			ID: "client-inm-304-fields", RFC: "9111", Section: "4.3.2", Level: "MUST",
			Name: "a 304 from the cache carries ETag and Cache-Control like the 200 would",
			// RFC 9110 §15.4.5: "The server generating a 304 response MUST
			// generate any of the following header fields that would have been
			// sent in a 200 (OK) response to the same request: Content-Location,
			// Date, ETag, and Vary; Cache-Control and Expires"
			Steps: []Step{
				stored("ETag", `"v1"`, "Vary", "Accept-Language"),
				{Request: get("If-None-Match", `"v1"`), Expect: Expect{Status: 304, EmptyBody: true, Header: []FieldCheck{
					{"ETag", Equal, `"v1"`}, {"Cache-Control", Contains, "max-age"}, {"Vary", Contains, "Accept-Language"}, {"Date", Present, ""}}}},
			},
		},
		{
			ID: "client-inm-weak-match", RFC: "9111", Section: "4.3.2", Level: "SHOULD",
			Name: "If-None-Match uses weak comparison: W/\"v1\" stored, \"v1\" asked: 304",
			// §4.3.2 as above; RFC 9110 §13.1.2: "A recipient MUST use the weak
			// comparison function when comparing entity tags for If-None-Match"
			Steps: []Step{
				stored("ETag", `W/"v1"`),
				{Request: get("If-None-Match", `"v1"`), Expect: notMod()},
			},
		},
		{
			ID: "client-inm-list", RFC: "9111", Section: "4.3.2", Level: "SHOULD",
			Name: "If-None-Match with a list containing the stored ETag: 304",
			// §4.3.2 as above; RFC 9110 §13.1.2.
			Steps: []Step{
				stored("ETag", `"v1"`),
				{Request: get("If-None-Match", `"x", "v1"`), Expect: notMod()},
			},
		},
		{
			ID: "client-inm-star", RFC: "9111", Section: "4.3.2", Level: "SHOULD",
			Name: "If-None-Match: * with a stored response: 304",
			// §4.3.2 as above; RFC 9110 §13.1.2: "If the field value is "*", the
			// condition is false if the origin server has a current representation"
			Steps: []Step{
				stored("ETag", `"v1"`),
				{Request: get("If-None-Match", "*"), Expect: notMod()},
			},
		},
		{
			ID: "client-inm-mismatch", RFC: "9111", Section: "4.3.2", Level: "SHOULD",
			Name: "If-None-Match not matching: the full stored 200",
			// §4.3.2 as above: the precondition holds, so the stored 200 is the answer.
			Steps: []Step{
				stored("ETag", `"v1"`),
				{Request: get("If-None-Match", `"v0"`), Expect: hit(1)},
			},
		},
		{
			ID: "client-ims-304", RFC: "9111", Section: "4.3.2", Level: "SHOULD",
			Name: "If-Modified-Since at or after Last-Modified: 304 from the cache",
			// §4.3.2 as above; RFC 9110 §13.1.3.
			Steps: []Step{
				stored("Last-Modified", lm),
				{Request: get("If-Modified-Since", lmAfter), Expect: notMod()},
			},
		},
		{
			ID: "client-ims-older", RFC: "9111", Section: "4.3.2", Level: "SHOULD",
			Name: "If-Modified-Since before Last-Modified: the full stored 200",
			// §4.3.2 as above.
			Steps: []Step{
				stored("Last-Modified", lm),
				{Request: get("If-Modified-Since", lmBefore), Expect: hit(1)},
			},
		},
		{
			ID: "client-inm-over-ims", RFC: "9111", Section: "4.3.2", Level: "SHOULD",
			Name: "If-None-Match takes precedence over If-Modified-Since",
			// §4.3.2: "… If-None-Match takes precedence over If-Modified-Since."
			Steps: []Step{
				stored("ETag", `"v1"`, "Last-Modified", lm),
				{Request: get("If-None-Match", `"v0"`, "If-Modified-Since", lmAfter), Expect: hit(1)},
			},
		},
		{
			ID: "client-conditional-no-stored", RFC: "9111", Section: "4.3.2", Level: "MUST",
			Name: "a conditional request with nothing stored is not answered by the cache",
			// §4.3.2: "A cache MUST NOT evaluate conditional header fields that …
			// occur in a request with a target resource for which it has no
			// stored response; such preconditions are likely intended for some
			// other (inbound) server."
			Steps: []Step{
				// The cache may forward the client's validators (the origin
				// answers 304) or fetch in full to fill (it answers 200).
				{Request: get("If-None-Match", `"v1"`), Response: status(304, "ETag", `"v1"`, "Cache-Control", "max-age=3600"),
					Expect: Expect{Origin: Forwarded}},
			},
		},
		{
			ID: "client-if-match-not-evaluated", RFC: "9111", Section: "4.3.2", Level: "MUST",
			Name: "If-Match is not evaluated by the cache: no 412 or 304 from it",
			// §4.3.2: "In summary, the If-Match and If-Unmodified-Since
			// conditional header fields are not applicable to a cache" and "A
			// cache MUST NOT evaluate conditional header fields that only apply
			// to an origin server". Serving the stored 200 or forwarding (this
			// origin answers 200) both pass; a 412 or 304 made by the cache fails.
			Steps: []Step{
				stored("ETag", `"v1"`),
				{Request: get("If-Match", `"v0"`, "If-Unmodified-Since", lmBefore), Response: ok("Cache-Control", "max-age=3600", "ETag", `"v1"`),
					Expect: Expect{Status: 200}},
			},
		},
	}
}

// §4.4 Invalidating Stored Responses.
func cases9111Invalidation() []Case {
	store := Step{Response: ok("Cache-Control", "max-age=3600"), Expect: fetched(1)}
	unsafe := func(method string, code int, kv ...string) Step {
		return Step{Request: Request{Method: method, Body: "x"}, Response: status(code, kv...), Expect: Expect{Origin: Full, Status: code}}
	}
	mustInvalidate := func(method string, code int) []Step {
		return []Step{store, unsafe(method, code), {Response: ok("Cache-Control", "max-age=3600"), Expect: forwarded(3)}}
	}
	return []Case{
		{
			ID: "invalidate-post", RFC: "9111", Section: "4.4", Level: "MUST",
			Name: "a 200 to a POST invalidates the stored GET response",
			// §4.4: "A cache MUST invalidate the target URI … when it receives a
			// non-error status code in response to an unsafe request method
			// (including methods whose safety is unknown)."
			Steps: mustInvalidate("POST", 200),
		},
		{
			ID: "invalidate-put", RFC: "9111", Section: "4.4", Level: "MUST",
			Name: "a 204 to a PUT invalidates the stored GET response",
			// §4.4, as above.
			Steps: mustInvalidate("PUT", 204),
		},
		{
			ID: "invalidate-delete", RFC: "9111", Section: "4.4", Level: "MUST",
			Name: "a 200 to a DELETE invalidates the stored GET response",
			// §4.4, as above.
			Steps: mustInvalidate("DELETE", 200),
		},
		{
			ID: "invalidate-patch", RFC: "9111", Section: "4.4", Level: "MUST",
			Name: "a 200 to a PATCH invalidates the stored GET response",
			// §4.4, as above.
			Steps: mustInvalidate("PATCH", 200),
		},
		{
			ID: "invalidate-unknown-method", RFC: "9111", Section: "4.4", Level: "MUST",
			Name: "a 200 to an unknown method invalidates the stored GET response",
			// §4.4, as above: "(including methods whose safety is unknown)".
			Steps: mustInvalidate("FROB", 200),
		},
		{
			ID: "invalidate-post-303", RFC: "9111", Section: "4.4", Level: "MUST",
			Name: "a 303 (non-error) to a POST invalidates",
			// §4.4: "A "non-error response" is one with a 2xx (Successful) or 3xx
			// (Redirection) status code."
			Steps: []Step{store, unsafe("POST", 303, "Location", "{{base}}/done"), {Response: ok("Cache-Control", "max-age=3600"), Expect: forwarded(3)}},
		},
		{
			ID: "invalidate-not-on-error", RFC: "9111", Section: "4.4", Level: "MAY",
			Name: "a 500 to a POST need not invalidate",
			// §4.4: invalidation is required only for "a non-error status code".
			Steps: []Step{store, unsafe("POST", 500), {Expect: hit(1)}},
		},
		{
			ID: "invalidate-all-variants", RFC: "9111", Section: "4.4", Level: "MUST",
			Name: "invalidation removes every Vary variant of the URI",
			// §4.4: "Invalidate means that the cache will either remove all stored
			// responses whose target URI matches the given URI or mark them as
			// "invalid" and in need of a mandatory validation"
			Steps: []Step{
				{Request: get("Accept-Language", "en"), Response: ok("Cache-Control", "max-age=3600", "Vary", "Accept-Language"), Expect: fetched(1)},
				{Request: get("Accept-Language", "fr"), Expect: forwarded(2)},
				unsafe("POST", 200),
				{Request: get("Accept-Language", "en"), Response: ok("Cache-Control", "max-age=3600", "Vary", "Accept-Language"), Expect: forwarded(4)},
				{Request: get("Accept-Language", "fr"), Expect: forwarded(5)},
			},
		},
		{
			ID: "invalidate-location", RFC: "9111", Section: "4.4", Level: "MAY",
			Name: "a POST's same-origin Location URI is invalidated",
			// §4.4: "A cache MAY invalidate other URIs when it receives a
			// non-error status code in response to an unsafe request method …
			// In particular, the URI(s) in the Location and Content-Location
			// response header fields (if present) are candidates for invalidation"
			Steps: []Step{
				{Request: Request{Path: "/other"}, Response: ok("Cache-Control", "max-age=3600"), Expect: fetched(1)},
				unsafe("POST", 201, "Location", "{{base}}/other"),
				{Request: Request{Path: "/other"}, Response: ok("Cache-Control", "max-age=3600"), Expect: forwarded(3)},
			},
		},
		{
			ID: "invalidate-content-location", RFC: "9111", Section: "4.4", Level: "MAY",
			Name: "a POST's same-origin Content-Location URI is invalidated",
			// §4.4, as above.
			Steps: []Step{
				{Request: Request{Path: "/other"}, Response: ok("Cache-Control", "max-age=3600"), Expect: fetched(1)},
				unsafe("POST", 200, "Content-Location", "{{base}}/other"),
				{Request: Request{Path: "/other"}, Response: ok("Cache-Control", "max-age=3600"), Expect: forwarded(3)},
			},
		},
		{
			ID: "invalidate-not-cross-origin", RFC: "9111", Section: "4.4", Level: "MUST",
			Name: "a Location on another origin is not invalidated",
			// §4.4: "However, a cache MUST NOT trigger an invalidation under these
			// conditions if the origin … of the URI to be invalidated differs from
			// that of the target URI"
			Steps: []Step{
				{Request: Request{Path: "/other", Header: hdr("Host", "other.example")}, Response: ok("Cache-Control", "max-age=3600"), Expect: fetched(1)},
				unsafe("POST", 201, "Location", "http://other.example{{base}}/other", "Content-Location", "http://other.example{{base}}/other"),
				{Request: Request{Path: "/other", Header: hdr("Host", "other.example")}, Expect: hit(1)},
			},
		},
		{
			ID: "invalidate-not-by-safe-get", RFC: "9111", Section: "4.4", Level: "MAY",
			Name: "a GET with a query does not invalidate the URI without it",
			// §4.4 invalidates on unsafe methods only; safe requests leave others alone.
			Steps: []Step{store, {Request: Request{Path: "?x=1"}, Response: ok("Cache-Control", "max-age=3600"), Expect: fetched(2)}, {Expect: hit(1)}},
		},
	}
}
