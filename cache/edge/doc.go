// Package edge is an RFC 9111 shared HTTP cache as an [http.Handler] in
// front of an origin: the CDN rung of the ladder, where the same response
// stops being computed once per visitor.
//
// Stage of growth: 4, "cache and CDN". Static assets and, increasingly, API
// responses and HTML are served from a cache near the user; the first
// request for an object fills it and every later one is answered from it.
// Put a [Cache] in front of any handler: the application's mux, an
// httputil.ReverseProxy, or an lb.Proxy spreading fills over several
// origins (see the examples).
//
// # What it implements
//
//   - Storing (RFC 9111 §3): GET responses with a final status code that is
//     cacheable by default or carries explicit freshness; never no-store,
//     private, partial (206) or incomplete responses; requests with
//     Authorization only when the response says public, s-maxage or
//     must-revalidate (§3.5); qualified private and no-cache field names are
//     not stored or not served; must-understand; hop-by-hop fields and the
//     fields Connection names are never stored; a Date is added when the
//     origin gave none.
//   - Freshness (§4.2): s-maxage, then max-age, then Expires − Date, then a
//     Last-Modified heuristic (Options.Heuristic, capped by MaxHeuristic)
//     only for heuristically cacheable status codes or public responses;
//     a valid targeted field (RFC 9213, CDN-Cache-Control by default, or
//     Options.Targeted) replaces Cache-Control and Expires. Conflicting
//     duplicate or malformed freshness makes a response stale on arrival
//     (§4.2.1); an invalid Expires is in the past (§5.3); an invalid Age is
//     ignored (§5.1). Age is computed exactly as §4.2.3 says (received Age,
//     response delay, resident time; a Date in the future counts as 0) and
//     sent on every response served from storage.
//   - Serving (§4): request no-cache (and Pragma: no-cache without
//     Cache-Control), max-age, max-stale, min-fresh, only-if-cached (504
//     when nothing usable is stored), no-store; response no-cache,
//     must-revalidate, proxy-revalidate; HEAD from a stored GET; a client's
//     If-None-Match (weak comparison) or If-Modified-Since answered 304 from
//     storage; one entry per Vary variant, request values normalised
//     (field lines combined, whitespace dropped, case folded where the
//     field is case-insensitive); Vary: * is never stored.
//   - Validation (§4.3): a stale response is revalidated with its ETag and
//     Last-Modified; a 304 updates the stored header fields (§3.2) and
//     freshens it; a full response replaces it.
//   - Invalidation (§4.4): a 2xx or 3xx to an unsafe method removes the
//     target URI and same-origin Location and Content-Location URIs.
//   - RFC 5861: stale-while-revalidate serves at once and refreshes once
//     per key in the background (goroutines owned by the Cache, joined by
//     Close); stale-if-error serves the stored response when the origin
//     answers 500, 502, 503 or 504, panics, or does not answer within
//     OriginTimeout; Options.StaleIfError is a default window.
//   - Cache-Status (RFC 9211) on every response from the origin or from
//     storage: hit, or fwd=uri-miss, vary-miss, stale, request, method or
//     bypass, with fwd-status, stored, collapsed, ttl and detail
//     (origin-error, origin-timeout, stale-while-revalidate). Members from
//     caches upstream are kept before ours. A response the cache generates
//     itself (504 for only-if-cached or an origin timeout, 502 for an
//     origin panic) carries no member, as RFC 9211 §2 says; the cause is
//     logged. Keys are never included.
//   - Collapsing: concurrent misses for one key make one origin request.
//     The fetch runs detached from any client (it keeps the request's trace
//     context, drops its cancellation, and is bounded by OriginTimeout of
//     origin silence, not of total length), and
//     every waiting client streams the body as it arrives, so a large body
//     reaches the first client at once. A response that may not be shared
//     (private, no-store, another Vary variant, …) releases the waiting
//     clients to the origin: one client's private response is never
//     handed to another. A body above MaxObjectSize is not stored and
//     streams through with bounded buffering (a window ahead of the
//     slowest client); a client a whole window behind that reads under
//     a quarter window in 10 s while another client waits is cut, so one
//     client that stops reading cannot stall the others.
//   - Purge by URL ([Cache.Purge], every variant) and by surrogate key
//     ([Cache.PurgeKey], the Surrogate-Key response field, removed
//     downstream); storage bounded by MaxBytes.
//
// # Decisions where the RFCs leave room
//
//   - Set-Cookie: RFC 9111 lets a shared cache store a response carrying
//     Set-Cookie, but such a response is usually personal. A response with
//     Set-Cookie is stored only when it is explicitly public, has s-maxage,
//     or a targeted field, and then without its Set-Cookie (the client
//     whose request fetched it still receives it). Otherwise it passes
//     through uncached (Varnish's default; Fastly strips it likewise).
//   - immutable (RFC 8246) is advice to user agents. A shared cache answers
//     a client's reload (max-age=0) of a fresh immutable response from
//     storage, which is what immutable exists for, but honours a force
//     reload (no-cache): the user explicitly asked for the origin.
//   - s-maxage implies proxy-revalidate (§5.2.2.10): a client's max-stale
//     and Options.StaleIfError are not applied to it; the response's own
//     stale-while-revalidate and stale-if-error are honoured, as the same
//     origin gave them explicitly. must-revalidate, proxy-revalidate and
//     no-cache forbid every stale use.
//   - Range requests are answered with the full 200 from storage (RFC 9110
//     §14.2 lets a server ignore Range); fills fetch the whole object.
//   - A HEAD miss goes to the origin as HEAD and is not stored.
//   - The default key is the scheme, the Host (lowercased, default port
//     dropped: an absolute-form target's host, as net/http sets it), the
//     path and the query exactly as sent. Nothing else is in it: not
//     X-Forwarded-Host or other forwarding fields (RFC 9111 §4 keys on
//     the target URI; Varnish and nginx do the same), so an origin that
//     builds links or redirects from such a field must list it in Vary,
//     or the proxy in front must set it, or one client poisons the URL
//     for everybody (Options.Key can add it). /a?x=1 and /a?x=%31 are
//     two keys (no normalisation, as Varnish and nginx): a purge names
//     the form clients use. A response whose Content-Encoding depends on
//     Accept-Encoding must say Vary: Accept-Encoding; the cache adds none.
//   - Hit-for-miss (Varnish's, 2 minutes): after a URL's response was
//     not shareable for a reason of the URL's (private, no-store,
//     Set-Cookie without public, Vary: *; not an error status, not an
//     Authorization request), its misses go to the origin at once instead
//     of collapsing, so an uncacheable API under load is not serialised
//     behind one request per round trip. A shareable response is stored
//     as usual and ends it. The marks are kept apart from the stored
//     objects (at most 65536 keys and 4 MiB), so they never evict one.
//   - The variants stored per URL are bounded (Options.MaxVariants, 32 by
//     default, as Traffic Server bounds alternates): a client inventing
//     values of a field the response varies on replaces variants of that
//     URL, any one of them, instead of evicting the rest of the cache.
//
// # Metrics
//
// Through the OTel API, scope github.com/ladder-go/ladder/cache/edge:
// ladder.edge.requests{ladder.edge.result=hit|miss|stale|revalidated|bypass|collapsed},
// ladder.edge.purges, ladder.edge.stored.bytes and ladder.edge.stored.objects
// are observable (a hit counts with an atomic and calls no instrument);
// ladder.edge.origin.duration is a histogram recorded per origin fetch.
package edge
