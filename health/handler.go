package health

import (
	"encoding/json"
	"net/http"
)

// HandlerOptions configures [Handler].
type HandlerOptions struct {
	// Detail adds each check's name, status, duration and error text to
	// the JSON body. Off by default: error text can reveal internals
	// (addresses, versions) to whoever can reach the endpoint.
	Detail bool
}

// Handler serves the status of c for a liveness, readiness or startup probe:
// 200 when c is up or degraded, 503 when it is down or unknown, a JSON body
// ({"status":"up"}), no caching, and HEAD without a body. Other methods get 405.
//
// Kubernetes semantics come from what you put in each Checker: liveness
// ("restart me") should hold only checks of the process itself, often none,
// so Handler(nil, …) always answers 200; readiness ("send me traffic") holds
// the dependencies and is what [Drain] flips; startup holds one-time
// warm-up checks. A Checker in on-demand mode runs its checks when asked, at
// most once per CacheTTL however hard the endpoint is polled.
func Handler(c *Checker, opts HandlerOptions) http.Handler {
	if c == nil {
		c = &Checker{}
	}
	return &handler{c: c, detail: opts.Detail}
}

type handler struct {
	c      *Checker
	detail bool
}

type reportJSON struct {
	Status string      `json:"status"`
	Checks []checkJSON `json:"checks,omitempty"`
}

type checkJSON struct {
	Name       string  `json:"name"`
	Status     string  `json:"status"`
	Critical   bool    `json:"critical"`
	DurationMS float64 `json:"duration_ms"`
	Error      string  `json:"error,omitempty"`
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rep := h.c.Report(r.Context())
	code := http.StatusOK
	if rep.Status == StatusDown || rep.Status == StatusUnknown {
		code = http.StatusServiceUnavailable
	}
	body := reportJSON{Status: rep.Status.String()}
	if h.detail {
		body.Checks = make([]checkJSON, len(rep.Checks))
		for i, cr := range rep.Checks {
			body.Checks[i] = checkJSON{Name: cr.Name, Status: cr.Status.String(), Critical: cr.Critical,
				DurationMS: float64(cr.Duration.Microseconds()) / 1000}
			if cr.Err != nil {
				body.Checks[i].Error = cr.Err.Error()
			}
		}
	}
	b, _ := json.Marshal(body) // cannot fail: strings, bools and finite floats
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(append(b, '\n'))
	}
}
