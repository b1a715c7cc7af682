package assets

import (
	"fmt"
	"html/template"
	"io/fs"
	"slices"
	"time"
)

// Assets serves one build of an fs.FS under content-hashed names. It is
// immutable after New and safe for concurrent use.
type Assets struct {
	prefix   string
	routes   map[string]route  // served name (below prefix) → asset
	current  map[string]*asset // logical name → asset of the current build
	manifest Manifest
	m        metrics
}

// route is what one served name means: its asset, and whether the name is
// a hashed one (immutable) or the logical one (revalidated).
type route struct {
	a      *asset
	hashed bool
}

// asset is one file's bytes and everything a response needs, computed once.
type asset struct {
	logical, hashed string
	url             string
	integrity       string
	// hashedMod is the Last-Modified of the hashed name, whose bytes never
	// change: the file's modification time or, without one, the time of
	// New. The logical name has none (see newAsset).
	hashedMod time.Time
	data      []byte
	variants  []variant // preferred first: br, then gzip
	// Header values, built once and assigned (never appended to: each has
	// len == cap, so a later Add copies).
	hType, hETag, hLen []string
	hHashedLastMod     []string
}

// variant is a precompressed sibling served for one content coding.
type variant struct {
	coding     string // "br" or "gzip"
	data       []byte
	hCE, hETag []string
	hLen       []string
}

var (
	hImmutable = []string{"public, max-age=31536000, immutable"}
	hNoCache   = []string{"no-cache"}
	hNoStore   = []string{"no-store"}
	hNosniff   = []string{"nosniff"}
	hVary      = []string{"Accept-Encoding"}
	hAllow     = []string{"GET, HEAD"}
	hBytes     = []string{"bytes"}
)

// New walks fsys once, reads and hashes every regular file, and returns the
// handler and manifest for them. Names starting with "." (files or
// directories) and anything but regular files (symlinks, devices) are
// skipped: a symlink in os.DirFS could point outside the directory.
// "x.br" and "x.gz" beside a file "x" are its precompressed variants, not
// assets of their own. Every file is held in memory: this is for a web
// application's scripts, styles, fonts and images, not a media library.
func New(fsys fs.FS, opts Options) (*Assets, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	cur, err := hashFS(fsys, o.DigestLength, now)
	if err != nil {
		return nil, err
	}
	a := &Assets{
		prefix:   o.Prefix,
		routes:   make(map[string]route, 2*len(cur)),
		current:  make(map[string]*asset, len(cur)),
		manifest: Manifest{Version: ManifestVersion, Files: make(map[string]Entry, len(cur))},
	}
	for _, x := range cur {
		x.url = o.Prefix + escapePath(x.hashed)
		a.current[x.logical] = x
		a.manifest.Files[x.logical] = x.entry()
		a.routes[x.logical] = route{a: x}
	}
	for _, x := range cur {
		if _, ok := a.routes[x.hashed]; ok {
			return nil, wrap(ErrConflict, "%q is both a file and the hashed name of %q", x.hashed, x.logical)
		}
		a.routes[x.hashed] = route{a: x, hashed: true}
	}
	if err := a.addPrevious(o, now); err != nil {
		return nil, err
	}
	if err := a.m.init(o.MeterProvider); err != nil {
		return nil, fmt.Errorf("assets: metrics: %w", err)
	}
	return a, nil
}

// URL returns the versioned URL of a logical name: Prefix + hashed name,
// escaped, "/assets/js/app.3f2a9c1e0b4d.js".
func (a *Assets) URL(name string) (string, error) {
	x, ok := a.current[name]
	if !ok {
		return "", wrap(ErrNotFound, "%q", name)
	}
	return x.url, nil
}

// Integrity returns the subresource-integrity value of a logical name,
// "sha384-…", for <script integrity=…>.
func (a *Assets) Integrity(name string) (string, error) {
	x, ok := a.current[name]
	if !ok {
		return "", wrap(ErrNotFound, "%q", name)
	}
	return x.integrity, nil
}

// FuncMap returns "asset" (logical name → versioned URL) and "integrity"
// (logical name → SRI value) for html/template. An unknown name fails the
// template's execution with an error naming it, never renders a broken link.
func (a *Assets) FuncMap() template.FuncMap {
	return template.FuncMap{"asset": a.URL, "integrity": a.Integrity}
}

// Manifest returns the current build's manifest (a copy).
func (a *Assets) Manifest() Manifest {
	m := Manifest{Version: a.manifest.Version, Files: make(map[string]Entry, len(a.manifest.Files))}
	for k, e := range a.manifest.Files {
		e.Encodings = slices.Clone(e.Encodings)
		m.Files[k] = e
	}
	return m
}
