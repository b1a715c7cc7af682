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
package lb
