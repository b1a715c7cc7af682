package observe

import (
	"context"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
)

const headerRequestID = "X-Request-Id"

// maxRequestID bounds an X-Request-ID taken from a client.
const maxRequestID = 128

type reqKey struct{}

// reqState is one request's ID and its lazily built logger.
type reqState struct {
	id     string
	base   *slog.Logger
	once   sync.Once
	logger *slog.Logger
	rw     responseWriter
	// pattern is the mux's r.Pattern, carried back by Middleware.Route when
	// the request Wrap passed on was copied on the way.
	pattern string
}

// requestID returns the request's X-Request-ID if it is valid (1 to 128
// characters of letters, digits and -_.:+/=), else a new random one: a
// client must not be able to inject log lines or unbounded strings.
func requestID(r *http.Request) string {
	if v := r.Header.Get(headerRequestID); validRequestID(v) {
		return v
	}
	var b [16]byte
	var raw [8]byte
	u := rand.Uint64()
	for i := range raw {
		raw[i] = byte(u >> (8 * i))
	}
	hex.Encode(b[:], raw[:])
	return string(b[:])
}

func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > maxRequestID {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '+', c == '/', c == '=':
		default:
			return false
		}
	}
	return true
}

// RequestID returns the ID [Middleware] gave ctx's request (the client's
// valid X-Request-ID or a generated one, also sent back in the response),
// or "" outside a request.
func RequestID(ctx context.Context) string {
	if st, _ := ctx.Value(reqKey{}).(*reqState); st != nil {
		return st.id
	}
	return ""
}

// Logger returns the logger of ctx's request: the middleware's Logger with
// a request_id attribute, built on first use. Outside a request it is
// slog.Default(). Log with its *Context methods (InfoContext, …) so that a
// [LogHandler] adds the trace and span IDs too.
func Logger(ctx context.Context) *slog.Logger {
	st, _ := ctx.Value(reqKey{}).(*reqState)
	if st == nil {
		return slog.Default()
	}
	st.once.Do(func() {
		base := st.base
		if base == nil {
			base = slog.Default()
		}
		st.logger = base.With(slog.String("request_id", st.id))
	})
	return st.logger
}
