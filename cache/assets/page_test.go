package assets_test

import (
	"html/template"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/cache/assets"
)

const pageTmpl = `<link rel="stylesheet" href="{{asset "css/site.css"}}">
<script src="{{asset "js/app.js"}}" integrity="{{integrity "js/app.js"}}"></script>
<script src="{{asset "old.js"}}"></script>`

func renderPage(t *testing.T, a *assets.Assets) string {
	t.Helper()
	tmpl := template.Must(template.New("page").Funcs(a.FuncMap()).Parse(pageTmpl))
	var b strings.Builder
	if err := tmpl.Execute(&b, nil); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// An unknown name fails the template's execution with an error naming it:
// never a silent broken link.
func TestTemplateUnknownAsset(t *testing.T) {
	a := mustNew(t, site(t), assets.Options{})
	for _, fn := range []string{"asset", "integrity"} {
		tmpl := template.Must(template.New("p").Funcs(a.FuncMap()).Parse(`<script src="{{` + fn + ` "js/missing.js"}}"></script>`))
		err := tmpl.Execute(new(strings.Builder), nil)
		if err == nil || !strings.Contains(err.Error(), `assets: unknown asset: "js/missing.js"`) {
			t.Errorf("%s: %v", fn, err)
		}
	}
}
