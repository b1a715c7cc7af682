package assets_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ladder-go/ladder/cache/assets"
)

var prefixRE = regexp.MustCompile(`\bassets: `)

func assertPrefixOnce(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	msg := err.Error()
	if n := len(prefixRE.FindAllStringIndex(msg, -1)); n != 1 || !strings.HasPrefix(msg, "assets: ") {
		t.Errorf("%s: %q: want the prefix \"assets: \" once, at the start (found %d)", what, msg, n)
	}
}

func TestBadOptions(t *testing.T) {
	cases := map[string]struct {
		o    assets.Options
		want string
	}{
		"Prefix without leading slash":  {assets.Options{Prefix: "assets/"}, `assets: invalid options: Prefix "assets/": must`},
		"Prefix without trailing slash": {assets.Options{Prefix: "/assets"}, `Prefix "/assets"`},
		"Prefix with //":                {assets.Options{Prefix: "//cdn/"}, `Prefix "//cdn/"`},
		"Prefix with ?":                 {assets.Options{Prefix: "/a?/"}, `Prefix "/a?/"`},
		"Prefix with a space":           {assets.Options{Prefix: "/my assets/"}, `Prefix "/my assets/"`},
		"Prefix with %":                 {assets.Options{Prefix: "/a%20b/"}, `Prefix "/a%20b/"`},
		"Prefix with backslash":         {assets.Options{Prefix: "/a\\b/"}, `Prefix "/a\\b/"`},
		"Prefix with ..":                {assets.Options{Prefix: "/assets/../static/"}, `Prefix "/assets/../static/"`},
		"Prefix with .":                 {assets.Options{Prefix: "/./assets/"}, `Prefix "/./assets/"`},
		"Prefix ending in ..":           {assets.Options{Prefix: "/a/../"}, `Prefix "/a/../"`},
		"DigestLength 7":                {assets.Options{DigestLength: 7}, "assets: invalid options: DigestLength 7: must be 0 or in [8, 64]"},
		"DigestLength 65":               {assets.Options{DigestLength: 65}, "DigestLength 65"},
		"DigestLength -1":               {assets.Options{DigestLength: -1}, "DigestLength -1"},
		"empty previous build":          {assets.Options{Previous: []assets.Build{{}}}, "assets: invalid options: Previous[0]: neither Manifest nor FS"},
		"previous manifest of another version": {assets.Options{Previous: []assets.Build{{Manifest: &assets.Manifest{Version: 9}}}},
			"assets: invalid manifest: version 9: want 1 (Previous[0])"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := assets.New(fstest.MapFS{}, c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v, want %q", err, c.want)
			}
			if !errors.Is(err, assets.ErrInvalidOptions) && !errors.Is(err, assets.ErrInvalidManifest) {
				t.Errorf("%v: no sentinel", err)
			}
			assertPrefixOnce(t, name, err)
		})
	}
}

func TestHashedNames(t *testing.T) {
	data := map[string][]byte{"app.js": []byte("a"), "js/app.min.js": []byte("b"), "LICENSE": []byte("c"), "dir.v2/file": []byte("d")}
	fsys := fstest.MapFS{}
	for k, v := range data {
		fsys[k] = &fstest.MapFile{Data: v}
	}
	digest := func(b []byte, n int) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:])[:n] }
	for _, n := range []int{0, 8, 64} {
		a := mustNew(t, fsys, assets.Options{DigestLength: n, Prefix: "/s/"})
		l := n
		if l == 0 {
			l = assets.DefaultDigestLength
		}
		want := map[string]string{
			"app.js":        "/s/app." + digest(data["app.js"], l) + ".js",
			"js/app.min.js": "/s/js/app.min." + digest(data["js/app.min.js"], l) + ".js",
			"LICENSE":       "/s/LICENSE." + digest(data["LICENSE"], l),
			"dir.v2/file":   "/s/dir.v2/file." + digest(data["dir.v2/file"], l),
		}
		for name, u := range want {
			if got := mustURL(t, a, name); got != u {
				t.Errorf("DigestLength %d: URL(%q) = %q, want %q", n, name, got, u)
			}
		}
	}
}

// A file whose name is another file's hashed name would make one URL mean
// two things: New refuses.
func TestNameConflict(t *testing.T) {
	a := mustNew(t, fstest.MapFS{"app.js": {Data: []byte("x")}}, assets.Options{})
	hashed := strings.TrimPrefix(mustURL(t, a, "app.js"), "/assets/")
	_, err := assets.New(fstest.MapFS{"app.js": {Data: []byte("x")}, hashed: {Data: []byte("y")}}, assets.Options{})
	if !errors.Is(err, assets.ErrConflict) {
		t.Fatalf("%v", err)
	}
	assertPrefixOnce(t, "conflict", err)
}

func TestEmptyFS(t *testing.T) {
	a := mustNew(t, fstest.MapFS{}, assets.Options{})
	if len(a.Manifest().Files) != 0 || do(a, "GET", "/assets/").Code != 404 {
		t.Fatal("empty FS serves something")
	}
}
