package lb

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"strings"
)

// defaultReplayBodyLimit is RetryOptions.ReplayBodyLimit's default.
const defaultReplayBodyLimit = 64 << 10

// replay is the body of a keyed request, buffered so that every try sends
// it whole. A nil *replay sends the request's own body.
type replay struct {
	buf []byte
	// src is the request's body, read to its end but not closed: the
	// caller of a RoundTrip that fails closes it (a Transport's contract),
	// so it is closed here only when a response is returned (close).
	src io.Closer
}

// keyed reports whether req carries the idempotency key that makes it
// resendable and, if so, buffers its body within ReplayBodyLimit. It
// returns the body the first try sends: the buffer's reader, or, for a
// body over the limit (then not resendable), what was read to find that
// out followed by the rest. A failure to read the body is returned.
func (o *RetryOptions) keyed(req *http.Request) (ok bool, rp *replay, body io.ReadCloser, err error) {
	body = req.Body
	// A value of blanks is no key: HTTP strips a field's surrounding
	// whitespace, so the backend would see none and not record the work.
	if o.IdempotencyKeyHeader == "" || strings.Trim(req.Header.Get(o.IdempotencyKeyHeader), " \t") == "" {
		return false, nil, body, nil
	}
	if body == nil || body == http.NoBody {
		return true, nil, body, nil
	}
	if req.ContentLength > o.ReplayBodyLimit {
		return false, nil, body, nil
	}
	n := o.ReplayBodyLimit // read one byte more to tell a body over it
	if n < math.MaxInt64 {
		n++ // (at MaxInt64, n+1 would wrap to a limit of nothing: an empty body sent)
	}
	buf, err := readUpTo(req.Context(), body, n)
	if err != nil {
		return false, nil, body, err
	}
	if int64(len(buf)) > o.ReplayBodyLimit {
		return false, nil, &prefixed{Reader: io.MultiReader(bytes.NewReader(buf), body), c: body}, nil
	}
	rp = &replay{buf: buf, src: body}
	return true, rp, rp.reader(), nil
}

// readUpTo reads body up to n bytes, or until ctx is done: a client that
// gives up on a slow upload gets its request back at once, as
// http.Transport gives it back while sending a body. The read then goes on
// in its goroutine until the body's Read returns, which the caller's Close
// of the body (the Transport's, or the server's for a Proxy) brings about.
func readUpTo(ctx context.Context, body io.Reader, n int64) ([]byte, error) {
	if ctx.Done() == nil {
		return io.ReadAll(io.LimitReader(body, n))
	}
	type read struct {
		buf []byte
		err error
	}
	ch := make(chan read, 1)
	go func() {
		buf, err := io.ReadAll(io.LimitReader(body, n))
		ch <- read{buf, err}
	}()
	select {
	case r := <-ch:
		return r.buf, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close closes the request's body, all of which is in the buffer, once a
// response is returned.
func (rp *replay) close() {
	if rp != nil {
		rp.src.Close()
	}
}

// reader returns a fresh reader over the buffered body, or nil.
func (rp *replay) reader() io.ReadCloser {
	if rp == nil {
		return nil
	}
	return io.NopCloser(bytes.NewReader(rp.buf))
}

// prefixed is a body of which a prefix was already read into memory.
type prefixed struct {
	io.Reader
	c io.Closer
}

func (p *prefixed) Close() error { return p.c.Close() }

// validHeaderName reports whether s is empty or an HTTP token (RFC 9110).
func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
