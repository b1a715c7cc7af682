package edgetest

// cases9111 are the RFC 9111 (HTTP Caching) requirements that apply to a
// shared cache, by section.
func cases9111() []Case {
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
			ID: "store-no-store-response", RFC: "9111", Section: "3", Level: "MUST",
			Name: "a response with no-store is not stored",
			// §3: "A cache MUST NOT store a response to a request unless: … the
			// no-store cache directive is not present in the response"
			Steps: notReused(ok("Cache-Control", "max-age=3600, no-store"), 0, get()),
		},
	}
}

func cases5861() []Case { return nil }
func cases8246() []Case { return nil }
func cases9211() []Case { return nil }
func cases9213() []Case { return nil }
