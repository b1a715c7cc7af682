package lb

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
)

// redactErr is err's message fit for a log: without the request URL a
// *url.Error repeats, and without any query string or userinfo quoted
// anywhere in it (a transport error may quote a backend's answer, and a
// broken backend may echo the request line).
func redactErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return redact(ue.Op + ": " + ue.Err.Error())
	}
	return redact(err.Error())
}

// redact replaces query strings ("?token=…" up to the next space or quote)
// and the userinfo of URLs ("://user:pass@") in s.
func redact(s string) string {
	if !strings.Contains(s, "?") && !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case s[i] == '?':
			b.WriteString("?[redacted]")
			i = wordEnd(s, i+1)
		case strings.HasPrefix(s[i:], "://"):
			b.WriteString("://")
			i += 3
			end := wordEnd(s, i)
			if at := strings.LastIndexByte(s[i:end], '@'); at >= 0 && !strings.ContainsAny(s[i:i+at], "/?#") {
				b.WriteString("[redacted]@")
				i += at + 1
			}
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}

// wordEnd is the index of the first space, quote or backslash at or after i.
func wordEnd(s string, i int) int {
	if j := strings.IndexAny(s[i:], " \t\r\n\"'`\\"); j >= 0 {
		return i + j
	}
	return len(s)
}

// redactHandler redacts the messages of httputil.ReverseProxy's error log
// (body copy errors and the like, which may quote a URL).
type redactHandler struct{ slog.Handler }

func (h redactHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a.Value.Kind() == slog.KindString {
			a.Value = slog.StringValue(redact(a.Value.String()))
		}
		out.AddAttrs(a)
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return redactHandler{h.Handler.WithAttrs(as)}
}

func (h redactHandler) WithGroup(name string) slog.Handler {
	return redactHandler{h.Handler.WithGroup(name)}
}
