package edgetest

// §5 Header Field Definitions: Age, Cache-Control request and response
// directives, Expires, Pragma.
func cases9111Fields() []Case {
	maxAge := ok("Cache-Control", "max-age=3600")
	return []Case{
		// §5.1 Age
		{
			ID: "age-replaced-on-hit", RFC: "9111", Section: "5.1", Level: "MUST",
			Name: "a hit replaces the received Age with the current age",
			// §4: "a cache MUST generate an Age header field …, replacing any
			// present in the response with a value equal to the stored
			// response's current_age"
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600", "Age", "10"), Expect: Expect{Origin: Full}},
				{Pause: 5 * sec, Expect: hit(1).with(FieldCheck{"Age", AtLeast, "15"}, FieldCheck{"Age", AtMost, "100"})},
			},
		},
		{
			ID: "age-list-first", RFC: "9111", Section: "5.1", Level: "SHOULD",
			Name: "a list-valued Age: the first member is used",
			// §5.1: "a cache encountering a message with a list-based Age field
			// value SHOULD use the first member of the field value, discarding
			// subsequent ones."
			Steps: notReused(ok("Cache-Control", "max-age=3600", "Age", "3599, 1"), 3*sec, get()),
		},
		{
			ID: "age-two-lines-first", RFC: "9111", Section: "5.1", Level: "SHOULD",
			Name: "two Age field lines: the first is used",
			// §5.1, as above (two lines form one list, RFC 9110 §5.3).
			Steps: notReused(ok("Cache-Control", "max-age=3600", "Age", "3599", "Age", "1"), 3*sec, get()),
		},
		{
			ID: "age-invalid-ignored", RFC: "9111", Section: "5.1", Level: "SHOULD",
			Name: "a non-numeric Age is ignored: fresh, and a valid Age on the hit",
			// §5.1: "If the field value (after discarding additional members, as
			// per above) is invalid (e.g., it contains something other than a
			// non-negative integer), a cache SHOULD ignore the field."
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600", "Age", "abc"), Expect: Expect{Origin: Full}},
				{Pause: sec, Expect: hit(1).with(FieldCheck{"Age", AtMost, "60"})},
			},
		},
		{
			ID: "age-negative-ignored", RFC: "9111", Section: "5.1", Level: "SHOULD",
			Name: "a negative Age is ignored: fresh, and a valid Age on the hit",
			// §5.1, as above.
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600", "Age", "-7200"), Expect: Expect{Origin: Full}},
				{Pause: sec, Expect: hit(1).with(FieldCheck{"Age", AtMost, "60"})},
			},
		},
		{
			ID: "age-fraction-ignored", RFC: "9111", Section: "5.1", Level: "SHOULD",
			Name: "a fractional Age is ignored",
			// §5.1, as above.
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600", "Age", "1.5"), Expect: Expect{Origin: Full}},
				{Pause: sec, Expect: hit(1).with(FieldCheck{"Age", AtMost, "60"})},
			},
		},

		// §5.2.1 Request directives
		{
			ID: "req-no-cache", RFC: "9111", Section: "5.2.1.4", Level: "MUST",
			Name: "request no-cache: the stored response is not used without validation",
			// §4: "a cache MUST NOT reuse a stored response unless: … the
			// presented request does not contain the no-cache directive (Section
			// 5.2.1.4), unless the stored response is successfully validated"
			Steps: notReused(maxAge, 0, get("Cache-Control", "no-cache")),
		},
		{
			ID: "req-no-cache-uppercase", RFC: "9111", Section: "5.2.1.4", Level: "MUST",
			Name: "request NO-CACHE (directive names are case-insensitive)",
			// §5.2: "Cache directives are identified by a token, to be compared
			// case-insensitively"; §4 as above.
			Steps: notReused(maxAge, 0, get("Cache-Control", "NO-CACHE")),
		},
		{
			ID: "req-pragma-no-cache", RFC: "9111", Section: "5.4", Level: "MUST",
			Name: "request Pragma: no-cache without Cache-Control acts as no-cache",
			// §5.4: "When the Cache-Control header field is not present in a
			// request, caches MUST consider the no-cache request pragma directive
			// as having the same effect as if "Cache-Control: no-cache" were present"
			Steps: notReused(maxAge, 0, get("Pragma", "no-cache")),
		},
		{
			ID: "req-pragma-with-cache-control", RFC: "9111", Section: "5.4", Level: "MAY",
			Name: "request Pragma: no-cache is ignored when Cache-Control is present",
			// §5.4: the pragma counts only "When the Cache-Control header field is
			// not present in a request"
			Steps: reused(maxAge, sec, get("Pragma", "no-cache", "Cache-Control", "max-stale=1")),
		},
		{
			ID: "req-no-store", RFC: "9111", Section: "5.2.1.5", Level: "MUST",
			Name: "request no-store: the response is not stored",
			// §5.2.1.5: "The no-store request directive indicates that a cache
			// MUST NOT store any part of either this request or any response to it."
			Steps: []Step{
				{Request: get("Cache-Control", "no-store"), Response: maxAge, Expect: fetched(1)},
				{Expect: forwarded(2)},
			},
		},
		{
			ID: "req-no-store-stored-ok", RFC: "9111", Section: "5.2.1.5", Level: "MAY",
			Name: "request no-store may still be answered from an already stored response",
			// §5.2.1.5: "Note that if a request containing this directive is
			// satisfied from a cache, the no-store request directive does not
			// apply to the already stored response."
			Steps: reused(maxAge, 0, get("Cache-Control", "no-store")),
		},
		{
			ID: "req-max-age-zero", RFC: "9111", Section: "5.2.1.1", Level: "MAY",
			Name: "request max-age=0: the stored response is not reused without validation",
			// §5.2.1.1: "The max-age request directive indicates that the client
			// prefers a response whose age is less than or equal to the specified
			// number of seconds." (a preference: no BCP 14 keyword)
			Steps: notReused(maxAge, sec, get("Cache-Control", "max-age=0")),
		},
		{
			ID: "req-max-age-older", RFC: "9111", Section: "5.2.1.1", Level: "MAY",
			Name: "request max-age smaller than the stored age: not reused",
			// §5.2.1.1, as above.
			Steps: notReused(maxAge, 5*sec, get("Cache-Control", "max-age=2")),
		},
		{
			ID: "req-max-age-younger", RFC: "9111", Section: "5.2.1.1", Level: "MAY",
			Name: "request max-age larger than the stored age: reused",
			// §5.2.1.1, as above.
			Steps: reused(maxAge, 2*sec, get("Cache-Control", "max-age=60")),
		},
		{
			ID: "req-max-stale-serves", RFC: "9111", Section: "5.2.1.2", Level: "MAY",
			Name: "request max-stale within the staleness: the stale response is served",
			// §5.2.1.2: "The max-stale request directive indicates that the client
			// will accept a response that has exceeded its freshness lifetime by
			// no more than the specified number of seconds."
			Steps: reused(ok("Cache-Control", "max-age=1"), 3*sec, get("Cache-Control", "max-stale=60")),
		},
		{
			ID: "req-max-stale-no-value", RFC: "9111", Section: "5.2.1.2", Level: "MAY",
			Name: "request max-stale without a value: any staleness is accepted",
			// §5.2.1.2: "If no value is assigned to max-stale, then the client
			// will accept a stale response of any age."
			Steps: reused(ok("Cache-Control", "max-age=1"), 10*sec, get("Cache-Control", "max-stale")),
		},
		{
			ID: "req-max-stale-exceeded", RFC: "9111", Section: "4.2.4", Level: "MUST",
			Name: "request max-stale smaller than the staleness: not served stale",
			// §4.2.4: "A cache MUST NOT generate a stale response unless it is
			// disconnected or doing so is explicitly permitted by the client or
			// origin server (e.g., by the max-stale request directive …)"
			Steps: notReused(ok("Cache-Control", "max-age=1"), 10*sec, get("Cache-Control", "max-stale=2")),
		},
		{
			ID: "req-min-fresh-too-little", RFC: "9111", Section: "5.2.1.3", Level: "MAY",
			Name: "request min-fresh beyond the remaining freshness: not reused",
			// §5.2.1.3: "The min-fresh request directive indicates that the client
			// prefers a response whose freshness lifetime is no less than its
			// current age plus the specified time in seconds."
			Steps: notReused(ok("Cache-Control", "max-age=10"), 2*sec, get("Cache-Control", "min-fresh=60")),
		},
		{
			ID: "req-min-fresh-enough", RFC: "9111", Section: "5.2.1.3", Level: "MAY",
			Name: "request min-fresh within the remaining freshness: reused",
			// §5.2.1.3, as above.
			Steps: reused(maxAge, 2*sec, get("Cache-Control", "min-fresh=60")),
		},
		{
			ID: "req-only-if-cached-miss", RFC: "9111", Section: "5.2.1.7", Level: "SHOULD",
			Name: "only-if-cached with nothing stored: 504, origin not contacted",
			// §5.2.1.7: "Caches that honor this request directive SHOULD, upon
			// receiving it, respond with either a stored response consistent with
			// the other constraints of the request or a 504 (Gateway Timeout)
			// status code."
			Steps: []Step{
				{Request: get("Cache-Control", "only-if-cached"), Response: maxAge, Expect: Expect{Origin: None, Status: 504}},
			},
		},
		{
			ID: "req-only-if-cached-hit", RFC: "9111", Section: "5.2.1.7", Level: "SHOULD",
			Name: "only-if-cached with a fresh stored response: served",
			// §5.2.1.7, as above.
			Steps: reused(maxAge, sec, get("Cache-Control", "only-if-cached")),
		},
		{
			ID: "req-only-if-cached-stale", RFC: "9111", Section: "5.2.1.7", Level: "SHOULD",
			Name: "only-if-cached with only a stale response: 504, origin not contacted",
			// §5.2.1.7, as above: a stale response is not "consistent with the
			// other constraints of the request" (§4.2.4 forbids serving it).
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1"), Expect: fetched(1)},
				{Pause: 3 * sec, Request: get("Cache-Control", "only-if-cached"), Expect: Expect{Origin: None, Status: 504}},
			},
		},
		{
			ID: "req-only-if-cached-max-stale", RFC: "9111", Section: "5.2.1.7", Level: "SHOULD",
			Name: "only-if-cached with max-stale: the stale response is served",
			// §5.2.1.7, as above, with the client's max-stale permitting it.
			Steps: reused(ok("Cache-Control", "max-age=1"), 3*sec, get("Cache-Control", "only-if-cached, max-stale=60")),
		},
		{
			ID: "req-unknown-directive-ignored", RFC: "9111", Section: "5.2.3", Level: "MUST",
			Name: "an unknown request directive is ignored",
			// §5.2.3: "A cache MUST ignore unrecognized cache directives."
			Steps: reused(maxAge, sec, get("Cache-Control", "x-edgetest-unknown, x-other=\"a,b\"")),
		},

		// §5.2.2 Response directives
		{
			ID: "resp-no-cache", RFC: "9111", Section: "5.2.2.4", Level: "MUST",
			Name: "response no-cache: every reuse is validated with the origin",
			// §5.2.2.4: "The no-cache response directive, in its unqualified form
			// (without an argument), indicates that the response MUST NOT be used
			// to satisfy any other request without forwarding it for validation
			// and receiving a successful response"
			Steps: notReused(ok("Cache-Control", "no-cache, max-age=3600", "ETag", `"v1"`), 0, get()),
		},
		{
			ID: "resp-no-cache-304-reuses", RFC: "9111", Section: "5.2.2.4", Level: "MAY",
			Name: "response no-cache with ETag: a 304 lets the stored body be reused",
			// §5.2.2.4: "… without forwarding it for validation and receiving a
			// successful response" (validation, then reuse).
			Steps: []Step{
				{Response: ok("Cache-Control", "no-cache", "ETag", `"v1"`), Expect: fetched(1)},
				{Response: status(304, "Cache-Control", "no-cache", "ETag", `"v1"`), Expect: Expect{Origin: Conditional, Status: 200, BodyOf: 1}},
			},
		},
		{
			ID: "resp-no-cache-qualified", RFC: "9111", Section: "5.2.2.4", Level: "MUST",
			Name: "no-cache=\"X-Secret\": a reused response lacks X-Secret",
			// §5.2.2.4: "If the no-cache response directive specifies one or more
			// field names, then a cache MAY use the response to satisfy a
			// subsequent request … However, any header fields in the response
			// that have the field name(s) listed MUST NOT be sent in the response
			// to a subsequent request without successful revalidation"
			Steps: []Step{
				{Response: ok("Cache-Control", `max-age=3600, no-cache="X-Secret"`, "X-Secret", "s3cr3t"), Expect: fetched(1)},
				{Response: ok("Cache-Control", `max-age=3600, no-cache="X-Secret"`),
					Expect: Expect{Status: 200, Header: []FieldCheck{{"X-Secret", Absent, ""}}}},
			},
		},
		{
			ID: "resp-no-cache-qualified-two", RFC: "9111", Section: "5.2.2.4", Level: "MUST",
			Name: "no-cache=\"X-A, X-B\": a reused response lacks both",
			// §5.2.2.4, as above.
			Steps: []Step{
				{Response: ok("Cache-Control", `no-cache="X-A, X-B", max-age=3600`, "X-A", "1", "X-B", "2"), Expect: fetched(1)},
				{Response: ok("Cache-Control", `no-cache="X-A, X-B", max-age=3600`),
					Expect: Expect{Status: 200, Header: []FieldCheck{{"X-A", Absent, ""}, {"X-B", Absent, ""}}}},
			},
		},
		{
			ID: "resp-no-cache-qualified-reused", RFC: "9111", Section: "5.2.2.4", Level: "MAY",
			Name: "no-cache with field names: the rest of the response may be reused",
			// §5.2.2.4: "… then a cache MAY use the response to satisfy a
			// subsequent request, subject to any other restrictions on caching."
			Steps: reused(ok("Cache-Control", `max-age=3600, no-cache="X-Secret"`, "X-Secret", "s"), 0, get()),
		},
		{
			ID: "resp-no-store-uppercase", RFC: "9111", Section: "5.2", Level: "MUST",
			Name: "response NO-STORE (directive names are case-insensitive)",
			// §5.2: "Cache directives are identified by a token, to be compared
			// case-insensitively"; §3 no-store.
			Steps: notReused(ok("Cache-Control", "Max-Age=3600, NO-STORE"), 0, get()),
		},
		{
			ID: "resp-private-uppercase", RFC: "9111", Section: "5.2", Level: "MUST",
			Name: "response PRIVATE (case-insensitive) is not stored by a shared cache",
			// §5.2 and §5.2.2.7, as above.
			Steps: notReused(ok("Cache-Control", "PRIVATE, max-age=3600"), 0, get()),
		},
		{
			ID: "resp-max-age-uppercase", RFC: "9111", Section: "5.2", Level: "MUST",
			Name: "response MAX-AGE (case-insensitive) gives freshness",
			// §5.2: "… to be compared case-insensitively"
			Steps: reused(ok("Cache-Control", "MAX-AGE=3600"), sec, get()),
		},
		{
			ID: "resp-max-age-quoted", RFC: "9111", Section: "5.2", Level: "MAY",
			Name: "max-age=\"3600\" (quoted-string form) is accepted",
			// §5.2: "For the directives defined below that define arguments,
			// recipients ought to accept both forms, even if a specific form is
			// required for generation."
			Steps: reused(ok("Cache-Control", `max-age="3600"`), sec, get()),
		},
		{
			ID: "resp-private-qualified-token", RFC: "9111", Section: "5.2.2.7", Level: "MUST",
			Name: "private=X-Secret (token form): a reused response lacks X-Secret",
			// §5.2.2.7: "… a shared cache MUST NOT store the field names listed in
			// the private directive"; §5.2: recipients accept both argument forms.
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600, private=X-Secret", "X-Secret", "s3cr3t"), Expect: fetched(1)},
				{Response: ok("Cache-Control", "max-age=3600, private=X-Secret"),
					Expect: Expect{Status: 200, Header: []FieldCheck{{"X-Secret", Absent, ""}}}},
			},
		},
		{
			ID: "resp-must-revalidate-fresh", RFC: "9111", Section: "5.2.2.2", Level: "MAY",
			Name: "must-revalidate does not stop reuse while fresh",
			// §5.2.2.2: "once the response has become stale, a cache MUST NOT
			// reuse that response …" (fresh reuse is unaffected).
			Steps: reused(ok("Cache-Control", "max-age=3600, must-revalidate"), sec, get()),
		},
		{
			ID: "resp-must-revalidate-stale", RFC: "9111", Section: "5.2.2.2", Level: "MUST",
			Name: "must-revalidate: a stale response is validated before reuse",
			// §5.2.2.2, as above.
			Steps: notReused(ok("Cache-Control", "max-age=1, must-revalidate"), 3*sec, get()),
		},
		{
			ID: "resp-unknown-directive-ignored", RFC: "9111", Section: "5.2.3", Level: "MUST",
			Name: "unknown response directives are ignored",
			// §5.2.3: "A cache MUST ignore unrecognized cache directives."
			Steps: reused(ok("Cache-Control", `x-edgetest, max-age=3600, x-edgetest-arg="a, no-store"`), sec, get()),
		},
		{
			ID: "resp-public-heuristic", RFC: "9111", Section: "5.2.2.9", Level: "MAY",
			Name: "public alone on a 200 with Last-Modified: heuristically reused",
			// §5.2.2.9: "The public response directive indicates that a cache MAY
			// store the response even if it would otherwise be prohibited"
			Steps: reused(ok("Cache-Control", "public", "Last-Modified", "{{date:-100000}}"), sec, get()),
		},
		{
			ID: "resp-pragma-no-cache-ignored", RFC: "9111", Section: "5.4", Level: "MAY",
			Name: "Pragma: no-cache in a response with max-age has no defined meaning",
			// §5.4: "Note: Because the meaning of "Pragma: no-cache" in responses
			// is not specified, it does not provide a reliable replacement for
			// "Cache-Control: no-cache" in them."
			Steps: reused(ok("Cache-Control", "max-age=3600", "Pragma", "no-cache"), sec, get()),
		},

		{
			ID: "resp-no-transform", RFC: "9111", Section: "5.2.2.6", Level: "MUST",
			Name: "no-transform: a hit carries the stored content and its Content-Type and Content-Encoding unchanged",
			// §5.2.2.6: "The no-transform response directive indicates that an
			// intermediary (regardless of whether it implements a cache) MUST NOT
			// transform the content (as defined in Section 7.7 of [HTTP])."
			Steps: []Step{
				{Response: Response{Status: 200, Body: "<p>  spaces  </p>", Header: hdr("Cache-Control", "max-age=3600, no-transform",
					"Content-Type", "text/html; charset=iso-8859-1", "Content-Encoding", "identity")}, Expect: fetched(1)},
				{Request: get("Accept-Encoding", "gzip, br"), Expect: hit(1).with(
					FieldCheck{"Content-Type", Equal, "text/html; charset=iso-8859-1"}, FieldCheck{"Content-Encoding", Equal, "identity"})},
			},
		},

		// §5.3 Expires
		{
			ID: "expires-zero", RFC: "9111", Section: "5.3", Level: "MUST",
			Name: "Expires: 0 is already expired",
			// §5.3: "A cache recipient MUST interpret invalid date formats,
			// especially the value "0", as representing a time in the past
			// (i.e., "already expired")."
			Steps: notReused(ok("Expires", "0"), 0, get()),
		},
		{
			ID: "expires-garbage", RFC: "9111", Section: "5.3", Level: "MUST",
			Name: "an unparsable Expires is already expired",
			// §5.3, as above.
			Steps: notReused(ok("Expires", "next tuesday"), 0, get()),
		},
		{
			ID: "expires-empty", RFC: "9111", Section: "5.3", Level: "MUST",
			Name: "an empty Expires is already expired",
			// §5.3, as above.
			Steps: notReused(ok("Expires", ""), 0, get()),
		},
		{
			ID: "expires-invalid-with-public", RFC: "9111", Section: "5.3", Level: "MUST",
			Name: "an invalid Expires with public and Last-Modified is still expired (no heuristic)",
			// §5.3, as above; §4.2.2: no heuristic when an explicit expiration is present.
			Steps: notReused(ok("Cache-Control", "public", "Expires", "-1", "Last-Modified", "{{date:-100000}}"), 0, get()),
		},
		{
			ID: "expires-numeric-timezone", RFC: "9111", Section: "5.3", Level: "MUST",
			Name: "an Expires with a numeric zone (not an HTTP-date) is expired",
			// §5.3, as above ("invalid date formats").
			Steps: notReused(ok("Expires", "Fri, 02 Jan 2099 03:04:05 +0000"), 0, get()),
		},
	}
}

