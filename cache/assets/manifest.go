package assets

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// ManifestVersion is the format version WriteManifest writes and
// ReadManifest accepts.
const ManifestVersion = 1

// Manifest maps each logical name (a path in the FS, "js/app.js") to what
// was served for it. It is what a build step persists (WriteManifest) so a
// later build can pass it as [Build.Manifest], like Propshaft's
// .manifest.json or Vite's manifest.json.
type Manifest struct {
	Version int              `json:"version"`
	Files   map[string]Entry `json:"files"`
}

// Entry describes one asset.
type Entry struct {
	// Name is the hashed name, relative to the prefix: "js/app.3f2a9c1e0b4d.js".
	Name string `json:"name"`
	// Integrity is the subresource-integrity value of the identity bytes,
	// "sha384-<base64>".
	Integrity string `json:"integrity"`
	// ETag is the strong entity tag of the identity bytes, quoted.
	ETag string `json:"etag"`
	// Size of the identity bytes.
	Size int64 `json:"size"`
	// ContentType from the extension, or sniffed for files without one.
	// Informational: New serves a previous name with the type it computes
	// itself, as MIME tables differ between machines.
	ContentType string `json:"content_type"`
	// Encodings lists the precompressed variants served ("br", "gzip").
	Encodings []string `json:"encodings,omitempty"`
}

// WriteManifest writes m as indented JSON.
func WriteManifest(w io.Writer, m Manifest) error {
	if m.Version == 0 {
		m.Version = ManifestVersion
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("assets: write manifest: %w", err)
	}
	return nil
}

// maxManifest bounds what ReadManifest reads: a manifest of 100,000 assets
// is ~30 MB; anything larger is not one.
const maxManifest = 64 << 20

// ReadManifest parses a manifest written by WriteManifest: one JSON value,
// nothing but white space after it. It checks every
// name, so a manifest cannot make the handler serve a path outside the FS
// it was given with.
func ReadManifest(r io.Reader) (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(io.LimitReader(r, maxManifest))
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, wrap(ErrInvalidManifest, "%v", strings.TrimPrefix(err.Error(), "json: "))
	}
	// One value: two manifests concatenated, or junk after one, is not a
	// manifest whose first half may be trusted.
	if _, err := dec.Token(); err != io.EOF {
		return Manifest{}, wrap(ErrInvalidManifest, "data after the manifest")
	}
	if err := m.check(); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

func (m *Manifest) check() error {
	if m.Version != ManifestVersion {
		return wrap(ErrInvalidManifest, "version %d: want %d", m.Version, ManifestVersion)
	}
	for logical, e := range m.Files {
		if !validName(logical) {
			return wrap(ErrInvalidManifest, "logical name %q: not a clean relative path", logical)
		}
		if !validName(e.Name) {
			return wrap(ErrInvalidManifest, "%q: hashed name %q: not a clean relative path", logical, e.Name)
		}
		if !strings.HasPrefix(e.Integrity, "sha384-") {
			return wrap(ErrInvalidManifest, "%q: integrity %q: want sha384-…", logical, e.Integrity)
		}
	}
	return nil
}

// validName reports whether name is a path the handler may serve: valid
// for io/fs (no "..", ".", empty or rooted elements), and free of
// backslashes and control characters, which some file systems and
// proxies read as separators or terminators.
func validName(name string) bool {
	if !fs.ValidPath(name) || name == "." {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '\\' || c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}
