package assets

import (
	"io/fs"
	"log/slog"
	"path"
	"strings"

	"go.opentelemetry.io/otel/metric"
)

// DefaultDigestLength is the number of hex characters of a file's SHA-256
// put in its hashed name when Options.DigestLength is 0.
//
// 12 hex characters are 48 bits. A digest only has to tell apart the
// versions of one logical name (the name is part of the URL), and a clash
// matters only if it lands on a version some cache still holds. By the
// birthday bound, 1,000 files with 1,000 versions each clash with
// probability ≈ 1000 · 1000² / 2⁴⁹ ≈ 2·10⁻⁶ over the project's life; with 8
// characters (32 bits, Vite's length) the same history clashes with
// probability ≈ 12 %, and a clash under an immutable Cache-Control is a
// wrong file pinned in browsers for a year. Four more bytes per URL are
// cheap. New refuses a clash it can see (ErrConflict).
const DefaultDigestLength = 12

// Options configures [New]. The zero value serves under /assets/ with
// 12-character digests and no previous builds.
type Options struct {
	// Prefix is the URL path the handler is mounted at: it starts and ends
	// with "/" and is a clean path (no "//", "." or ".." elements). URL
	// returns Prefix + hashed name; ServeHTTP answers paths
	// below it. "" means "/assets/".
	Prefix string
	// DigestLength is the number of hex characters of the SHA-256 in hashed
	// names, from 8 to 64. 0 means [DefaultDigestLength].
	DigestLength int
	// Previous lists earlier builds still referenced by pages or CSS in
	// flight during a rolling deploy (and by CDNs and browsers holding those
	// pages). Their hashed names keep being served, with their own bytes;
	// their logical names are not (a logical name always means the current
	// build). See [Build].
	Previous []Build
	// MeterProvider for the request and byte counters; nil means
	// otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// Logger reports, once at New, previous-build names that cannot be
	// served; nil means slog.Default().
	Logger *slog.Logger
}

// Build is one earlier build: its manifest, its files, or both.
//
//   - FS and Manifest: the manifest's hashed names are served with the
//     bytes of FS, checked against the manifest's integrity (a mismatch is
//     an ErrInvalidManifest from New). This is the exact form.
//   - FS alone: FS is hashed as New hashes the current one, so its names
//     are right only if that build used the same DigestLength.
//   - Manifest alone: each hashed name is served if its bytes are known
//     (the current build or another previous build holds a file with the
//     same integrity, e.g. the file did not change), with the Content-Type
//     this instance gives the name (the manifest's may come from another
//     machine's MIME table). Names whose bytes are
//     nowhere are logged and answer 404: never the current build's bytes
//     under the old name, which an immutable cache would keep forever.
type Build struct {
	Manifest *Manifest
	FS       fs.FS
}

func (o *Options) withDefaults() (Options, error) {
	c := *o
	if c.Prefix == "" {
		c.Prefix = "/assets/"
	}
	// A Prefix with "." or ".." elements would hand out URLs that
	// browsers and ServeMux clean into paths the handler never answers.
	if !strings.HasPrefix(c.Prefix, "/") || !strings.HasSuffix(c.Prefix, "/") ||
		c.Prefix != "/" && path.Clean(c.Prefix)+"/" != c.Prefix || escapePath(c.Prefix) != c.Prefix || strings.Contains(c.Prefix, "%") {
		return c, wrap(ErrInvalidOptions, "Prefix %q: must start and end with /, be a clean path (no //, . or ..), and need no escaping in a URL", o.Prefix)
	}
	switch {
	case c.DigestLength == 0:
		c.DigestLength = DefaultDigestLength
	case c.DigestLength < 8 || c.DigestLength > 64:
		return c, wrap(ErrInvalidOptions, "DigestLength %d: must be 0 or in [8, 64]", c.DigestLength)
	}
	for i, b := range c.Previous {
		if b.FS == nil && b.Manifest == nil {
			return c, wrap(ErrInvalidOptions, "Previous[%d]: neither Manifest nor FS", i)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
