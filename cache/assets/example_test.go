package assets_test

import (
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"testing/fstest"

	"github.com/ladder-go/ladder/cache/assets"
)

// Link assets from html/template by logical name; serve them under their
// hashed names with a year of immutable caching.
func Example() {
	// In a program: //go:embed static, then fs.Sub(static, "static").
	fsys := fstest.MapFS{
		"js/app.js":    {Data: []byte("console.log('hello');\n")},
		"css/site.css": {Data: []byte("body { margin: 0 }\n")},
	}
	a, err := assets.New(fsys, assets.Options{})
	if err != nil {
		panic(err)
	}
	defer a.Close()

	page := template.Must(template.New("page").Funcs(a.FuncMap()).Parse(
		`<link rel="stylesheet" href="{{asset "css/site.css"}}">
<script src="{{asset "js/app.js"}}" integrity="{{integrity "js/app.js"}}"></script>
`))
	if err := page.Execute(os.Stdout, nil); err != nil {
		panic(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/assets/", a)
	u, _ := a.URL("js/app.js")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", u, nil))
	fmt.Println(w.Code, w.Header().Get("Cache-Control"))

	// html/template writes "+" in an attribute as "&#43;"; browsers read it
	// back as "+" before checking integrity.

	// Output:
	// <link rel="stylesheet" href="/assets/css/site.b4d5deb2f19a.css">
	// <script src="/assets/js/app.5e39b3fff923.js" integrity="sha384-eEqgsNuDqSzbarn2kIY7c4WH6zkoJrjJRQIhlYgVwRR&#43;6Eb8tkfTItTNLlIjbE3O"></script>
	// 200 public, max-age=31536000, immutable
}

// A rolling deploy: build 2 keeps serving the URLs build 1's pages hold,
// with build 1's bytes, while its own pages link the new ones.
func ExampleOptions_previous() {
	v1 := fstest.MapFS{"app.js": {Data: []byte("v1\n")}}
	v2 := fstest.MapFS{"app.js": {Data: []byte("v2\n")}}

	// At build 1: persist the manifest beside the files
	// (assets.WriteManifest to static/manifest.json).
	b1, _ := assets.New(v1, assets.Options{})
	m1 := b1.Manifest()
	old, _ := b1.URL("app.js")

	// At build 2: ship build 1's files and manifest too (say, as
	// previous/ in the same embed.FS) and name them.
	b2, err := assets.New(v2, assets.Options{Previous: []assets.Build{{Manifest: &m1, FS: v1}}})
	if err != nil {
		panic(err)
	}
	cur, _ := b2.URL("app.js")
	for _, u := range []string{old, cur} {
		w := httptest.NewRecorder()
		b2.ServeHTTP(w, httptest.NewRequest("GET", u, nil))
		fmt.Print(u, " ", w.Code, " ", w.Body.String())
	}
	// Output:
	// /assets/app.2d27fbdf4e8c.js 200 v1
	// /assets/app.81db67b6a570.js 200 v2
}
