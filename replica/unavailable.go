package replica

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
)

// unavailable reports whether err says the node could not be reached or
// went away (as opposed to an error of the query itself), so that the node
// leaves the rotation and a read is sent elsewhere. A cancelled or expired
// context of the caller is never the node's fault.
func unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	// SQLSTATE class 08 (connection exception) and 57P01–57P03 (the server
	// shutting down or starting): PostgreSQL drivers expose it as SQLState.
	var st interface{ SQLState() string }
	if errors.As(err, &st) {
		c := st.SQLState()
		return strings.HasPrefix(c, "08") || c == "57P01" || c == "57P02" || c == "57P03"
	}
	// pgx reports a connection that is gone as "conn closed", and a dial
	// failure as a *pgconn.ConnectError that may wrap neither of the above.
	var retry interface{ SafeToRetry() bool }
	if errors.As(err, &retry) && retry.SafeToRetry() {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "failed to connect")
}
