package edgetest

// cases8246 are RFC 8246 (HTTP Immutable Responses).
func cases8246() []Case {
	imm := ok("Cache-Control", "max-age=3600, immutable", "ETag", `"v1"`)
	return []Case{
		{
			ID: "immutable-fresh-hit", RFC: "8246", Section: "2", Level: "MAY",
			Name: "an immutable fresh response is reused",
			// §2: "The immutable response directive indicates that the response
			// will not be updated while it is fresh."
			Steps: reused(imm, sec, get()),
		},
		{
			ID: "immutable-reload", RFC: "8246", Section: "2", Level: "MAY",
			Name: "an immutable fresh response answers a client's max-age=0 reload without revalidation",
			// §2: "Clients SHOULD NOT issue a conditional request during the
			// response's freshness lifetime (e.g., upon a reload) unless
			// explicitly overridden by the user (e.g., a force reload)." — a
			// shared cache acting for the client may skip the revalidation.
			Steps: reused(imm, sec, get("Cache-Control", "max-age=0")),
		},
		{
			ID: "immutable-force-reload", RFC: "8246", Section: "2", Level: "MUST",
			Name: "a force reload (request no-cache) still reaches the origin",
			// §2: "… unless explicitly overridden by the user (e.g., a force
			// reload)"; RFC 9111 §4: request no-cache requires validation.
			Steps: notReused(imm, sec, get("Cache-Control", "no-cache")),
		},
		{
			ID: "immutable-stale-revalidated", RFC: "8246", Section: "2.1", Level: "SHOULD",
			Name: "an immutable response past its freshness is revalidated as usual",
			// §2.1: "The immutable extension only applies during the freshness
			// lifetime of the stored response. Stale responses SHOULD be
			// revalidated as they normally would be in the absence of the
			// immutable extension."
			Steps: []Step{
				{Response: ok("Cache-Control", "max-age=1, immutable", "ETag", `"v1"`), Expect: fetched(1)},
				{Pause: 3 * sec, Response: status(304, "Cache-Control", "max-age=1, immutable", "ETag", `"v1"`),
					Expect: Expect{Origin: Conditional, Status: 200, BodyOf: 1}},
			},
		},
		{
			ID: "immutable-no-freshness", RFC: "8246", Section: "2", Level: "MUST",
			Name: "immutable alone gives no freshness: a response with Expires in the past is stale",
			// §2: immutable applies "while it is fresh"; it adds no lifetime
			// (RFC 9111 §4.2.1 computes it).
			Steps: notReused(ok("Cache-Control", "immutable", "Expires", "{{date:-10}}"), 0, get()),
		},
		{
			ID: "immutable-no-store", RFC: "8246", Section: "2", Level: "MUST",
			Name: "immutable does not override no-store",
			// RFC 9111 §3: "… the no-store cache directive is not present in the response"
			Steps: notReused(ok("Cache-Control", "max-age=3600, immutable, no-store"), 0, get()),
		},
	}
}
