package replica

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

var testKey = bytes.Repeat([]byte("k"), 32)

func TestTokenRoundTrip(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	st := tokenState{pos: 0xDEADBEEF, pinUntil: now.Add(time.Second).UnixMilli()}
	tok := encodeToken(testKey, st, now.Add(time.Minute))
	if len(tok) != tokenChars {
		t.Fatalf("token of %d characters, want %d", len(tok), tokenChars)
	}
	got, err := decodeToken([][]byte{testKey}, tok, now)
	if err != nil || got != st {
		t.Fatalf("decoded %+v, %v; want %+v", got, err, st)
	}
	if _, err := decodeToken([][]byte{bytes.Repeat([]byte("x"), 32), testKey}, tok, now); err != nil {
		t.Fatalf("a previous key no longer verifies: %v", err)
	}
	if _, err := decodeToken([][]byte{testKey}, tok, now.Add(time.Minute)); err != errTokenExpired {
		t.Fatalf("at expiry: %v, want expired", err)
	}
	if _, err := decodeToken([][]byte{bytes.Repeat([]byte("x"), 32)}, tok, now); err != errTokenForged {
		t.Fatalf("other key: %v, want forged", err)
	}
	// Flipping any bit of the token is detected.
	for i := range tok {
		b := []byte(tok)
		b[i] ^= 1
		if got, err := decodeToken([][]byte{testKey}, string(b), now); err == nil {
			t.Fatalf("token with character %d changed accepted: %+v", i, got)
		}
	}
}

// FuzzDecodeToken: no input panics, and an accepted token is exactly the
// encoding of what it decodes to (so no two spellings of one token exist and
// nothing unsigned slips through).
func FuzzDecodeToken(f *testing.F) {
	now := time.UnixMilli(1_700_000_000_000)
	f.Add(encodeToken(testKey, tokenState{pos: 42}, now.Add(time.Minute)))
	f.Add(encodeToken(testKey, tokenState{pinUntil: 1}, now.Add(time.Hour)))
	f.Add("")
	f.Add("not a token")
	f.Add(string(bytes.Repeat([]byte("A"), tokenChars)))
	f.Fuzz(func(t *testing.T, tok string) {
		st, err := decodeToken([][]byte{testKey}, tok, now)
		if err != nil {
			if st != (tokenState{}) {
				t.Fatalf("rejected token returned content %+v", st)
			}
			return
		}
		var b [tokenLen]byte
		_, _ = decodeB64(b[:], tok)
		exp := time.UnixMilli(int64(beUint64(b[17:])))
		if again := encodeToken(testKey, st, exp); again != tok {
			t.Fatalf("accepted %q, which re-encodes as %q", tok, again)
		}
	})
}

func beUint64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