// Malformed and conflicting input (issue 15 "Bad input"): what the RFCs say
// to do with broken Cache-Control, Date, Vary and ETag values. (Expires and
// Age are under §5.1 and §5.3 above.)
func cases9111BadInput() []Case {
	return []Case{
		{
			ID: "bad-cc-empty-elements", RFC: "9111", Section: "5.2", Level: "MUST",
			Name: "Cache-Control with empty list elements is still parsed",
			// RFC 9110 §5.6.1.2: "a recipient MUST parse and ignore a reasonable
			// number of empty list elements"; Cache-Control is a list (§5.2).
			Steps: reused(ok("Cache-Control", ", ,max-age=3600 , ,"), sec, get()),
		},
		{
			ID: "bad-cc-empty-elements-no-store", RFC: "9111", Section: "5.2", Level: "MUST",
			Name: "no-store among empty list elements still forbids storing",
			// RFC 9110 §5.6.1.2 as above; §3 no-store.
			Steps: notReused(ok("Cache-Control", "max-age=3600,,, ,no-store,"), 0, get()),
		},
		{
			ID: "bad-cc-empty", RFC: "9111", Section: "5.2", Level: "MAY",
			Name: "an empty Cache-Control with Expires: Expires applies",
			// §5.2 / §4.2.1: no directive present, so Expires gives the lifetime.
			Steps: reused(ok("Cache-Control", "", "Expires", "{{date:3600}}"), sec, get()),
		},
		{
			ID: "bad-cc-negative-max-age", RFC: "9111", Section: "4.2.1", Level: "MAY",
			Name: "max-age=-1 is invalid freshness: stale",
			// §4.2.1: "Caches are encouraged to consider responses that have
			// invalid freshness information … to be stale."
			Steps: notReused(ok("Cache-Control", "max-age=-1"), 0, get()),
		},
		{
			ID: "bad-cc-fraction-max-age", RFC: "9111", Section: "4.2.1", Level: "MAY",
			Name: "max-age=1.5 is invalid freshness: stale",
			// §4.2.1, as above.
			Steps: notReused(ok("Cache-Control", "max-age=1.5"), 0, get()),
		},
		{
			ID: "bad-cc-empty-max-age", RFC: "9111", Section: "4.2.1", Level: "MAY",
			Name: "max-age= (no value) is invalid freshness: stale",
			// §4.2.1, as above.
			Steps: notReused(ok("Cache-Control", "max-age="), 0, get()),
		},
		{
			ID: "bad-cc-invalid-max-age-with-expires", RFC: "9111", Section: "4.2.1", Level: "MAY",
			Name: "an invalid max-age with a future Expires: stale, not Expires",
			// §4.2.1, as above: the response has invalid freshness information
			// (and §5.3: "If a response includes a Cache-Control header field
			// with the max-age directive, a recipient MUST ignore the Expires").
			Steps: notReused(ok("Cache-Control", "max-age=soon", "Expires", "{{date:3600}}"), 0, get()),
		},
		{
			ID: "bad-cc-invalid-s-maxage", RFC: "9111", Section: "4.2.1", Level: "MAY",
			Name: "an invalid s-maxage with a valid max-age: stale",
			// §4.2.1, as above.
			Steps: notReused(ok("Cache-Control", "s-maxage=x, max-age=3600"), 0, get()),
		},
		{
			ID: "bad-cc-spaces-around-equals", RFC: "9111", Section: "5.2", Level: "MAY",
			Name: "max-age = 3600 (spaces, not the directive syntax) is not a valid lifetime",
			// §5.2: cache-directive = token [ "=" ( token / quoted-string ) ] —
			// no whitespace around "="; §4.2.1: invalid freshness → stale.
			Steps: notReused(ok("Cache-Control", "max-age = 3600"), 0, get()),
		},
		{
			ID: "bad-cc-unterminated-quote", RFC: "9111", Section: "5.2", Level: "MAY",
			Name: "an unterminated quoted argument: no crash, the response is served",
			// §5.2: cache-directive = token [ "=" ( token / quoted-string ) ];
			// the RFC does not say how to recover from a broken quoted-string,
			// so only the served response is checked.
			Steps: []Step{
				{Response: ok("Cache-Control", `max-age=3600, x-a="unterminated, no-store`), Expect: Expect{Origin: Full, Status: 200, BodyOf: 1}},
				{Expect: Expect{Status: 200}},
			},
		},
		{
			ID: "bad-cc-dup-no-store-private", RFC: "9111", Section: "5.2", Level: "MUST",
			Name: "directives repeated across lines: no-store anywhere wins",
			// §3 no-store; RFC 9110 §5.3 (lines combine).
			Steps: notReused(ok("Cache-Control", "public", "Cache-Control", "max-age=3600", "Cache-Control", "no-store"), 0, get()),
		},
		{
			ID: "bad-cc-long-garbage", RFC: "9111", Section: "5.2.3", Level: "MUST",
			Name: "a long run of unknown directives is ignored",
			// §5.2.3: "A cache MUST ignore unrecognized cache directives."
			Steps: reused(ok("Cache-Control", "max-age=3600, "+garbageDirectives), sec, get()),
		},
		{
			ID: "bad-date-garbage", RFC: "9111", Section: "4.2.3", Level: "MAY",
			Name: "an unparsable Date: the time of receipt is used, the hit has a valid Age",
			// §4.2.3 date_value comes from Date; RFC 9110 §6.6.1: a recipient
			// with no valid Date uses the time it received the message.
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600", "Date", "yesterday"), Expect: Expect{Origin: Full}},
				{Pause: sec, Expect: hit(1).with(FieldCheck{"Age", AtMost, "60"})},
			},
		},
		{
			ID: "bad-date-two-lines", RFC: "9111", Section: "4.2.3", Level: "MAY",
			Name: "two Date lines: no crash, the response is served",
			// RFC 9110 §5.3 (singleton field sent twice); §4.2.3 needs one date_value.
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600", "Date", "{{date:0}}", "Date", "{{date:-3600}}"), Expect: Expect{Origin: Full, Status: 200, BodyOf: 1}},
				{Expect: Expect{Status: 200}},
			},
		},
		{
			ID: "bad-vary-garbage-field", RFC: "9111", Section: "4.1", Level: "MAY",
			Name: "Vary naming a malformed field name: no crash; matching requests reuse",
			// §4.1: the nominated field ("a b" is no valid field-name) is absent
			// from both requests, so they match.
			Steps: reused(ok("Cache-Control", "max-age=3600", "Vary", "a b, {}"), sec, get()),
		},
		{
			ID: "bad-vary-empty", RFC: "9111", Section: "4.1", Level: "MAY",
			Name: "an empty Vary nominates nothing: reused",
			// §4.1: an empty list nominates no request field.
			Steps: reused(ok("Cache-Control", "max-age=3600", "Vary", ""), sec, get()),
		},
		{
			ID: "bad-etag-unquoted", RFC: "9111", Section: "4.3.1", Level: "MAY",
			Name: "an unquoted ETag: no crash; revalidation still gets a usable response",
			// §4.3.1 sends "the relevant entity tag"; an invalid one (RFC 9110
			// §8.8.3 requires quotes) may be sent as is or not at all.
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1", "ETag", "v1"), Expect: fetched(1)},
				{Pause: 3 * sec, Response: ok("Cache-Control", "max-age=1", "ETag", "v1"), Expect: Expect{Origin: Forwarded, Status: 200}},
			},
		},
		{
			ID: "bad-etag-client-garbage", RFC: "9111", Section: "4.3.2", Level: "MAY",
			Name: "a client's garbage If-None-Match does not match: the stored 200",
			// §4.3.2 with RFC 9110 §13.1.2: an unparsable entity tag matches nothing.
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600", "ETag", `"v1"`), Expect: fetched(1)},
				{Request: get("If-None-Match", `v1, "v1`), Expect: Expect{Status: 200, BodyOf: 1}},
			},
		},
		{
			ID: "bad-ims-garbage", RFC: "9111", Section: "4.3.2", Level: "SHOULD",
			Name: "a client's invalid If-Modified-Since is ignored: the stored 200",
			// §4.3.2: the cache "SHOULD evaluate any applicable conditional header
			// field preconditions"; RFC 9110 §13.1.3: "A recipient MUST ignore the
			// If-Modified-Since header field if the received field value is not a
			// valid HTTP-date"
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600", "Last-Modified", "Tue, 01 Dec 2020 00:00:00 GMT"), Expect: fetched(1)},
				{Request: get("If-Modified-Since", "tomorrow"), Expect: Expect{Status: 200, BodyOf: 1}},
			},
		},
	}
}

// garbageDirectives is a long Cache-Control tail of unknown directives.
var garbageDirectives = func() string {
	s := "x-0"
	for i := 1; i < 200; i++ {
		s += ", x-" + string(rune('a'+i%26)) + "=\"" + string(rune('a'+i%26)) + ";,\""
	}
	return s
}()
