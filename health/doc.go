// Package health tells a service, and the things in front of it, whether it
// and its dependencies can take traffic.
//
// It serves the "load balancer and replicas" stage of growth, the moment one box
// becomes several and something must decide where requests go: a balancer needs
// to know which backends are up, a rolling restart needs each instance to stop
// receiving traffic before it stops serving it, and a client needs to stop
// hammering a dependency that is already failing. The package holds:
//
//   - [Prober]: active probes of remote targets ([HTTPProbe], [TCPProbe]) on an
//     interval with jitter, with HAProxy-style rise and fall thresholds so one
//     blip does not flap a backend, and transitions delivered to subscribers
//     without ever blocking the prober. Package lb builds on it.
//   - [Checker]: local named checks with their own timeouts, run concurrently,
//     cached so a health endpoint cannot multiply load on a dependency, with
//     worst-wins aggregation where a non-critical check only degrades.
//   - [Handler]: liveness, readiness and startup endpoints (200 or 503, HEAD,
//     per-check JSON detail only when enabled).
//   - [Breaker]: one small interface over two circuit breakers, a wrapper of
//     github.com/sony/gobreaker/v2 ([GoBreaker]) and the Google SRE adaptive
//     client throttle ([Throttle]).
//   - [Drain]: flip readiness to failing, wait for balancers to notice, then
//     shut the HTTP server down, so restarts lose no requests.
//
// Everything reports through the OpenTelemetry metric API under the meter
// "github.com/ladder-go/ladder/health" (names ladder.health.*).
//
// # Initial state of a probed target
//
// A target starts as [StatusUnknown]. Its first probe result decides at once:
// one success makes it [StatusUp], one failure [StatusDown]. Only after that do
// the Rise and Fall thresholds apply. This is HAProxy's "init-state up/down"
// transitional start rather than Envoy's "unhealthy until the first check
// passes": a freshly added backend takes traffic after one good probe instead
// of Rise×Interval, and a dead one is known dead after one probe. Callers that
// want Envoy's behaviour treat Unknown as not routable, which the first probe
// resolves within Timeout.
package health
