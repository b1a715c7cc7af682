package assets

import (
	"fmt"
	"slices"
	"time"
)

// heldBytes finds bytes already held by integrity and content type (the
// same bytes under another extension are another response).
type heldBytes map[string]*asset

func heldKey(integrity, ctype string) string { return integrity + "\x00" + ctype }

// byIntegrity indexes the held bytes by integrity alone, picking for each
// the asset with the most precompressed variants (then the first logical
// name), so every instance picks the same.
func (h heldBytes) byIntegrity() map[string]*asset {
	m := make(map[string]*asset, len(h))
	for _, x := range h {
		y, ok := m[x.integrity]
		if !ok || len(x.variants) > len(y.variants) || len(x.variants) == len(y.variants) && x.logical < y.logical {
			m[x.integrity] = x
		}
	}
	return m
}

// pending is a previous hashed name known only from a manifest.
type pending struct{ logical, hashed, integrity string }

// addPrevious adds the hashed names of earlier builds: first every build
// with an FS (whose bytes are known), then names known only from a
// manifest, which are served only where some build holds their bytes.
func (a *Assets) addPrevious(o Options, now time.Time) error {
	held := make(heldBytes)
	for _, x := range a.current {
		held[heldKey(x.integrity, x.hType[0])] = x
	}
	var orphans []pending
	for i, b := range o.Previous {
		more, err := a.addBuild(b, o.DigestLength, now, held)
		if err != nil {
			return fmt.Errorf("%w (Previous[%d])", err, i)
		}
		orphans = append(orphans, more...)
	}
	byIntegrity := held.byIntegrity()
	// Names with bytes first, then the others against every route, so a
	// clash is found whatever the order of builds and of map iteration.
	var unheld []pending
	for _, p := range orphans {
		src, ok := byIntegrity[p.integrity]
		if !ok {
			unheld = append(unheld, p)
			continue
		}
		// The Content-Type is this instance's for the name, not the
		// manifest's: one written on another machine or by another Go
		// release may spell it differently ("application/javascript").
		ctype := contentType(p.logical, src.data)
		k := heldKey(p.integrity, ctype)
		x, ok := held[k]
		if !ok { // the same bytes, held under another type: share them
			c := *src
			c.logical, c.hType = p.logical, []string{ctype}
			x = &c
			held[k] = x
		}
		if err := a.addHashed(p.hashed, x); err != nil {
			return err
		}
	}
	var lost []string
	for _, p := range unheld {
		r, ok := a.routes[p.hashed]
		switch {
		case !ok || !r.hashed:
			lost = append(lost, p.hashed)
		case r.a.integrity != p.integrity:
			return wrap(ErrConflict, "hashed name %q names two different contents (%s and %s): raise DigestLength", p.hashed, r.a.integrity, p.integrity)
		}
	}
	if len(lost) > 0 {
		slices.Sort(lost)
		o.Logger.Warn("assets: previous build names without bytes will answer 404; pass that build's FS in Build.FS",
			"count", len(lost), "first", lost[:min(len(lost), 5)])
	}
	return nil
}

// addBuild serves the hashed names of one previous build whose bytes it
// has, and returns the manifest's names whose bytes it lacks.
func (a *Assets) addBuild(b Build, digestLen int, now time.Time, held heldBytes) ([]pending, error) {
	var files map[string]*asset
	if b.Manifest != nil {
		if err := b.Manifest.check(); err != nil {
			return nil, err
		}
	}
	if b.FS != nil {
		var err error
		if files, err = hashFS(b.FS, digestLen, now); err != nil {
			return nil, err
		}
	}
	for _, x := range files {
		hashed := x.hashed
		if b.Manifest != nil {
			e, ok := b.Manifest.Files[x.logical]
			if !ok {
				continue // the build never handed this name out
			}
			if e.Integrity != x.integrity {
				return nil, wrap(ErrInvalidManifest, "%q: integrity %s, but the FS holds %s", x.logical, e.Integrity, x.integrity)
			}
			hashed = e.Name
		}
		k := heldKey(x.integrity, x.hType[0])
		if same, ok := held[k]; ok {
			x = same // unchanged bytes: serve the copy already held
		} else {
			held[k] = x
		}
		if err := a.addHashed(hashed, x); err != nil {
			return nil, err
		}
	}
	var orphans []pending
	if b.Manifest != nil {
		for logical, e := range b.Manifest.Files {
			if _, ok := files[logical]; !ok {
				orphans = append(orphans, pending{logical, e.Name, e.Integrity})
			}
		}
	}
	return orphans, nil
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
