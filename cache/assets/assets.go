package assets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
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
	// modTime is the file's modification time, zero when the FS has none
	// (embed.FS). Hashed names, whose bytes never change, use hashedMod:
	// modTime or, without one, the time of New.
	modTime, hashedMod time.Time
	data               []byte
	variants           []variant // preferred first: br, then gzip
	// Header values, built once and assigned (never appended to: each has
	// len == cap, so a later Add copies).
	hType, hETag, hLen []string
	hLastMod           []string // nil without modTime
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

// addPrevious adds the hashed names of earlier builds: first every build
// with an FS (whose bytes are known), then names known only from a
// manifest, which are served only where some build holds their bytes.
func (a *Assets) addPrevious(o Options, now time.Time) error {
	// Bytes already held, by integrity and content type (the same bytes
	// under another extension are another response).
	byIntegrity := make(map[string]*asset)
	key := func(integrity, ctype string) string { return integrity + "\x00" + ctype }
	for _, x := range a.current {
		byIntegrity[key(x.integrity, x.hType[0])] = x
	}
	type pending struct{ logical, hashed, key string }
	var orphans []pending
	for i, b := range o.Previous {
		if b.Manifest != nil {
			if err := b.Manifest.check(); err != nil {
				return fmt.Errorf("%w (Previous[%d])", err, i)
			}
		}
		if b.FS == nil {
			for logical, e := range b.Manifest.Files {
				orphans = append(orphans, pending{logical, e.Name, key(e.Integrity, e.ContentType)})
			}
			continue
		}
		files, err := hashFS(b.FS, o.DigestLength, now)
		if err != nil {
			return fmt.Errorf("%w (Previous[%d])", err, i)
		}
		for _, x := range files {
			hashed := x.hashed
			if b.Manifest != nil {
				e, ok := b.Manifest.Files[x.logical]
				if !ok {
					continue // the build never handed this name out
				}
				if e.Integrity != x.integrity {
					return wrap(ErrInvalidManifest, "Previous[%d]: %q: integrity %s, but the FS holds %s", i, x.logical, e.Integrity, x.integrity)
				}
				hashed = e.Name
			}
			if same, ok := byIntegrity[key(x.integrity, x.hType[0])]; ok {
				x = same // unchanged bytes: serve the copy already held
			} else {
				byIntegrity[key(x.integrity, x.hType[0])] = x
			}
			if err := a.addHashed(hashed, x); err != nil {
				return fmt.Errorf("%w (Previous[%d])", err, i)
			}
		}
		if b.Manifest != nil {
			for logical, e := range b.Manifest.Files {
				if _, ok := files[logical]; !ok {
					orphans = append(orphans, pending{logical, e.Name, key(e.Integrity, e.ContentType)})
				}
			}
		}
	}
	var lost []string
	for _, p := range orphans {
		x, ok := byIntegrity[p.key]
		if !ok {
			if r, ok := a.routes[p.hashed]; !ok || !r.hashed {
				lost = append(lost, p.hashed)
			}
			continue
		}
		if err := a.addHashed(p.hashed, x); err != nil {
			return err
		}
	}
	if len(lost) > 0 {
		slices.Sort(lost)
		o.Logger.Warn("assets: previous build names without bytes will answer 404; pass that build's FS in Build.FS",
			"count", len(lost), "first", lost[:min(len(lost), 5)])
	}
	return nil
}

// addHashed serves name (a previous build's hashed name) with x's bytes.
func (a *Assets) addHashed(name string, x *asset) error {
	r, ok := a.routes[name]
	switch {
	case !ok:
		a.routes[name] = route{a: x, hashed: true}
	case !r.hashed:
		return wrap(ErrConflict, "a previous build's hashed name %q is a current file's name", name)
	case r.a.integrity != x.integrity:
		return wrap(ErrConflict, "hashed name %q names two different contents (%s and %s): raise DigestLength", name, r.a.integrity, x.integrity)
	}
	return nil
}

