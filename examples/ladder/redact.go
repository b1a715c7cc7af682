package main

import (
	"net/url"
	"regexp"
	"strings"
)

// redactArgs masks the passwords of the DSNs among a stage's flags before
// they are printed (log, report): a report is shared, a password is not.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if i > 0 && strings.HasPrefix(args[i-1], "-pg") {
			out[i] = redactDSN(a)
		}
	}
	return out
}

var kvPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// redactDSN masks a password in a URL DSN (user:pw@, ?password=) or a
// keyword/value one (password=pw).
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
}
