package redisstore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/session/sessiontest"
)

// A Renew that fails cleans up after itself (releases its lease, removes its copy) even
// when its ctx has ended, but under a bound of its own: with Redis stopped (SIGSTOP), a
// Renew under a 300 ms ctx returned after 5.3 s, its cleanup waiting out go-redis's read
// timeouts and retries without any deadline, so StoreTimeout did not bound a login. Every
// command a failing Renew sends must carry a deadline.
func TestRenewCleanupIsBounded(t *testing.T) {
	for name, lose := range map[string]func(args []any, prefix, newKey string) bool{
		"copy reply lost": func(args []any, prefix, newKey string) bool { return isCopy(args, prefix, newKey) },
		"seal reply lost": func(args []any, _, newKey string) bool { return isSeal(args, newKey) },
	} {
		t.Run(name, func(t *testing.T) {
			oldKey, newKey := sessiontest.Key(), sessiontest.Key()
			var mu sync.Mutex
			var unbounded []string
			var renewing atomic.Bool
			var prefix string
			s, _, p := faultEnv(t, func(ctx context.Context, args []any, next redis.ProcessHook, cmd redis.Cmder) error {
				if _, ok := ctx.Deadline(); !ok && renewing.Load() {
					mu.Lock()
					unbounded = append(unbounded, cmd.String())
					mu.Unlock()
				}
				if err := next(ctx, cmd); err != nil {
					return err
				}
				if lose(args, prefix, newKey) {
					return lostReply
				}
				return nil
			})
			prefix = p
			create(t, s, oldKey, map[string][]byte{"a": []byte("1")})
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			renewing.Store(true)
			_ = s.Renew(ctx, oldKey, newKey, time.Now().Add(time.Hour), time.Minute)
			mu.Lock()
			defer mu.Unlock()
			for _, c := range unbounded {
				t.Errorf("a Renew sent a command without a deadline: %.120s", c)
			}
		})
	}
}