// hashFS reads every servable file of fsys and returns its assets by
// logical name, each with its precompressed variants.
func hashFS(fsys fs.FS, digestLen int, now time.Time) (map[string]*asset, error) {
	type file struct {
		data []byte
		mod  time.Time
	}
	files := make(map[string]file)
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !validName(name) {
			return nil
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		var mod time.Time
		if info, err := d.Info(); err == nil {
			mod = info.ModTime()
		}
		files[name] = file{data, mod}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("assets: walk: %w", err)
	}
	out := make(map[string]*asset, len(files))
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if base, ok := variantBase(name); ok {
			if _, ok := files[base]; ok {
				continue
			}
		}
		f := files[name]
		x := newAsset(name, f.data, digestLen, f.mod, now)
		for _, c := range [...]struct{ ext, coding string }{{".br", "br"}, {".gz", "gzip"}} {
			v, ok := files[name+c.ext]
			if !ok || len(v.data) >= len(f.data) {
				continue // a variant no smaller than the file only costs bytes
			}
			if c.coding == "gzip" {
				if err := checkGzip(v.data, f.data); err != nil {
					return nil, wrap(ErrStaleVariant, "%q: %v", name+c.ext, err)
				}
			}
			x.variants = append(x.variants, newVariant(c.coding, v.data))
		}
		out[name] = x
	}
	return out, nil
}

func variantBase(name string) (string, bool) {
	if b, ok := strings.CutSuffix(name, ".br"); ok {
		return b, true
	}
	return strings.CutSuffix(name, ".gz")
}

// checkGzip decompresses gz (reading at most one byte more than want) and
// compares it with want.
func checkGzip(gz, want []byte) error {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return err
	}
	got, err := io.ReadAll(io.LimitReader(zr, int64(len(want))+1))
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("decompresses to other bytes")
	}
	return nil
}

func newAsset(name string, data []byte, digestLen int, mod, now time.Time) *asset {
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	sri := sha512.Sum384(data)
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = http.DetectContentType(data)
	}
	// A logical name without a modification time gets no Last-Modified:
	// instances started at different times would disagree on a made-up
	// one, and an If-Modified-Since could then keep an old build's bytes.
	// A hashed name may take the start time: its bytes never change.
	mod = mod.UTC().Truncate(time.Second)
	if mod.After(now) {
		mod = now // never later than Date (RFC 9110 §8.8.2.1)
	}
	hashedMod := mod
	if mod.IsZero() || mod.Unix() == 0 {
		mod, hashedMod = time.Time{}, now
	}
	var hLastMod []string
	if !mod.IsZero() {
		hLastMod = []string{mod.Format(http.TimeFormat)}
	}
	return &asset{
		logical:        name,
		hashed:         hashedName(name, digest[:digestLen]),
		integrity:      "sha384-" + base64.StdEncoding.EncodeToString(sri[:]),
		modTime:        mod,
		hashedMod:      hashedMod,
		data:           data,
		hType:          []string{ctype},
		hETag:          []string{`"` + digest[:32] + `"`},
		hLen:           []string{strconv.Itoa(len(data))},
		hLastMod:       hLastMod,
		hHashedLastMod: []string{hashedMod.Format(http.TimeFormat)},
	}
}

func newVariant(coding string, data []byte) variant {
	sum := sha256.Sum256(data)
	return variant{
		coding: coding,
		data:   data,
		hCE:    []string{coding},
		// The variant's own digest: a strong ETag names these exact bytes.
		hETag: []string{`"` + hex.EncodeToString(sum[:16]) + `"`},
		hLen:  []string{strconv.Itoa(len(data))},
	}
}

// hashedName puts the digest before the last extension: "js/app.min.js" →
// "js/app.min.3f2a9c1e0b4d.js"; a name without one gets it appended.
func hashedName(name, digest string) string {
	dir, base := path.Split(name)
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		return dir + base[:i] + "." + digest + base[i:]
	}
	return name + "." + digest
}

// escapePath percent-encodes each element of a relative path for a URL.
func escapePath(p string) string {
	return (&url.URL{Path: p}).EscapedPath()
}

func (x *asset) entry() Entry {
	e := Entry{
		Name:        x.hashed,
		Integrity:   x.integrity,
		ETag:        x.hETag[0],
		Size:        int64(len(x.data)),
		ContentType: x.hType[0],
	}
	for _, v := range x.variants {
		e.Encodings = append(e.Encodings, v.coding)
	}
	return e
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
