// Package session keeps per-user state outside the web process, so any request can hit
// any server: it belongs to the "load balancer and replicas" stage of growth, where web
// servers become stateless and are added, removed and restarted freely.
//
// A [Manager] is HTTP middleware. It reads the session cookie, loads the session from a
// [Store] (memory, [github.com/ladder-go/ladder/session/redisstore] or
// [github.com/ladder-go/ladder/session/sqlstore]) and hands the handler a [*Session] through
// the request context ([From]). Typed helpers [Get], [Put], [Pop] and [Session.Remove] read
// and change values, [Session.Keys] lists them; [Session.RenewID] (on login and privilege change) and [Session.Destroy]
// (on logout) manage the identifier; [Manager.DestroyAll] logs a user out everywhere.
//
// # Concurrency: per-key storage
//
// Libraries that read the whole session, change it and write it all back lose writes when
// two requests of one session overlap (the last writer wins), and a slow request that
// overlaps a logout writes the session back and undoes the logout. This package stores
// every value under its own key inside the session (a Redis hash, a row per value in SQL)
// and commits only what a request changed: the set and removed keys, as one atomic update
// that applies only if the session still exists. Two requests changing different keys
// therefore both win; two requests changing the same key are ordered by the store (last
// commit wins for that key only). [Pop] takes its value at the store at once, so of
// two requests popping one flash message exactly one gets it; Options.MaxSize is checked
// again by the store when a commit grows the session. Per-key storage was chosen over version-checked
// whole-session writes because it needs no retry loop, no merge function and one round
// trip per changed request, and because it keeps the idle refresh a single expiry update
// that never rewrites values.
//
// [Session.Destroy] and [Session.RenewID] leave a tombstone (Options.Grace) in place
// of the old session. An update that reaches a destroyed session is dropped, so a logout
// cannot be undone; an update that reaches a renewed session is forwarded to its
// successor, so a request that overlapped a login loses nothing. Grace must therefore
// exceed the longest request: an overlapping request that commits after the tombstone
// is gone is dropped as after a logout. A tombstone is never loaded. A request that
// presents a destroyed identifier gets a new anonymous session; one that presents a
// renewed identifier (sent before the login's response arrived) gets none: its session
// methods return [ErrRenewed] (answer 409 Conflict, or retry with the new cookie), so it
// can neither share the logged-in session (fixation) nor replace its cookie.
//
// A response changes the cookie only for what its own request did: a new session, a
// renewal, a logout. A request that finds at commit that another request destroyed its
// session leaves the cookie alone, since the browser may hold a newer login's by then.
//
// Changes are committed before the response headers go out, so the cookie can carry a new
// identifier; changes made after the headers were sent are committed when the handler
// returns (for a session that already has a cookie; a brand-new session started after
// the headers cannot be handed to the client, and its changes are dropped with a
// warning). A request that changes nothing writes nothing; the idle deadline is refreshed
// by a single expiry update at most once per Options.TouchInterval.
//
// # Security
//
// Identifiers are 256 bits from crypto/rand, sent as unpadded base64url. Stores see only the
// hex SHA-256 of the token, so a leaked store yields no usable cookies. Unknown, malformed,
// truncated or oversize cookies are ignored (the request gets a new anonymous session, and
// an unknown identifier is never adopted). The cookie is HttpOnly, Secure (unless
// Options.Insecure), SameSite=Lax, Path=/ and has no Domain; a response that sets it says
// Cache-Control: no-cache="Set-Cookie", so that no shared cache hands it to someone else. Idle timeout and absolute
// lifetime are enforced on the server. Tokens are never logged nor recorded in metrics.
//
// # Failure
//
// When the store fails while loading a session presented by a cookie, the handler still
// runs but [Session.Err], [Get] and [Put] return an error wrapping [ErrStore]: the session
// fails closed (an authenticated user is not silently treated as anonymous, and nothing is
// written over it). When committing changes fails before the response headers are sent,
// Options.ErrorHandler answers instead of the handler (by default 503).
package session
