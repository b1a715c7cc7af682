package edgetest

import "time"

// Building blocks for the case tables. They return fresh values, so tables
// never share mutable slices.

// hdr builds header fields from name, value pairs.
func hdr(kv ...string) []Field {
	if len(kv)%2 != 0 {
		panic("edgetest: hdr needs name, value pairs")
	}
	out := make([]Field, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		out = append(out, Field{kv[i], kv[i+1]})
	}
	return out
}

// get is a GET request with header fields.
func get(kv ...string) Request { return Request{Header: hdr(kv...)} }

// ok is a 200 response with header fields.
func ok(kv ...string) Response { return Response{Status: 200, Header: hdr(kv...)} }

// status is a response with a status code and header fields.
func status(code int, kv ...string) Response { return Response{Status: code, Header: hdr(kv...)} }

// fetched: the request went to the origin in full and the client got its answer.
func fetched(step int) Expect {
	return Expect{Origin: Full, BodyOf: step, CacheStatus: []string{"fwd", "!hit"}}
}

// hit: served from what step `from` stored, without contacting the origin.
// (Age on hits is checked by the age-* cases, so that a cache omitting it
// fails those, not every case that reuses a response.)
func hit(from int) Expect {
	return Expect{Origin: None, Status: 200, BodyOf: from, CacheStatus: []string{"hit"}}
}

// forwarded: the request reached the origin (in full or conditionally), and
// the client got what the origin answered in this step (a full response).
func forwarded(step int) Expect {
	return Expect{Origin: Forwarded, BodyOf: step, CacheStatus: []string{"fwd", "!hit"}}
}

// notReused is the common shape of "the cache must not reuse what step 1
// got": step 1 fetches resp, step 2 (after pause, with req) must reach the
// origin and carry step 2's body.
func notReused(resp Response, pause time.Duration, req Request) []Step {
	return []Step{
		{Response: resp, Expect: fetched(1)},
		{Pause: pause, Request: req, Response: resp, Expect: forwarded(2)},
	}
}

// reused: step 1 fetches resp, step 2 (after pause, with req) is a hit.
func reused(resp Response, pause time.Duration, req Request) []Step {
	return []Step{
		{Response: resp, Expect: fetched(1)},
		{Pause: pause, Request: req, Expect: hit(1)},
	}
}

// with returns e with more field checks.
func (e Expect) with(checks ...FieldCheck) Expect {
	e.Header = append(append([]FieldCheck(nil), e.Header...), checks...)
	return e
}

// cs returns e with these Cache-Status expectations instead.
func (e Expect) cs(tokens ...string) Expect { e.CacheStatus = tokens; return e }

const sec = time.Second
