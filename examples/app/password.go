package app

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// DefaultKDFIterations is PBKDF2-HMAC-SHA256's iteration count when
// Config.KDFIterations is 0: OWASP's 2023 recommendation (600,000). One hash
// then costs a few hundred milliseconds of CPU on a small core, which is the
// point: a login is the most expensive request of the application, and a
// load test that logs in often saturates the box on it.
//
// golang.org/x/crypto (argon2id, scrypt, bcrypt) is not among ladder's
// dependencies, so the examples use crypto/pbkdf2 from the standard library
// (Go 1.24+, FIPS 140-3 approved). In your service, argon2id is the better
// choice where you can add the module.
const DefaultKDFIterations = 600_000

// MinKDFIterations is the lowest iteration count HashPassword accepts: low
// counts are for tests and -quick runs only, and the examples print the count
// they used.
const MinKDFIterations = 1_000

// MaxKDFIterations is the highest iteration count HashPassword makes and
// CheckPassword checks: it bounds the CPU a stored hash can ask for.
const MaxKDFIterations = 100_000_000

const kdfScheme = "pbkdf2-sha256"

// HashPassword returns an encoded hash of password with a fresh 16-byte salt:
// "pbkdf2-sha256$<iterations>$<salt>$<key>" (base64, no padding). The
// iteration count travels with the hash, so it can be raised later without
// invalidating stored hashes.
func HashPassword(password string, iterations int) (string, error) {
	if iterations < MinKDFIterations || iterations > MaxKDFIterations {
		return "", fmt.Errorf("%w: KDF iterations %d: must be %d to %d", ErrInvalidOptions, iterations, MinKDFIterations, MaxKDFIterations)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("app: salt: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, 32)
	if err != nil {
		return "", fmt.Errorf("app: pbkdf2: %w", err)
	}
	enc := base64.RawStdEncoding
	return kdfScheme + "$" + strconv.Itoa(iterations) + "$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key), nil
}

// CheckPassword reports whether password matches an encoded hash made by
// HashPassword, comparing in constant time. A malformed hash never matches.
func CheckPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 || parts[0] != kdfScheme {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < MinKDFIterations || iter > MaxKDFIterations {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}
