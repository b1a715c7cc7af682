package assets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
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

// checkGzip decompresses gz and compares it with want as it goes, holding
// no second copy of the file.
func checkGzip(gz, want []byte) error {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return err
	}
	cw := compareWriter{want: want}
	if _, err := io.Copy(&cw, io.LimitReader(zr, int64(len(want))+1)); err != nil {
		return err
	}
	if len(cw.want) != 0 {
		return errOtherBytes
	}
	return nil
}

var errOtherBytes = errors.New("decompresses to other bytes")

// compareWriter consumes want as matching bytes are written.
type compareWriter struct{ want []byte }

func (c *compareWriter) Write(p []byte) (int, error) {
	if len(p) > len(c.want) || !bytes.Equal(p, c.want[:len(p)]) {
		return 0, errOtherBytes
	}
	c.want = c.want[len(p):]
	return len(p), nil
}

func newAsset(name string, data []byte, digestLen int, mod, now time.Time) *asset {
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	sri := sha512.Sum384(data)
	ctype := contentType(name, data)
	// Only a hashed name has a Last-Modified: its bytes never change, so
	// any date is a true one, the file's or, without one, the start time.
	// A logical name's bytes change from build to build while file times
	// need not move forward (a rollback to an older build, reproducible
	// builds with one fixed mtime, embed.FS with none, instances started
	// at different times): an If-Modified-Since could keep another build's
	// bytes. Its validator is the strong ETag alone.
	mod = mod.UTC().Truncate(time.Second)
	if mod.After(now) {
		mod = now // never later than Date (RFC 9110 §8.8.2.1)
	}
	if mod.IsZero() || mod.Unix() == 0 {
		mod = now
	}
	return &asset{
		logical:        name,
		hashed:         hashedName(name, digest[:digestLen]),
		integrity:      "sha384-" + base64.StdEncoding.EncodeToString(sri[:]),
		hashedMod:      mod,
		data:           data,
		hType:          []string{ctype},
		hETag:          []string{`"` + digest[:32] + `"`},
		hLen:           []string{strconv.Itoa(len(data))},
		hHashedLastMod: []string{mod.Format(http.TimeFormat)},
	}
}

// contentType is the Content-Type of a file: from its extension, or
// sniffed from its bytes for an extension this machine does not know.
func contentType(name string, data []byte) string {
	if ctype := mime.TypeByExtension(path.Ext(name)); ctype != "" {
		return ctype
	}
	return http.DetectContentType(data)
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
