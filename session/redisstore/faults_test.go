package redisstore_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session"
)

// faultHook lets a test act on the script calls a Renew makes: fault is called with the
// command's arguments and the rest of the chain, and does what a faulty network would.
type faultHook struct {
	fault func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error
}

func (h faultHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h faultHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h faultHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		name := strings.ToLower(cmd.Name())
		if name != "evalsha" && name != "eval" {
			return next(ctx, cmd)
		}
		return h.fault(ctx, cmd.Args(), next, cmd)
	}
}

// Script arguments: {evalsha|eval, sha|source, 1, key, ARGV…}.
func isSeal(args []any, newKey string) bool { return len(args) == 7 && args[5] == newKey }

func isFreeze(args []any, newKey string) bool { return len(args) == 6 && args[4] == newKey }

func isCopy(args []any, prefix, newKey string) bool {
	return len(args) >= 8 && args[3] == prefix+"{session:"+newKey+"}"
}

// faultEnv opens a store whose client runs fault on every script call.
func faultEnv(t *testing.T, fault func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error) (session.Store, *redis.Client, string) {
	srv := testenv.Redis(t)
	c := srv.Client(t)
	c.AddHook(faultHook{fault: fault})
	return openStore(t, c, srv.Prefix), c, srv.Prefix
}

// lostReply is what go-redis reports when a command's reply does not arrive in time: the
// command may well have run.
var lostReply = &net.OpError{Op: "read", Net: "tcp", Err: errors.New("i/o timeout")}

// runTwice is a fault that runs the script calls matching match twice, as go-redis does
// when it resends a command whose reply timed out.
func runTwice(match func(args []any) bool) func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error {
	return func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error {
		if match(args) {
			if err := next(ctx, cmd); err != nil {
				return err
			}
		}
		return next(ctx, cmd)
	}
}
