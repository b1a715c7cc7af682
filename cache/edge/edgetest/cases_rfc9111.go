package edgetest

// cases9111 are the RFC 9111 (HTTP Caching) requirements that apply to a
// shared cache, by section: §3 storing, §4 constructing responses from
// caches, §5 header fields (cases_rfc9111_fields.go) and malformed input
// (cases_badinput.go).
func cases9111() []Case {
	var all []Case
	for _, f := range []func() []Case{cases9111Storing, cases9111Vary, cases9111Freshness,
		cases9111Validation, cases9111Invalidation, cases9111Fields, cases9111BadInput} {
		all = append(all, f()...)
	}
	return all
}

// §3 Storing Responses in Caches.
func cases9111Storing() []Case {
	return []Case{
		{
			ID: "store-max-age", RFC: "9111", Section: "3", Level: "MAY",
			Name: "a 200 with max-age is stored and reused while fresh",
			// §3: "A cache MUST NOT store a response to a request unless: … the
			// response contains at least one of: … a max-age response directive"
			// (storing is then allowed, not required).
			Steps: reused(ok("Cache-Control", "max-age=3600"), 2*sec, get()),
		},
		{
			ID: "store-s-maxage", RFC: "9111", Section: "3", Level: "MAY",
			Name: "a 200 with s-maxage only is stored by a shared cache",
			// §3: "… the response contains at least one of: … if the cache is
			// shared: an s-maxage response directive"
			Steps: reused(ok("Cache-Control", "s-maxage=3600"), 2*sec, get()),
		},
		{
			ID: "store-expires", RFC: "9111", Section: "3", Level: "MAY",
			Name: "a 200 with a future Expires is stored",
			// §3: "… the response contains at least one of: … an Expires header field"
			Steps: reused(ok("Expires", "{{date:3600}}"), 2*sec, get()),
		},
		{
			ID: "store-public-only", RFC: "9111", Section: "3", Level: "MAY",
			Name: "a 200 with only public and Last-Modified is stored (heuristic freshness)",
			// §3: "… the response contains at least one of: a public response directive"
			Steps: reused(ok("Cache-Control", "public", "Last-Modified", "{{date:-100000}}"), 2*sec, get()),
		},
		{
			ID: "store-no-store-response", RFC: "9111", Section: "3", Level: "MUST",
			Name: "a response with no-store is not stored",
			// §3: "A cache MUST NOT store a response to a request unless: … the
			// no-store cache directive is not present in the response"
			Steps: notReused(ok("Cache-Control", "max-age=3600, no-store"), 0, get()),
		},
		{
			ID: "store-no-store-second-line", RFC: "9111", Section: "3", Level: "MUST",
			Name: "no-store in a second Cache-Control field line still forbids storing",
			// §3 as above; RFC 9110 §5.3: a recipient MAY combine field lines
			// with the same name into one list, so the second line counts.
			Steps: notReused(ok("Cache-Control", "max-age=3600", "Cache-Control", "no-store"), 0, get()),
		},
		{
			ID: "store-no-store-over-public", RFC: "9111", Section: "3", Level: "MUST",
			Name: "no-store wins over public and s-maxage",
			// §3: "… the no-store cache directive is not present in the response"
			Steps: notReused(ok("Cache-Control", "public, s-maxage=3600, no-store"), 0, get()),
		},
		{
			ID: "store-private", RFC: "9111", Section: "3", Level: "MUST",
			Name: "a shared cache does not store a private response",
			// §3: "… if the cache is shared: the private response directive is
			// either not present or allows a shared cache to store a modified response"
			Steps: notReused(ok("Cache-Control", "private, max-age=3600"), 0, get()),
		},
		{
			ID: "store-private-with-s-maxage", RFC: "9111", Section: "5.2.2.7", Level: "MUST",
			Name: "private forbids shared storing even with s-maxage and public",
			// §5.2.2.7: "The unqualified private response directive indicates that
			// a shared cache MUST NOT store the response"
			Steps: notReused(ok("Cache-Control", "public, private, s-maxage=3600"), 0, get()),
		},
		{
			ID: "store-private-qualified", RFC: "9111", Section: "5.2.2.7", Level: "MUST",
			Name: "private=\"X-Secret\": a reused response lacks X-Secret",
			// §5.2.2.7: "If a qualified private response directive is present …
			// a shared cache MUST NOT store the field names listed in the
			// private directive" (the origin's step-2 answer has no X-Secret,
			// so a cache that refetches passes too).
			Steps: []Step{
				{Response: ok("Cache-Control", `max-age=3600, private="X-Secret"`, "X-Secret", "s3cr3t"), Expect: fetched(1)},
				{Response: ok("Cache-Control", `max-age=3600, private="X-Secret"`),
					Expect: Expect{Status: 200, Header: []FieldCheck{{"X-Secret", Absent, ""}}}},
			},
		},
		{
			ID: "store-authorization", RFC: "9111", Section: "3.5", Level: "MUST",
			Name: "a response to a request with Authorization is not reused by a shared cache",
			// §3.5: "A shared cache MUST NOT use a cached response to a request
			// with an Authorization header field … to satisfy any subsequent
			// request unless the response contains a Cache-Control field with a
			// response directive … that allows it to be stored by a shared cache"
			Steps: []Step{
				{Request: get("Authorization", "Bearer a"), Response: ok("Cache-Control", "max-age=3600"), Expect: fetched(1)},
				{Expect: forwarded(2)},
			},
		},
		{
			ID: "store-authorization-public", RFC: "9111", Section: "3.5", Level: "MAY",
			Name: "Authorization with public: the shared cache may reuse",
			// §3.5: "… unless the response contains a Cache-Control field with a
			// response directive (Section 5.2.2) that allows it to be stored by a
			// shared cache, and the cache conforms to the requirements of that
			// directive for that response."
			Steps: []Step{
				{Request: get("Authorization", "Bearer a"), Response: ok("Cache-Control", "public, max-age=3600"), Expect: fetched(1)},
				{Request: get("Authorization", "Bearer a"), Expect: hit(1)},
			},
		},
		{
			ID: "store-authorization-s-maxage", RFC: "9111", Section: "3.5", Level: "MAY",
			Name: "Authorization with s-maxage: the shared cache may reuse",
			// §3.5, as above; §5.2.2.10 s-maxage "permits a shared cache to
			// reuse a response to a request containing an Authorization header field"
			Steps: []Step{
				{Request: get("Authorization", "Bearer a"), Response: ok("Cache-Control", "s-maxage=3600"), Expect: fetched(1)},
				{Request: get("Authorization", "Bearer a"), Expect: hit(1)},
			},
		},
		{
			ID: "store-authorization-must-revalidate", RFC: "9111", Section: "3.5", Level: "MAY",
			Name: "Authorization with must-revalidate and max-age: the shared cache may reuse while fresh",
			// §5.2.2.2: "The must-revalidate directive also permits a shared
			// cache to reuse a response to a request containing an Authorization
			// header field …, subject to the above requirement on revalidation"
			Steps: []Step{
				{Request: get("Authorization", "Bearer a"), Response: ok("Cache-Control", "max-age=3600, must-revalidate"), Expect: fetched(1)},
				{Request: get("Authorization", "Bearer a"), Expect: hit(1)},
			},
		},
		{
			ID: "store-authorization-max-age-only", RFC: "9111", Section: "3.5", Level: "MUST",
			Name: "Authorization with only max-age: the next request with other credentials reaches the origin",
			// §3.5: "A shared cache MUST NOT use a cached response to a request
			// with an Authorization header field … to satisfy any subsequent request unless …"
			Steps: []Step{
				{Request: get("Authorization", "Bearer a"), Response: ok("Cache-Control", "max-age=3600"), Expect: fetched(1)},
				{Request: get("Authorization", "Bearer b"), Expect: forwarded(2)},
			},
		},
		{
			ID: "store-unknown-method", RFC: "9111", Section: "3", Level: "MUST",
			Name: "a response to an unknown method is not stored",
			// §3: "A cache MUST NOT store a response to a request unless: the
			// request method is understood by the cache"
			Steps: notReused(ok("Cache-Control", "max-age=3600"), 0, Request{Method: "FROB"}),
		},
		{
			ID: "store-post-not-for-get", RFC: "9111", Section: "4", Level: "MUST",
			Name: "a POST response is not used for a later GET",
			// §4: "When presented with a request, a cache MUST NOT reuse a stored
			// response unless: … the request method associated with the stored
			// response allows it to be used for the presented request"
			Steps: []Step{
				{Request: Request{Method: "POST", Body: "x"}, Response: ok("Cache-Control", "max-age=3600"), Expect: fetched(1)},
				{Expect: forwarded(2)},
			},
		},
		{
			ID: "store-302-no-freshness", RFC: "9111", Section: "3", Level: "MUST",
			Name: "a 302 without explicit freshness is not stored (not heuristically cacheable)",
			// §3: "… the response contains at least one of: … a status code that
			// is defined as heuristically cacheable" — 302 is not (RFC 9110 §15.1).
			Steps: []Step{
				{Response: status(302, "Location", "{{base}}/x", "Last-Modified", "{{date:-100000}}"), Expect: Expect{Origin: Full, Status: 302}},
				{Expect: Expect{Origin: Full, Status: 302}},
			},
		},
		{
			ID: "store-201-no-freshness", RFC: "9111", Section: "3", Level: "MUST",
			Name: "a 201 without explicit freshness is not stored",
			// §3: "… a status code that is defined as heuristically cacheable" — 201 is not.
			Steps: []Step{
				{Response: status(201, "Last-Modified", "{{date:-100000}}"), Expect: Expect{Origin: Full, Status: 201}},
				{Expect: Expect{Origin: Full, Status: 201, BodyOf: 2}},
			},
		},
		{
			ID: "store-302-max-age", RFC: "9111", Section: "3", Level: "MAY",
			Name: "a 302 with max-age is stored",
			// §3: "… a max-age response directive" makes any final status storable.
			Steps: []Step{
				{Response: status(302, "Location", "{{base}}/x", "Cache-Control", "max-age=3600"), Expect: Expect{Origin: Full, Status: 302}},
				{Expect: Expect{Origin: None, Status: 302, BodyOf: 1}},
			},
		},
		{
			ID: "store-500-max-age", RFC: "9111", Section: "3", Level: "MAY",
			Name: "a 500 with max-age may be stored",
			// §3: final status with max-age is storable.
			Steps: []Step{
				{Response: status(500, "Cache-Control", "max-age=3600"), Expect: Expect{Origin: Full, Status: 500}},
				{Expect: Expect{Origin: None, Status: 500, BodyOf: 1}},
			},
		},
		{
			ID: "store-404-heuristic", RFC: "9111", Section: "4.2.2", Level: "MAY",
			Name: "a 404 with Last-Modified is heuristically cacheable",
			// §4.2.2: "a cache MAY assign a heuristic expiration time when an
			// explicit time is not specified" (404 is heuristically cacheable, RFC 9110 §15.1).
			Steps: []Step{
				{Response: status(404, "Last-Modified", "{{date:-100000}}"), Expect: Expect{Origin: Full, Status: 404}},
				{Pause: 2 * sec, Expect: Expect{Origin: None, Status: 404, BodyOf: 1}},
			},
		},
		{
			ID: "store-301-heuristic", RFC: "9111", Section: "4.2.2", Level: "MAY",
			Name: "a 301 with Last-Modified is heuristically cacheable",
			// §4.2.2 as above (301 is heuristically cacheable).
			Steps: []Step{
				{Response: status(301, "Location", "{{base}}/x", "Last-Modified", "{{date:-100000}}"), Expect: Expect{Origin: Full, Status: 301}},
				{Pause: 2 * sec, Expect: Expect{Origin: None, Status: 301, BodyOf: 1}},
			},
		},
		{
			ID: "store-must-understand-unknown-status", RFC: "9111", Section: "5.2.2.3", Level: "MUST",
			Name: "must-understand with an unknown status code: not stored",
			// §3: "… if the response status code is 206 or 304, or the
			// must-understand cache directive (see Section 5.2.2.3) is present:
			// the cache understands the response status code"
			Steps: []Step{
				{Response: status(299, "Cache-Control", "max-age=3600, must-understand"), Expect: Expect{Origin: Full, Status: 299}},
				{Expect: Expect{Origin: Full, Status: 299, BodyOf: 2}},
			},
		},
		{
			ID: "store-must-understand-200-no-store", RFC: "9111", Section: "5.2.2.3", Level: "SHOULD",
			Name: "must-understand with a known 200: no-store is ignored",
			// §5.2.2.3: "When a cache that implements the must-understand
			// directive receives a response that includes it, the cache SHOULD
			// ignore the no-store directive if it understands the status code."
			Steps: reused(ok("Cache-Control", "max-age=3600, must-understand, no-store"), sec, get()),
		},
		{
			ID: "store-keeps-unknown-fields", RFC: "9111", Section: "3.1", Level: "MUST",
			Name: "a reused response carries the unrecognized header fields it was stored with",
			// §3.1: "Caches MUST include all received response header fields —
			// including unrecognized ones — when storing a response"
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600", "X-Edgetest-Unknown", "kept"), Expect: fetched(1)},
				{Expect: Expect{Status: 200, Header: []FieldCheck{{"X-Edgetest-Unknown", Equal, "kept"}}}},
			},
		},
		{
			ID: "store-incomplete-not-reused", RFC: "9111", Section: "3.3", Level: "MUST",
			Name: "a response cut short of its Content-Length is not reused",
			// §3.3: "A cache MUST NOT use an incomplete response to answer
			// requests unless the response has been made complete or the
			// request is partial and specifies a range wholly within the
			// incomplete response."
			Steps: []Step{
				{Response: Response{Status: 200, Header: hdr("Cache-Control", "max-age=3600", "Content-Length", "100"), Body: "short"},
					Expect: Expect{AllowCut: true}},
				{Response: ok("Cache-Control", "max-age=3600"), Expect: Expect{Origin: Full, Status: 200, BodyOf: 2}},
			},
		},
		{
			ID: "uri-query-differs", RFC: "9111", Section: "4", Level: "MUST",
			Name: "a different query string is a different target URI",
			// §4: "When presented with a request, a cache MUST NOT reuse a stored
			// response unless: the presented target URI … and that of the stored
			// response match"
			Steps: []Step{
				{Request: Request{Path: "?a=1"}, Response: ok("Cache-Control", "max-age=3600"), Expect: fetched(1)},
				{Request: Request{Path: "?a=2"}, Expect: forwarded(2)},
			},
		},
		{
			ID: "uri-path-differs", RFC: "9111", Section: "4", Level: "MUST",
			Name: "a different path is a different target URI",
			// §4, as above.
			Steps: []Step{
				{Request: Request{Path: "/a"}, Response: ok("Cache-Control", "max-age=3600"), Expect: fetched(1)},
				{Request: Request{Path: "/b"}, Expect: forwarded(2)},
			},
		},
		{
			ID: "uri-query-same", RFC: "9111", Section: "4", Level: "MAY",
			Name: "the same query string reuses the stored response",
			// §4.2.2 Note: caches may use a query string URI's response like any other.
			Steps: []Step{
				{Request: Request{Path: "?a=1&b=2"}, Response: ok("Cache-Control", "max-age=3600"), Expect: fetched(1)},
				{Request: Request{Path: "?a=1&b=2"}, Expect: hit(1)},
			},
		},
		{
			ID: "age-generated-on-hit", RFC: "9111", Section: "4", Level: "MUST",
			Name: "a hit carries Age equal to the time it spent in the cache",
			// §4: "When a stored response is used to satisfy a request without
			// validation, a cache MUST generate an Age header field (Section
			// 5.1), replacing any present in the response with a value equal
			// to the stored response's current_age"
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600"), Expect: fetched(1)},
				{Pause: 3 * sec, Expect: hit(1).with(FieldCheck{"Age", AtLeast, "3"}, FieldCheck{"Age", AtMost, "60"})},
			},
		},
		{
			ID: "age-includes-received-age", RFC: "9111", Section: "4.2.3", Level: "MUST",
			Name: "Age on a hit includes the Age the origin sent",
			// §4.2.3: "corrected_age_value = age_value + response_delay;
			// corrected_initial_age = max(apparent_age, corrected_age_value)";
			// §4: Age "MUST" equal current_age.
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600", "Age", "100"), Expect: Expect{Origin: Full}},
				{Pause: sec, Expect: hit(1).with(FieldCheck{"Age", AtLeast, "101"})},
			},
		},
		{
			ID: "age-includes-apparent-age", RFC: "9111", Section: "4.2.3", Level: "MUST",
			Name: "Age on a hit includes the apparent age from an old Date",
			// §4.2.3: "apparent_age = max(0, response_time - date_value)"
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600", "Date", "{{date:-100}}"), Expect: Expect{Origin: Full}},
				{Pause: sec, Expect: hit(1).with(FieldCheck{"Age", AtLeast, "100"})},
			},
		},
		{
			ID: "age-includes-response-delay", RFC: "9111", Section: "4.2.3", Level: "MUST",
			Name: "Age on a hit includes the response delay when the origin sent Age",
			// §4.2.3: "response_delay = response_time - request_time;
			// corrected_age_value = age_value + response_delay"
			Steps: []Step{
				{Response: Response{Status: 200, Header: hdr("Cache-Control", "max-age=3600", "Age", "1"), Delay: 3 * sec}, Expect: Expect{Origin: Full}},
				{Expect: hit(1).with(FieldCheck{"Age", AtLeast, "4"})},
			},
		},
		{
			ID: "unsafe-write-through", RFC: "9111", Section: "4", Level: "MUST",
			Name: "a POST to a stored URI is forwarded to the origin",
			// §4: "A cache MUST write through requests with methods that are
			// unsafe (Section 9.2.1 of [HTTP]) to the origin server"
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600"), Expect: fetched(1)},
				{Request: Request{Method: "POST", Body: "x"}, Response: ok(), Expect: Expect{Origin: Full, BodyOf: 2}},
			},
		},
		{
			ID: "head-from-stored-get", RFC: "9111", Section: "4", Level: "MAY",
			Name: "a HEAD is answered from a stored GET response, without a body",
			// §4: "the request method associated with the stored response
			// allows it to be used for the presented request" (a GET response
			// can answer HEAD: RFC 9110 §9.3.2).
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600", "X-Edgetest", "1"), Expect: fetched(1)},
				{Request: Request{Method: "HEAD"}, Expect: Expect{Origin: None, Status: 200, EmptyBody: true,
					Header: []FieldCheck{{"X-Edgetest", Equal, "1"}, {"Age", AtLeast, "0"}}, CacheStatus: []string{"hit"}}},
				{Expect: hit(1)},
			},
		},
	}
}
