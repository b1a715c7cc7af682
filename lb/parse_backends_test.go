package lb_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/lb"
)

// A backend URL is refused with credentials, and the error, which
// startup code logs, does not repeat the password it refuses.
func TestParseBackendsErrorHidesPassword(t *testing.T) {
	for _, raw := range []string{
		"http://user:s3cret@backend:8080/api",
		"ftp://user:s3cret@backend/",
		"http://user:s3cret@backend:port/", // unparsable port
		"//user:s3cret@backend/",           // no scheme
		"http://user:s3cret@[::1/",         // unparsable host
		"user:s3cret@backend:8080",         // no scheme: parsed as scheme "user"
		"http://backend/?token=s3cret\x7f", // control character
	} {
		_, err := lb.ParseBackends("http://ok:1", raw)
		if !errors.Is(err, lb.ErrInvalidOptions) {
			t.Errorf("%q: %v, want ErrInvalidOptions", raw, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "s3cret") || !strings.Contains(msg, "backend 1") {
			t.Errorf("%q: error %q shows the secret or does not name the backend", raw, msg)
		}
	}
}
