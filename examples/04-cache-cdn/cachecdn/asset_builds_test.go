package cachecdn

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Build 2 changes style.css and app.js, so their hashed names change, and
// keeps logo.svg; with Previous it still serves build 1's names, without it
// it answers them 404.
func TestBuildTwoChangesHashesAndKeepsTheOldOnes(t *testing.T) {
	one, err := newAssets(1, false, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	for _, previous := range []bool{true, false} {
		two, err := newAssets(2, previous, slog.Default())
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name    string
			changed bool
		}{{"style.css", true}, {"app.js", true}, {"logo.svg", false}} {
			u1, err1 := one.URL(tc.name)
			u2, err2 := two.URL(tc.name)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if (u1 != u2) != tc.changed {
				t.Errorf("%s: build 1 %s, build 2 %s; want changed=%v", tc.name, u1, u2, tc.changed)
			}
			rec := httptest.NewRecorder()
			two.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u1, nil))
			want := http.StatusOK
			if tc.changed && !previous {
				want = http.StatusNotFound
			}
			if rec.Code != want {
				t.Errorf("previous=%v: build 2 answers build 1's %s with %d, want %d", previous, u1, rec.Code, want)
			}
		}
		two.Close()
	}
}
