package observe

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
)

// responseWriter notes the status code. Unwrap lets
// http.ResponseController reach the connection's own methods (deadlines,
// full-duplex); Flush, Hijack and ReadFrom are passed through for code that
// asserts them directly: ReadFrom is how io.Copy and http.ServeContent reach
// net/http's sendfile path for files, which a wrapper without it loses.
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
		if !w.wrote { // else the status sent stands: the handler answered, then took the connection
			w.code, w.wrote = http.StatusSwitchingProtocols, true
		}
		return h.Hijack()
	}
	return nil, nil, errHijack
}

// ReadFrom hands r to the underlying writer's ReadFrom (net/http's uses
// sendfile when r is a file), or copies it when there is none.
func (w *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{w.ResponseWriter}, r)
}

// writerOnly hides everything but Write, so io.Copy does not loop back
// into ReadFrom.
type writerOnly struct{ io.Writer }

var errHijack = errors.New("observe: the ResponseWriter does not support Hijack")
