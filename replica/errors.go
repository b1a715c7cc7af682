package replica

import "errors"

var (
	// ErrInvalidOptions is wrapped by every configuration error.
	ErrInvalidOptions = errors.New("replica: invalid options")
	// ErrNoPrimary is returned by writes while no node may take them: the
	// primary was fenced (it reported an older timeline than another node)
	// or demoted and no new primary has been found yet.
	ErrNoPrimary = errors.New("replica: no primary")
	// ErrRoleMismatch is returned by [Router.Check] when a node configured as a
	// replica says it is a primary, or the configured primary says it is a replica.
	ErrRoleMismatch = errors.New("replica: role mismatch")
	// ErrPanic is wrapped by the error that stands for a panic in
	// Options.Positions: the call counts as failed, the process lives.
	ErrPanic = errors.New("replica: panic in Positions")
	// ErrClosed is returned by a closed router.
	ErrClosed = errors.New("replica: router closed")
)
