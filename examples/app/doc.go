// Package app is the one small application every stage of ladder's examples
// runs: users sign up (passwords hashed with PBKDF2-HMAC-SHA256), log in
// (sessions through package session), post, and read a feed (reads may go to
// replicas); static assets are served fingerprinted through cache/assets; a
// welcome e-mail is sent through package queue, or inline when there is no
// queue.
//
// Only the architecture changes between the stages, never the application:
// [Config] holds the components a stage swaps (the [Store] for writes and
// reads, the session store, a feed cache or not, a queue client or not, the
// assets), and [New] builds an http.Handler from it.
//
// Storage is a [Store]. [SQLStore] keeps it in a database through
// database/sql, in SQLite (modernc.org/sqlite, the default) or PostgreSQL
// (pgx's stdlib driver), with separate handles for writes and reads so a
// stage can send reads to replicas (replica.Router satisfies [DB]).
// [NewStoreHandler] and [RemoteStore] put a Store behind HTTP/JSON, so that a
// stage can run the data tier in its own process when SQLite is the engine
// (SQLite is a library, not a server). [WithBreaker] puts a circuit breaker
// in front of any Store.
//
// The JSON API, used by the load generator (package load):
//
//	POST /api/signup   {"name","password"} → 201, logged in (session cookie)
//	POST /api/login    {"name","password"} → 200, logged in
//	POST /api/logout                       → 204
//	POST /api/posts    {"body"}            → 201 {"post"} (logged in)
//	GET  /api/feed?limit=N                 → 200 {"posts":[…]}
//	GET  /api/users/{name}/posts?limit=N   → 200 {"posts":[…]}
//	GET  /healthz (alive) and /readyz (the store answers)
//
// A POST may carry an Idempotency-Key header ([IdempotencyKeyHeader]): with
// a [KeyedStore] (SQLStore, and RemoteStore, WithBreaker and Count over
// one) a signup or post is recorded with its key in one transaction, and a
// repeat (a client's retry, a load balancer's resend after a server died
// with it) answers the first outcome without doing the work twice; a
// concurrent duplicate waits for the first; a key reused for another
// payload is 422, a malformed one 400. Login and logout are safe to repeat:
// their key is only checked.
//
// and small HTML pages at / (the feed, sign-up, log-in and post forms) using
// the assets under /assets/ through the template func "asset".
//
// Sub-packages: load (a bounded, stepped load generator whose [load.Result]
// the ladder walk prints and charts) and proc (starting the roles of one
// example as child processes of the same binary, and stopping them all).
package app
