// Package edgetest is the HTTP caching conformance suite for package
// cache/edge and for any other shared cache: RFC 9111 (HTTP caching),
// RFC 5861 (stale-while-revalidate, stale-if-error), RFC 8246 (immutable),
// RFC 9211 (Cache-Status) and RFC 9213 (CDN-Cache-Control).
//
// The suite is data: each [Case] is a list of [Step]s, each a request sent to
// the cache under test, the response a scripted [Origin] gives if the request
// reaches it, and what the client must see (status, fields, body, Age) and
// whether the origin was contacted (not at all, with a full request, or with a
// conditional one). Because it is data, the same cases run
//
//   - in process, against an http.Handler (cache/edge) sharing a fake [Clock]
//     with the origin, so pauses cost nothing: [Run] with a Target whose
//     Handler and Clock are set;
//   - against an out-of-process proxy (nginx proxy_cache, Varnish, Squid,
//     Traffic Server) on the real clock: start one Origin with [Origin.Listen]
//     before writing the proxy's configuration, point the proxy at its URL,
//     and call [Check] per case with Target.URL set to the proxy.
//
// Every case uses its own URL path, /<nonce>/<case ID>[suffix], so cases run
// in parallel and never share cache entries; the origin finds a case's script
// from the path and records every request it receives, per step. "Served from
// the cache" is judged by origin contact, which works for any cache.
//
// Cache-Status (RFC 9211) expectations ([Expect.CacheStatus]) are checked only
// when [Target.CacheStatus] names the cache's member. RFC 9211 makes sending the
// field optional ("Caches determine when it is appropriate to add the
// Cache-Status header field"), so the cases that need it are Level "MAY" and
// do not count on a scoreboard (which counts MUST and SHOULD); the RFC 9211
// SHOULDs (preserving members added upstream) are checked with plain field
// expectations and apply to every cache.
//
// Level is what the RFC text says for the behaviour checked; each case quotes
// the sentence in a comment next to it.
package edgetest
