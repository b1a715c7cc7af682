package pgreplica

import (
	"fmt"
	"strconv"

	"github.com/ladder-go/ladder/replica"
)

// FormatLSN returns p as PostgreSQL writes a pg_lsn: two hexadecimal numbers,
// the high and low 32 bits, in upper case without leading zeros ("16/B374D848", "0/0").
func FormatLSN(p replica.Position) string {
	var b [17]byte
	out := strconv.AppendUint(b[:0], uint64(p)>>32, 16)
	out = append(out, '/')
	out = strconv.AppendUint(out, uint64(p)&0xFFFFFFFF, 16)
	for i, c := range out {
		if 'a' <= c && c <= 'f' {
			out[i] = c - 'a' + 'A'
		}
	}
	return string(out)
}

// ParseLSN parses a pg_lsn as PostgreSQL reads one: one to eight hexadecimal
// digits (either case), a slash, and one to eight more. Anything else,
// including spaces and signs, is an error wrapping [ErrInvalidLSN].
func ParseLSN(s string) (replica.Position, error) {
	hi, rest, ok := hexPart(s)
	if !ok || len(rest) == 0 || rest[0] != '/' {
		return 0, fmt.Errorf("%w: %q", ErrInvalidLSN, s)
	}
	lo, rest, ok := hexPart(rest[1:])
	if !ok || len(rest) != 0 {
		return 0, fmt.Errorf("%w: %q", ErrInvalidLSN, s)
	}
	return replica.Position(hi<<32 | lo), nil
}

// hexPart reads one to eight hexadecimal digits from the start of s.
func hexPart(s string) (v uint64, rest string, ok bool) {
	n := 0
	for n < len(s) && n <= 8 {
		c := s[n]
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return v, s[n:], n > 0
		}
		if n == 8 {
			return 0, s, false // a ninth digit: too long
		}
		v = v<<4 | uint64(d)
		n++
	}
	return v, s[n:], n > 0
}
