package edgetest

// cases9211 are RFC 9211 (The Cache-Status HTTP Response Header Field).
// Sending Cache-Status is optional ("Caches determine when it is appropriate
// to add the Cache-Status header field to a response", §2), so the cases
// that need the cache's own member are Level MAY and checked only when
// Target.CacheStatus names it; the SHOULDs below apply to every cache.
func cases9211() []Case {
	maxAge := ok("Cache-Control", "max-age=3600")
	return []Case{
		{
			ID: "cs-hit", RFC: "9211", Section: "2.1", Level: "MAY",
			Name: "a hit is marked hit, with a ttl and no fwd",
			// §2.1: "hit: … indicates that the request was satisfied by the
			// cache; that is, it was not forwarded, and the response was
			// obtained from the cache." §2.5 ttl: "indicates the response's
			// remaining freshness lifetime"
			Steps: []Step{
				{Response: maxAge, Expect: fetched(1)},
				{Expect: hit(1).cs("hit", "ttl", "!fwd", "!key")},
			},
		},
		{
			ID: "cs-uri-miss-stored", RFC: "9211", Section: "2.2", Level: "MAY",
			Name: "a first request is fwd=uri-miss with fwd-status and stored",
			// §2.2: "uri-miss: The cache did not contain any responses that
			// matched the request URI." §2.3 fwd-status; §2.6 stored: "indicates
			// whether the cache stored the response"
			Steps: []Step{
				{Response: maxAge, Expect: fetched(1).cs("fwd=uri-miss", "fwd-status=200", "stored", "!hit", "!key")},
			},
		},
		{
			ID: "cs-not-stored", RFC: "9211", Section: "2.6", Level: "MAY",
			Name: "a no-store response is not marked stored",
			// §2.6: "stored … indicates whether the cache stored the response"
			Steps: []Step{
				{Response: ok("Cache-Control", "no-store"), Expect: fetched(1).cs("fwd", "!stored")},
			},
		},
		{
			ID: "cs-vary-miss", RFC: "9211", Section: "2.2", Level: "MAY",
			Name: "a stored URI without a matching variant is fwd=vary-miss",
			// §2.2: "vary-miss: The cache contained a response that matched the
			// request URI, but it could not select a response based upon this
			// request's header fields and stored Vary header fields."
			Steps: []Step{
				{Request: get("Accept-Language", "en"), Response: ok("Cache-Control", "max-age=3600", "Vary", "Accept-Language"), Expect: fetched(1)},
				{Request: get("Accept-Language", "fr"), Expect: forwarded(2).cs("fwd=vary-miss")},
			},
		},
		{
			ID: "cs-stale", RFC: "9211", Section: "2.2", Level: "MAY",
			Name: "revalidating a stale response is fwd=stale with fwd-status=304",
			// §2.2: "stale: The cache was able to select a fresh response for the
			// request, but it had become stale." (sic); §2.3: "fwd-status …
			// indicates what status code the next hop server returned in response
			// to the forwarded request"
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1", "ETag", `"v1"`), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(304, "Cache-Control", "max-age=60", "ETag", `"v1"`),
					Expect: Expect{Status: 200, BodyOf: 1, CacheStatus: []string{"fwd=stale", "fwd-status=304"}}},
			},
		},
		{
			ID: "cs-request", RFC: "9211", Section: "2.2", Level: "MAY",
			Name: "a request with no-cache is fwd=request",
			// §2.2: "request: The cache was able to select a fresh response for
			// the request, but client request headers (e.g., Cache-Control
			// request directives) did not allow its use."
			Steps: []Step{
				{Response: maxAge, Expect: fetched(1)},
				{Request: get("Cache-Control", "no-cache"), Expect: forwarded(2).cs("fwd=request")},
			},
		},
		{
			ID: "cs-method", RFC: "9211", Section: "2.2", Level: "MAY",
			Name: "a POST is fwd=method",
			// §2.2: "method: The cache was configured to not handle this request
			// method."
			Steps: []Step{
				{Request: Request{Method: "POST", Body: "x"}, Response: ok(), Expect: Expect{Origin: Full, CacheStatus: []string{"fwd=method"}}},
			},
		},
		{
			ID: "cs-origin-error-detail", RFC: "9211", Section: "2.7", Level: "MAY",
			Name: "a stale response served because the origin failed says so in detail",
			// §2.7: "detail … allows implementations to convey additional
			// information not captured in other parameters"
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1, stale-if-error=60"), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(500), Expect: Expect{Status: 200, BodyOf: 1, CacheStatus: []string{"detail=origin-error"}}},
			},
		},
		{
			ID: "cs-preserve-upstream-miss", RFC: "9211", Section: "2", Level: "SHOULD",
			Name: "a Cache-Status member from upstream is kept on a miss",
			// §2: "When adding a value to the Cache-Status header field, caches
			// SHOULD preserve the existing field value, to allow debugging of the
			// entire path."
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600", "Cache-Status", "upstream-edgetest; fwd=uri-miss; stored"),
					Expect: Expect{Origin: Full, Header: []FieldCheck{{"Cache-Status", Contains, "upstream-edgetest; fwd=uri-miss; stored"}}}},
			},
		},
		{
			ID: "cs-preserve-upstream-hit", RFC: "9211", Section: "2", Level: "SHOULD",
			Name: "a Cache-Status member from upstream is kept on a hit",
			// §2, as above.
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600", "Cache-Status", "upstream-edgetest; hit"), Expect: fetched(1)},
				{Expect: hit(1).with(FieldCheck{"Cache-Status", Contains, "upstream-edgetest; hit"})},
			},
		},
		{
			ID: "cs-local-504-no-member", RFC: "9211", Section: "2", Level: "SHOULD",
			Name: "a locally generated 504 (only-if-cached, nothing stored) carries no member of the cache",
			// §2: "An intermediary SHOULD NOT append a Cache-Status member to
			// responses that it generates locally, even if that intermediary
			// contains a cache, except when the generated response is based upon
			// a stored response (e.g., a 304 Not Modified or 206 Partial Content)."
			Steps: []Step{
				// Only the member is checked: the 504 itself is req-only-if-cached-miss.
				{Request: get("Cache-Control", "only-if-cached"), Expect: Expect{CacheStatus: []string{"none"}}},
			},
		},
		{
			ID: "cs-304-from-stored", RFC: "9211", Section: "2", Level: "MAY",
			Name: "a 304 generated from a stored response carries the cache's member",
			// §2: "… except when the generated response is based upon a stored
			// response (e.g., a 304 Not Modified …)"
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=3600", "ETag", `"v1"`), Expect: fetched(1)},
				{Request: get("If-None-Match", `"v1"`), Expect: Expect{Origin: None, Status: 304, CacheStatus: []string{"hit"}}},
			},
		},
	}
}
