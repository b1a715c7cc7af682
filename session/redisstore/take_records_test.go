package redisstore_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/sessiontest"
)

// What a Take keeps for its resend stays out of the session's hash, which every Load
// reads whole, and lives only as long as a resend can come: a session that had flash
// messages of 60 KiB put and popped 20 times made each later Load read ~1 MB (16 kept
// values) for the rest of its life, and Redis held them as long.
func TestTakeRecordsStayOutOfTheSession(t *testing.T) {
	srv := testenv.Redis(t)
	c := srv.Client(t)
	s := openStore(t, c, srv.Prefix)
	key := sessiontest.Key()
	create(t, s, key, map[string][]byte{"x": []byte("1")})
	big := bytes.Repeat([]byte("a"), 60<<10)
	for range 20 {
		if err := s.Apply(t.Context(), key, session.Update{Set: map[string][]byte{"flash": big}, MaxSize: 64 << 10}); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Take(t.Context(), key, "flash"); err != nil || len(v) != len(big) {
			t.Fatalf("Take: %d bytes, %v", len(v), err)
		}
	}
	h, err := c.HGetAll(t.Context(), srv.Prefix+"{session:"+key+"}").Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for f, v := range h {
		n += len(f) + len(v)
	}
	if n > 1<<10 {
		t.Errorf("the session's hash (what Load reads) holds %d bytes in %d fields for one 1-byte value", n, len(h))
	}
	// The records left for resends (one per take) expire, within a minute.
	keys, err := c.Keys(t.Context(), srv.Prefix+"{session:"+key+"}*").Result()
	if err != nil {
		t.Fatal(err)
	}
	records := 0
	for _, k := range keys {
		if k == srv.Prefix+"{session:"+key+"}" {
			continue
		}
		records++
		if ttl, err := c.PTTL(t.Context(), k).Result(); err != nil || ttl <= 0 || ttl > time.Minute {
			t.Errorf("take record %q: TTL %v, %v; want ≤ 1m", k, ttl, err)
		}
	}
	if records != 20 {
		t.Errorf("%d take records, want 20 (each take's, for a resend within the minute)", records)
	}
}
