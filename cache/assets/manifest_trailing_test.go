package assets_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/cache/assets"
)

// A manifest file is one JSON value: two manifests concatenated (a release
// script appending instead of replacing) or a value followed by junk is
// refused, not read as its first value.
func TestReadManifestRejectsTrailingData(t *testing.T) {
	a := mustNew(t, site(t), assets.Options{})
	var buf bytes.Buffer
	if err := assets.WriteManifest(&buf, a.Manifest()); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	if _, err := assets.ReadManifest(strings.NewReader(good + "\n \t\n")); err != nil {
		t.Fatalf("trailing whitespace: %v", err)
	}
	for name, s := range map[string]string{
		"two manifests": good + good,
		"junk":          good + "garbage",
		"truncated":     good[:len(good)/2],
	} {
		if _, err := assets.ReadManifest(strings.NewReader(s)); !errors.Is(err, assets.ErrInvalidManifest) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
