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
//     without ever blocking the prober (coalesced per target for a slow
//     reader, never lost). Package lb builds on it.
//   - [Checker]: local named checks with their own timeouts, run concurrently,
//     cached so a health endpoint cannot multiply load on a dependency, with
//     worst-wins aggregation where a non-critical check only degrades.
//   - [Handler]: liveness, readiness and startup endpoints (200 or 503, HEAD,
//     per-check JSON detail only when enabled).
//   - [Breaker]: one small interface over two circuit breakers, a wrapper of
//     github.com/sony/gobreaker/v2 ([GoBreaker]) and the Google SRE adaptive
//     client throttle ([Throttle]). A caller's cancelled or expired context
//     never counts as a failure of the dependency.
//   - [Drain]: on SIGTERM or a call, flip readiness to failing and turn
//     keep-alives off, wait for balancers to notice (4s by default, more
//     than a default Prober needs to see it Down), then shut the HTTP server
//     down, so rolling restarts lose no requests.
//
// # Which breaker
//
// GoBreaker is all or nothing: after ReadyToTrip it rejects every call for
// Timeout, then lets a few trial calls through. It suits a dependency that is
// either up or down, and whose callers have a fallback. Throttle sheds only
// the excess: when the backend accepts a fraction of requests, the client
// keeps sending about K times that and rejects the rest locally, so a backend
// that is overloaded (not dead) gets relief without being cut off and
// recovers as soon as it accepts more. Both are safe for concurrent use;
// Throttle's Allow takes no lock and allocates nothing.
//
// Everything reports through the OpenTelemetry metric API under the meter
// "github.com/ladder-go/ladder/health" (names ladder.health.*).
//
// # Initial state of a probed target
//
// A target starts as [StatusUnknown]. Its first probe result decides at once:
// one success makes it [StatusUp], one failure [StatusDown]. Only after that do
// the Rise and Fall thresholds apply. This follows HAProxy's transitional
// init-states, where one check moves a new server ("up", its default: down
// after one failed check; "down": up after one good one), rather than its
// "fully-up" and "fully-down", which wait for Fall or Rise checks: a new
// backend takes traffic after one good probe instead of Rise×Interval, and a
// dead one is known dead after one probe. Whether an Unknown target is
// routable before its first result (HAProxy "up") or not (HAProxy "down",
// Envoy's new hosts) is the caller's choice; the first probe resolves it
// within Timeout.
package health
