package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"strings"
)

// tokenBytes is the identifier's entropy: 256 bits.
const tokenBytes = 32

// tokenLen is the length of a token in unpadded base64url.
var tokenLen = base64.RawURLEncoding.EncodedLen(tokenBytes)

var tokenEncoding = base64.RawURLEncoding.Strict()

// newToken returns a fresh token and its store key.
func newToken() (token, key string) {
	var b [tokenBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error (Go ≥ 1.24).
	return tokenEncoding.EncodeToString(b[:]), hashKey(b[:])
}

// parseToken validates a cookie value and returns its store key. Anything but a canonical
// 43-character base64url encoding of 32 bytes is rejected.
func parseToken(s string) (key string, ok bool) {
	if len(s) != tokenLen {
		return "", false
	}
	var b [tokenBytes + 3]byte
	n, err := tokenEncoding.Decode(b[:], []byte(s))
	if err != nil || n != tokenBytes {
		return "", false
	}
	return hashKey(b[:n]), true
}

// hashKey is the store key of a raw token: hex SHA-256.
func hashKey(b []byte) string {
	sum := sha256.Sum256(b)
	var buf [2 * sha256.Size]byte
	hex.Encode(buf[:], sum[:])
	return string(buf[:])
}

// KeyOf returns the store key of a cookie value, for tools that inspect a store; ok is
// false if the value is not a well-formed token.
func KeyOf(token string) (key string, ok bool) { return parseToken(token) }

// cookieValue returns the value of the first cookie called name in the request's Cookie
// headers, without parsing the others. Values are not unquoted: a quoted value is not a
// well-formed token anyway.
func cookieValue(h http.Header, name string) (string, bool) {
	for _, line := range h["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, ok := strings.Cut(textproto.TrimString(part), "=")
			if ok && k == name {
				return v, true
			}
		}
	}
	return "", false
}
