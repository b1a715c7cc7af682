package replica

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// A token is base64url (no padding) of
//
//	version (1 byte, 1) | position (8 bytes) | pinned until (8, Unix ms) | expires (8, Unix ms) | HMAC-SHA256 of the rest, first 16 bytes
//
// 41 bytes, 55 characters. The MAC covers everything before it, so a client can
// neither forge a position nor stretch the expiry.
const (
	tokenVersion = 1
	tokenBody    = 1 + 8 + 8 + 8
	tokenMAC     = 16
	tokenLen     = tokenBody + tokenMAC
	tokenChars   = (tokenLen*8 + 5) / 6
)

var (
	errTokenMalformed = errors.New("replica: token malformed")
	errTokenForged    = errors.New("replica: token signature invalid")
	errTokenExpired   = errors.New("replica: token expired")
)

// tokenState is what a token carries.
type tokenState struct {
	pos      Position
	pinUntil int64 // Unix ms, 0 if none
}

func sign(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return m.Sum(nil)[:tokenMAC]
}

// encodeToken signs st with key, valid until expires.
func encodeToken(key []byte, st tokenState, expires time.Time) string {
	var b [tokenLen]byte
	b[0] = tokenVersion
	binary.BigEndian.PutUint64(b[1:], uint64(st.pos))
	binary.BigEndian.PutUint64(b[9:], uint64(st.pinUntil))
	binary.BigEndian.PutUint64(b[17:], uint64(expires.UnixMilli()))
	copy(b[tokenBody:], sign(key, b[:tokenBody]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// decodeToken checks a token against keys and the clock. It never trusts
// the content of a token that fails any check.
func decodeToken(keys [][]byte, tok string, now time.Time) (tokenState, error) {
	if len(tok) != tokenChars {
		return tokenState{}, errTokenMalformed
	}
	var b [tokenLen]byte
	if n, err := decodeB64(b[:], tok); err != nil || n != tokenLen || b[0] != tokenVersion {
		return tokenState{}, errTokenMalformed
	}
	ok := false
	for _, k := range keys {
		if hmac.Equal(sign(k, b[:tokenBody]), b[tokenBody:]) {
			ok = true
			break
		}
	}
	if !ok {
		return tokenState{}, errTokenForged
	}
	if exp := int64(binary.BigEndian.Uint64(b[17:])); exp <= now.UnixMilli() {
		return tokenState{}, errTokenExpired
	}
	return tokenState{
		pos:      Position(binary.BigEndian.Uint64(b[1:])),
		pinUntil: int64(binary.BigEndian.Uint64(b[9:])),
	}, nil
}

func decodeB64(dst []byte, s string) (int, error) {
	return base64.RawURLEncoding.Strict().Decode(dst, []byte(s))
}
