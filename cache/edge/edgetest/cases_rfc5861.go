package edgetest

// cases5861 are RFC 5861 (HTTP Cache-Control Extensions for Stale Content):
// stale-while-revalidate (§3) and stale-if-error (§4).
func cases5861() []Case {
	swr := func(v string) Response { return ok("Cache-Control", v) }
	staleErr := func(code int) []Step {
		return []Step{
			{Response: ok("Cache-Control", "max-age=1, stale-if-error=60"), Expect: fetched(1)},
			{Pause: 3 * sec, Response: status(code), Expect: Expect{Origin: Forwarded, Status: 200, BodyOf: 1,
				CacheStatus: []string{"fwd=stale", "detail=origin-error"}}},
		}
	}
	return []Case{
		{
			ID: "swr-serves-stale", RFC: "5861", Section: "3", Level: "MAY",
			Name: "stale-while-revalidate: a stale response is served at once within the window",
			// §3: "When present in an HTTP response, the stale-while-revalidate
			// Cache-Control extension indicates that caches MAY serve the response
			// in which it appears after it becomes stale, up to the indicated
			// number of seconds."
			Steps: []Step{
				{Response: swr("max-age=1, stale-while-revalidate=60"), Expect: fetched(1)},
				{Pause: 3 * sec, Expect: Expect{Status: 200, BodyOf: 1, Background: true, Header: []FieldCheck{{"Age", AtLeast, "3"}}}},
			},
		},
		{
			ID: "swr-revalidates-in-background", RFC: "5861", Section: "3", Level: "SHOULD",
			Name: "stale-while-revalidate: served stale, the cache refreshes it; the next request gets the new one",
			// §3: "If a cached response is served stale due to the presence of
			// this extension, the cache SHOULD attempt to revalidate it while
			// still serving stale responses (i.e., without blocking)."
			Steps: []Step{
				{Response: swr("max-age=1, stale-while-revalidate=60"), Expect: fetched(1)},
				{Pause: 3 * sec, Response: swr("max-age=3600, stale-while-revalidate=60"), Expect: Expect{Status: 200, Background: true}},
				{Expect: hit(2)},
			},
		},
		{
			ID: "swr-revalidates-conditionally", RFC: "5861", Section: "3", Level: "SHOULD",
			Name: "stale-while-revalidate: the background refresh uses the validator; a 304 freshens",
			// §3, as above ("revalidate it"); RFC 9111 §4.3.1 "MUST send the
			// relevant entity tag".
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1, stale-while-revalidate=60", "ETag", `"v1"`), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(304, "Cache-Control", "max-age=3600, stale-while-revalidate=60", "ETag", `"v1"`),
					Expect: Expect{Status: 200, BodyOf: 1, Background: true}},
				{Expect: hit(1)},
			},
		},
		{
			ID: "swr-window-passed", RFC: "5861", Section: "3", Level: "MUST",
			Name: "past the stale-while-revalidate window the stale response is not served",
			// §3: "… up to the indicated number of seconds."; RFC 9111 §4.2.4: "A
			// cache MUST NOT generate a stale response unless it is disconnected
			// or doing so is explicitly permitted by the client or origin server"
			Steps: notReused(swr("max-age=1, stale-while-revalidate=2"), 10*sec, get()),
		},
		{
			ID: "swr-must-revalidate", RFC: "5861", Section: "3", Level: "MUST",
			Name: "stale-while-revalidate does not override must-revalidate",
			// RFC 9111 §5.2.2.2: "In all circumstances a cache MUST NOT ignore the
			// must-revalidate directive"; §4.2.4 lists must-revalidate among the
			// directives that prohibit generating a stale response.
			Steps: notReused(swr("max-age=1, must-revalidate, stale-while-revalidate=60"), 3*sec, get()),
		},
		{
			ID: "swr-no-cache-request", RFC: "5861", Section: "3", Level: "MUST",
			Name: "a request with no-cache is not answered stale-while-revalidate",
			// RFC 9111 §4: a request with no-cache needs a stored response
			// "successfully validated" before reuse.
			Steps: notReused(swr("max-age=1, stale-while-revalidate=60"), 3*sec, get("Cache-Control", "no-cache")),
		},
		{
			ID: "sie-500", RFC: "5861", Section: "4", Level: "MAY",
			Name: "stale-if-error: a 500 from the origin is replaced by the stale response",
			// §4: "The stale-if-error Cache-Control extension indicates that when
			// an error is encountered, a cached stale response MAY be used to
			// satisfy the request, regardless of other freshness information."
			Steps: staleErr(500),
		},
		{
			ID: "sie-502", RFC: "5861", Section: "4", Level: "MAY",
			Name: "stale-if-error: a 502 from the origin is replaced by the stale response",
			// §4: "In this context, an error is any situation that would result in
			// a 500, 502, 503, or 504 HTTP response status code being returned."
			Steps: staleErr(502),
		},
		{
			ID: "sie-503", RFC: "5861", Section: "4", Level: "MAY",
			Name: "stale-if-error: a 503 from the origin is replaced by the stale response",
			// §4, as above.
			Steps: staleErr(503),
		},
		{
			ID: "sie-504", RFC: "5861", Section: "4", Level: "MAY",
			Name: "stale-if-error: a 504 from the origin is replaced by the stale response",
			// §4, as above.
			Steps: staleErr(504),
		},
		{
			ID: "sie-404-not-error", RFC: "5861", Section: "4", Level: "MUST",
			Name: "stale-if-error: a 404 is not an error; it is passed on",
			// §4: "an error is any situation that would result in a 500, 502,
			// 503, or 504"; otherwise RFC 9111 §4.2.4: "A cache MUST NOT generate
			// a stale response unless …"
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1, stale-if-error=60"), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(404), Expect: Expect{Origin: Forwarded, Status: 404, BodyOf: 2}},
			},
		},
		{
			ID: "sie-window-passed", RFC: "5861", Section: "4", Level: "SHOULD",
			Name: "stale-if-error: past its window the error is passed on",
			// §4: "Its value indicates the upper limit to staleness; when the
			// cached response is more stale than the indicated amount, the cached
			// response SHOULD NOT be used to satisfy the request, absent other
			// information."
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1, stale-if-error=2"), Expect: fetched(1)},
				{Pause: 10 * sec, Response: status(500), Expect: Expect{Origin: Forwarded, Status: 500, BodyOf: 2}},
			},
		},
		{
			ID: "sie-request", RFC: "5861", Section: "4", Level: "MAY",
			Name: "stale-if-error as a request directive lets this request get the stale response",
			// §4: "When used as a request Cache-Control extension, its scope of
			// application is the request it appears in"
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1"), Expect: fetched(1)},
				{Pause: 3 * sec, Request: get("Cache-Control", "stale-if-error=60"), Response: status(503),
					Expect: Expect{Origin: Forwarded, Status: 200, BodyOf: 1}},
			},
		},
		{
			ID: "sie-request-scope", RFC: "5861", Section: "4", Level: "MUST",
			Name: "a request's stale-if-error does not apply to the next request",
			// §4: "… its scope of application is the request it appears in";
			// without it, RFC 9111 §4.2.4 forbids the stale response.
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1"), Expect: fetched(1)},
				{Pause: 3 * sec, Request: get("Cache-Control", "stale-if-error=60"), Response: status(503), Expect: Expect{Origin: Forwarded}},
				{Response: status(503), Expect: Expect{Origin: Forwarded, Status: 503, BodyOf: 3}},
			},
		},
		{
			ID: "sie-fresh-unaffected", RFC: "5861", Section: "4", Level: "MAY",
			Name: "stale-if-error does not affect a fresh response",
			// §4: "Note that this directive does not affect freshness"
			Steps: reused(ok("Cache-Control", "max-age=3600, stale-if-error=60"), sec, get()),
		},
		{
			ID: "sie-must-revalidate", RFC: "5861", Section: "4", Level: "MUST",
			Name: "stale-if-error does not override must-revalidate",
			// RFC 9111 §5.2.2.2: "In all circumstances a cache MUST NOT ignore the
			// must-revalidate directive"; §5.2.2.2: "if a cache is disconnected,
			// the cache MUST generate an error response rather than reuse the
			// stale response"
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1, must-revalidate, stale-if-error=60"), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(503), Expect: Expect{Origin: Forwarded, Status: 503}},
			},
		},
		{
			ID: "sie-after-swr", RFC: "5861", Section: "4", Level: "MAY",
			Name: "stale-if-error after the stale-while-revalidate window, origin down: stale served",
			// §4, as in sie-500; §3 window has passed.
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1, stale-while-revalidate=1, stale-if-error=60"), Expect: fetched(1)},
				{Pause: 5 * sec, Response: status(500), Expect: Expect{Origin: Forwarded, Status: 200, BodyOf: 1}},
			},
		},
	}
}
