package assets_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/cache/assets"
)

const secret = "TOP-SECRET-OUTSIDE-THE-FS"

// publicDir makes dir/secret.txt (outside the FS) and dir/public (the FS)
// with an asset, a dotfile and a symlink pointing at the secret.
func publicDir(t testing.TB) (*assets.Assets, string) {
	t.Helper()
	dir := t.TempDir()
	pub := filepath.Join(dir, "public")
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(pub, "js"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "secret.txt"), []byte(secret), 0o644))
	must(os.WriteFile(filepath.Join(pub, "js", "app.js"), []byte("app"), 0o644))
	must(os.WriteFile(filepath.Join(pub, ".env"), []byte(secret), 0o644))
	must(os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(pub, "link.js")))
	must(os.Symlink(dir, filepath.Join(pub, "up")))
	a, err := assets.New(os.DirFS(pub), assets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a, dir
}

// Requests written raw on the wire (no client normalises them) for paths
// outside the FS: every one is refused, none returns the secret.
func TestTraversalRefused(t *testing.T) {
	a, _ := publicDir(t)
	srv := httptest.NewServer(a)
	defer srv.Close()
	targets := []string{
		"/assets/../secret.txt",
		"/assets/../../secret.txt",
		"/assets/%2e%2e/secret.txt",
		"/assets/%2E%2E/secret.txt",
		"/assets/%2e%2e%2fsecret.txt",
		"/assets/..%2fsecret.txt",
		"/assets/..%2Fsecret.txt",
		"/assets/%252e%252e%252fsecret.txt",
		"/assets/..\\secret.txt",
		"/assets/..%5csecret.txt",
		"/assets/js/..%2f..%2fsecret.txt",
		"/assets/js/app.js%00",
		"/assets/js/app.js%00.png",
		"/assets/%00",
		"/assets//etc/passwd",
		"/assets/%2fetc%2fpasswd",
		"/assets/%2f..%2fsecret.txt",
		"/assets/C:%5csecret.txt",
		"/assets/link.js",
		"/assets/up/secret.txt",
		"/assets/.env",
		"/assets/./.env",
		"/assets/js/./app.js",
		"/assets/js//app.js",
		"/secret.txt",
		"http://example.com/assets/../secret.txt", // absolute-form
		"//assets/../secret.txt",
	}
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 404 && res.StatusCode != 400 {
				t.Errorf("status %d", res.StatusCode)
			}
			if strings.Contains(string(body), secret) {
				t.Errorf("secret served")
			}
		})
	}
	// The asset itself is served, by its logical name and its hashed one.
	for _, p := range []string{"/assets/js/app.js", mustURL(t, a, "js/app.js")} {
		if w := do(a, "GET", p); w.Code != 200 || w.Body.String() != "app" {
			t.Errorf("%s: %d", p, w.Code)
		}
	}
	if got := len(a.Manifest().Files); got != 1 {
		t.Errorf("manifest holds %d files, want only js/app.js: %v", got, a.Manifest().Files)
	}
}
