// Package lb spreads requests over a set of backends: the load balancer that
// arrives with the third rung of growth, when one web server becomes several
// behind a single public address.
//
// A [Pool] holds the backends as an immutable snapshot swapped atomically when
// membership or health changes; per-backend state lives in slices by position.
// [Pool.Pick] returns a backend and a done callback that feeds the outcome back
// to the policy (latency, in-flight requests) and to passive health (outlier
// ejection). Policies: [RoundRobin], [WeightedRoundRobin] (nginx's smooth
// algorithm), [Random], [LeastRequest] (power of two choices), [PeakEWMA]
// (latency-aware power of two choices), [Hash] (weighted rendezvous) and
// [FirstAvailable].
//
// Health is passive and active: a backend failing OutlierOptions.Consecutive
// times in a row is ejected for a growing time (at most MaxEjectedShare of
// the pool at once), [Pool.Watch] follows a health.Prober, newly healthy
// backends ramp up through slow start, and when too few are healthy the
// pool panics and uses them all.
//
// Backends may carry a zone; [PoolOptions.Zones] gives the order of preference
// and traffic stays in the nearest healthy zone, spilling over to the next one
// when it is unhealthy or saturated (the multi-datacenter rung).
//
// [Proxy] is an HTTP reverse proxy over a pool (X-Forwarded-* from trusted
// peers only, retries on another backend within a budget, signed sticky
// cookies); [Transport] is the client-side equivalent as an http.RoundTripper.
// Package lbtest runs real loopback backends for tests.
//
// # Faults the zero value survives
//
// Fault drills with real backend processes under 64 keep-alive clients
// (drill_*_test.go) hold these defaults to account:
//
//   - A hung backend (SIGSTOP, a deadlock: the kernel still completes its
//     TCP handshakes, so dials and writes succeed and nothing fails fast)
//     leaves rotation about a second after it stops answering, and no
//     request fails: a try that has waited RetryOptions.StallTimeout (1s)
//     on a backend that answered nothing meanwhile, while another backend
//     answered a request sent later, ejects it, and idempotent requests
//     stuck on it are retried elsewhere outside the budget. Every try is
//     bounded by RetryOptions.PerTryTimeout (15s).
//   - A killed backend loses no request: a request that never reached a
//     backend (connection refused, headers never written, an idle
//     connection closed as it was reused) is retried on another backend
//     whatever its method, outside the retry budget, which is kept for
//     requests that did reach one (see [RetryOptions]).
//   - A request the killed backend had received is resent when it is
//     idempotent without a body (GET, HEAD, PUT, DELETE, …) or, with
//     RetryOptions.IdempotencyKeyHeader set (normally "Idempotency-Key"),
//     when it carries that key, whatever its method: a POST is resent with
//     its body, buffered up to RetryOptions.ReplayBodyLimit (64 KiB). The
//     backends must honour the key (draft-ietf-httpapi-idempotency-key-header:
//     record the first outcome with the work and answer a repeat from it),
//     so the resent POST is not done twice; examples/03-lb-replicas' kill
//     drill shows 0 failed requests, POSTs included, this way.
//
// # Rolling restarts
//
// To restart backends one at a time without losing requests, each backend
// runs health.Drain (readiness fails, keep-alives go off, then the server
// shuts down gracefully after DrainOptions.Delay) and the pool follows
// their readiness with [ProbeHTTP] and a default health.Prober: the prober
// (every 1s, fall 3) takes a draining backend out of rotation within 3.3s,
// before Drain's default 4s Delay ends, and its first passing probe after
// the restart puts it back. Wait for the restarted backend to be ready
// before restarting the next one.
//
// Without active health checks the zero-value proxy still loses nothing
// when backends merely shut down gracefully (http.Server.Shutdown): requests
// they refuse are retried elsewhere, the backend is ejected after
// OutlierOptions.Consecutive refusals, and because all its failures were
// refused connections its ejection lasts a second (then 2, 3, … if it
// still refuses) rather than 30, so the restarted process takes traffic
// again about a second after it listens.
package lb
