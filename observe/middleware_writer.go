package observe

import (
	"bufio"
	"errors"
	"net"
	"net/http"
)

// responseWriter notes the status code. Unwrap lets
// http.ResponseController reach the connection's own methods; Flush and
// Hijack are passed through for code that asserts them directly.
type responseWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *responseWriter) WriteHeader(code int) {
	if !w.wrote && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// status is the code sent, 200 if the handler wrote nothing (net/http
// sends 200 then).
func (w *responseWriter) status() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.code
}

func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseWriter) Flush() {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		w.code, w.wrote = http.StatusSwitchingProtocols, true
		return h.Hijack()
	}
	return nil, nil, errHijack
}

var errHijack = errors.New("observe: the ResponseWriter does not support Hijack")
